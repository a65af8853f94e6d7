/**
 * The fixed objects every DistillWatch bundle refers to: the distillation-mark extension,
 * the MITRE ATLAS techniques, and the TLP 2.0 marking definitions. Their ids never change, so
 * partners can key on them across bundles and exports.
 */
import { stixId } from './uuid5.js';

export const SPEC_VERSION = '2.1';

/** The identity that publishes the extension (the project itself), whoever exports a bundle. */
export const DISTILLWATCH_IDENTITY = {
  type: 'identity',
  spec_version: SPEC_VERSION,
  id: stixId('identity', 'DistillWatch'),
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  name: 'DistillWatch',
  identity_class: 'system',
  description: 'Open-source detector of distillation campaigns against LLM APIs; publisher of the distillation-mark extension.',
} as const;

/** The custom observable type carrying what only a model API provider sees of a distiller. */
export const MARK_TYPE = 'distillation-mark';

/** The kinds of mark, as written in a pattern's `distillation-mark:kind`. */
export const MARK_KINDS = ['harness', 'system-prompt', 'template', 'payment-fingerprint'] as const;
export type MarkKind = (typeof MARK_KINDS)[number];

/**
 * The extension-definition of `distillation-mark` (a new SCO). Its id is derived from its name
 * and version, so it is the same in every bundle: a partner's tooling recognises it by id.
 */
export const MARK_EXTENSION = {
  type: 'extension-definition',
  spec_version: SPEC_VERSION,
  id: stixId('extension-definition', `${MARK_TYPE}/1.0`),
  created_by_ref: DISTILLWATCH_IDENTITY.id,
  created: '2026-01-01T00:00:00.000Z',
  modified: '2026-01-01T00:00:00.000Z',
  name: MARK_TYPE,
  description:
    'A mark a distillation harness leaves in the requests it sends to an LLM API, as seen by the provider: the client fingerprint (harness), an injected system prompt, a prompt template, or a payment fingerprint.',
  schema:
    "A cyber observable of type 'distillation-mark' with two properties. kind (string, required): one of 'harness' (hash of the client's SDK, parameters and tool set), 'system-prompt' (hash of a fixed injected system prompt), 'template' (hash of a prompt wrapper's masked prefix or suffix), 'payment-fingerprint' (the payment processor's fingerprint of a payment method). value (string, required): the hash or fingerprint, lower-case hexadecimal or the processor's token. The hashes are those of DistillWatch's signals (docs/intel.md), so two providers running it compute the same value for the same harness.",
  version: '1.0',
  extension_types: ['new-sco'],
} as const;

/** MITRE ATLAS techniques a distillation campaign uses. */
export const ATLAS_TECHNIQUES = [
  {
    externalId: 'AML.T0024',
    name: 'Exfiltration via AI Inference API',
    description: 'Exfiltrating information about the AI model, its training data or its abilities through its inference API.',
  },
  {
    externalId: 'AML.T0024.002',
    name: 'Extract AI Model',
    description: 'Harvesting the outputs of a model through its inference API to train a functionally equivalent model (distillation).',
  },
] as const;

export function attackPatternId(externalId: string): string {
  return stixId('attack-pattern', `mitre-atlas:${externalId}`);
}

export const TLP_LEVELS = ['clear', 'green', 'amber', 'amber+strict', 'red'] as const;
export type TlpLevel = (typeof TLP_LEVELS)[number];

/** The TLP 2.0 extension for STIX 2.1 (OASIS), and its marking definitions' fixed ids. */
export const TLP2_EXTENSION_ID = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';
const TLP2_IDS: Record<TlpLevel, string> = {
  clear: 'marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487',
  green: 'marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb',
  amber: 'marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421',
  'amber+strict': 'marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003',
  red: 'marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1',
};

export function tlpMarking(level: TlpLevel) {
  return {
    type: 'marking-definition',
    spec_version: SPEC_VERSION,
    id: TLP2_IDS[level],
    created: '2022-10-01T00:00:00.000Z',
    name: `TLP:${level.toUpperCase()}`,
    extensions: { [TLP2_EXTENSION_ID]: { extension_type: 'property-extension', tlp_2_0: level } },
  };
}
