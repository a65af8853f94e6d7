/**
 * A scan's flagged campaigns as a STIX 2.1 bundle, for sharing with other providers: per
 * campaign a `campaign`, `indicator`s for its networks, clients and distillation marks, the
 * MITRE ATLAS techniques it uses, the relationships between them, and a `report` tying them,
 * all under one TLP marking. Pure: the same report gives the same bundle, byte for byte, so a
 * re-export gives partners the same objects (every id is a UUIDv5 of what the object says).
 */
import { isIP } from 'node:net';
import type { CampaignReport, ScanReport } from '../core/report.js';
import { parsePattern, quote } from './pattern.js';
import { ATLAS_TECHNIQUES, attackPatternId, DISTILLWATCH_IDENTITY, MARK_EXTENSION, MARK_TYPE, SPEC_VERSION, tlpMarking, type MarkKind, type TlpLevel } from './vocabulary.js';
import { stixId } from './uuid5.js';

/** One STIX object as written: an id, a type, and the properties the specification gives it. */
export type StixObject = { type: string; id: string } & Record<string, unknown>;

export interface StixBundle {
  type: 'bundle';
  id: string;
  objects: StixObject[];
}

export interface ExportOptions {
  /** Only this campaign (its id in the report); every flagged campaign when absent. */
  campaign?: string;
  /** @default 'amber' */
  tlp?: TlpLevel;
  /** The name of the organisation that shares the bundle (its `identity`). @default 'DistillWatch' */
  producer?: string;
}

export type ExportResult = { ok: true; bundle: StixBundle; campaigns: number; indicators: number } | { ok: false; error: string };

/** What one indicator says, before it becomes an object. */
interface IndicatorSpec {
  name: string;
  pattern: string;
}

const CAPABILITY_SHARE_MIN = 0.05;

export function exportBundle(report: ScanReport, opts: ExportOptions = {}): ExportResult {
  const tlp = opts.tlp ?? 'amber';
  const producerName = opts.producer ?? DISTILLWATCH_IDENTITY.name;
  const campaigns = opts.campaign === undefined ? report.campaigns : report.campaigns.filter((c) => c.id === opts.campaign);
  if (campaigns.length === 0) {
    return {
      ok: false,
      error: opts.campaign === undefined ? 'Nothing to export: the latest scan flagged no campaign' : `Cannot export campaign "${opts.campaign}": the latest scan has ${report.campaigns.length === 0 ? 'no campaigns' : `only ${report.campaigns.map((c) => `"${c.id}"`).join(', ')}`}`,
    };
  }
  const marking = tlpMarking(tlp);
  const markingRefs = [marking.id];
  const producer: StixObject =
    producerName === DISTILLWATCH_IDENTITY.name
      ? { ...DISTILLWATCH_IDENTITY }
      : { ...DISTILLWATCH_IDENTITY, id: stixId('identity', producerName), name: producerName, identity_class: 'organization', description: 'The provider that shares these indicators.' };
  const common = { spec_version: SPEC_VERSION, created_by_ref: producer.id, object_marking_refs: markingRefs };

  const techniques: StixObject[] = ATLAS_TECHNIQUES.map((t) => ({
    type: 'attack-pattern',
    id: attackPatternId(t.externalId),
    ...common,
    created_by_ref: DISTILLWATCH_IDENTITY.id,
    created: '2026-01-01T00:00:00.000Z',
    modified: '2026-01-01T00:00:00.000Z',
    name: t.name,
    description: t.description,
    external_references: [{ source_name: 'mitre-atlas', external_id: t.externalId, url: `https://atlas.mitre.org/techniques/${t.externalId}` }],
  }));
  const [parent, child] = techniques as [StixObject, StixObject];
  const objects: StixObject[] = [marking, DISTILLWATCH_IDENTITY as unknown as StixObject, MARK_EXTENSION as unknown as StixObject, ...techniques];
  if (producer.id !== DISTILLWATCH_IDENTITY.id) objects.splice(2, 0, producer);
  objects.push(relationship(child, 'subtechnique-of', parent, { ...common, created_by_ref: DISTILLWATCH_IDENTITY.id }, '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z'));

  let indicators = 0;
  let published = '1970-01-01T00:00:00.000Z';
  for (const c of campaigns) {
    const key = `${producerName}/${c.id}/${c.first_seen}`;
    const created = c.first_flagged_at ?? c.first_seen;
    const modified = c.last_seen > created ? c.last_seen : created;
    if (modified > published) published = modified;
    const confidence = Math.round(c.confidence * 100);
    const campaign: StixObject = {
      type: 'campaign',
      id: stixId('campaign', key),
      ...common,
      created,
      modified,
      name: `Distillation campaign ${c.id}`,
      description: c.explanation,
      first_seen: c.first_seen,
      last_seen: c.last_seen,
      objective: objectiveOf(c),
      confidence,
      labels: ['distillation', ...c.tactics],
    };
    objects.push(campaign);
    for (const t of techniques) objects.push(relationship(campaign, 'uses', t, common, created, modified));
    for (const spec of indicatorSpecs(c)) {
      const parsed = parsePattern(spec.pattern);
      // A bug, not bad input: every pattern built here must be valid.
      if (!parsed.ok) throw new Error(`Built an invalid STIX pattern ${spec.pattern}: ${parsed.error}`);
      const indicator: StixObject = {
        type: 'indicator',
        id: stixId('indicator', `${key}/${spec.pattern}`),
        ...common,
        created,
        modified,
        name: spec.name,
        indicator_types: ['malicious-activity', 'attribution'],
        pattern: spec.pattern,
        pattern_type: 'stix',
        pattern_version: '2.1',
        valid_from: c.first_seen,
        confidence,
      };
      objects.push(indicator, relationship(indicator, 'indicates', campaign, common, created, modified));
      indicators++;
    }
  }
  const refs = objects.filter((o) => o.type !== 'marking-definition' && o.type !== 'extension-definition').map((o) => o.id);
  objects.push({
    type: 'report',
    id: stixId('report', `${producerName}/${campaigns.map((c) => `${c.id}/${c.first_seen}`).join(',')}`),
    ...common,
    created: published,
    modified: published,
    name: `Distillation campaigns seen by ${producerName}`,
    description: `${campaigns.length} distillation campaign${campaigns.length === 1 ? '' : 's'} against an LLM API, with ${indicators} indicators. Patterns on ${MARK_TYPE} use the extension ${MARK_EXTENSION.id}.`,
    report_types: ['campaign', 'indicator', 'attack-pattern'],
    published,
    object_refs: refs,
  });
  const bundle: StixBundle = { type: 'bundle', id: stixId('bundle', objects.map((o) => o.id).sort().join(',')), objects };
  return { ok: true, bundle, campaigns: campaigns.length, indicators };
}

function relationship(from: StixObject, type: string, to: StixObject, common: Record<string, unknown>, created: string, modified: string): StixObject {
  return {
    type: 'relationship',
    id: stixId('relationship', `${from.id}/${type}/${to.id}`),
    ...common,
    created,
    modified,
    relationship_type: type,
    source_ref: from.id,
    target_ref: to.id,
  };
}

/** The capabilities targeted, as the campaign's objective: "Harvest coding (41%), math (30%)". */
function objectiveOf(c: CampaignReport): string {
  const caps = Object.entries(c.capabilities)
    .filter(([, v]) => (v ?? 0) >= CAPABILITY_SHARE_MIN)
    .sort((a, b) => (b[1] ?? 0) - (a[1] ?? 0))
    .map(([k, v]) => `${k} (${Math.round((v ?? 0) * 100)}%)`);
  return `Harvest the model's abilities to train another model: ${caps.length > 0 ? caps.join(', ') : 'mixed capabilities'}`;
}

/**
 * The campaign's indicators as patterns. Hashed addresses (a store written with an IP hash
 * key) are left out: a keyed hash means nothing to a partner without the key.
 */
function indicatorSpecs(c: CampaignReport): IndicatorSpec[] {
  const out: IndicatorSpec[] = [];
  const ind = c.indicators;
  for (const ip of ind.ips) {
    const v = isIP(ip);
    if (v !== 0) out.push({ name: `address ${ip}`, pattern: `[ipv${v}-addr:value = ${quote(ip)}]` });
  }
  for (const subnet of ind.subnets) {
    const [net, bits] = subnet.split('/');
    const v = net ? isIP(net) : 0;
    if (v !== 0 && bits !== undefined && /^\d{1,3}$/.test(bits)) out.push({ name: `network ${subnet}`, pattern: `[ipv${v}-addr:value ISSUBSET ${quote(subnet)}]` });
  }
  for (const asn of ind.asns) out.push({ name: `autonomous system AS${asn}`, pattern: `[autonomous-system:number = ${asn}]` });
  for (const ua of ind.user_agents) out.push({ name: `user agent ${ua}`, pattern: `[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = ${quote(ua)}]` });
  const mark = (kind: MarkKind, value: string): IndicatorSpec => ({ name: `${kind} ${value}`, pattern: `[${MARK_TYPE}:kind = ${quote(kind)} AND ${MARK_TYPE}:value = ${quote(value)}]` });
  for (const h of ind.harnesses) out.push(h.startsWith('system:') ? mark('system-prompt', h.slice('system:'.length)) : mark('harness', h));
  for (const t of ind.templates) out.push(mark('template', t));
  for (const p of ind.payment_fingerprints) out.push(mark('payment-fingerprint', p));
  return out;
}
