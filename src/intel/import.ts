/**
 * Reads another provider's STIX 2.1 bundle into indicator records: each `indicator` with a
 * STIX pattern, where it came from (bundle and producer identity), its confidence, and the
 * engine key it matches when its pattern names a distillation mark, an address or a network.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { IntelIndicatorRecord } from '../store/store.js';
import { equalityAlternatives, parsePattern, type Literal } from './pattern.js';
import { MARK_TYPE, type MarkKind } from './vocabulary.js';

const IndicatorSchema = z.looseObject({
  type: z.literal('indicator'),
  id: z.string().regex(/^indicator--[0-9a-f-]{36}$/i),
  pattern: z.string(),
  pattern_type: z.string(),
  confidence: z.number().int().min(0).max(100).optional(),
  valid_from: z.string().optional(),
  created_by_ref: z.string().optional(),
});

const BundleSchema = z.looseObject({
  type: z.literal('bundle'),
  id: z.string().regex(/^bundle--[0-9a-f-]{36}$/i),
  objects: z.array(z.looseObject({ type: z.string(), id: z.string() })),
});

export interface ImportedBundle {
  bundleId: string;
  records: IntelIndicatorRecord[];
  /** Indicators read, and those set aside with why (a pattern that does not parse, a pattern language other than STIX). */
  indicators: number;
  skipped: { id: string; reason: string }[];
}

export type ImportResult = { ok: true; value: ImportedBundle } | { ok: false; error: string };

const MARK_KEY_KIND: Record<MarkKind, string> = { harness: 'harness', 'system-prompt': 'system', template: 'template', 'payment-fingerprint': 'payment' };

/** Parses a bundle's JSON text; `where` names it in errors (the file's path). */
export function readBundle(text: string, where: string): ImportResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `Cannot read "${where}": not JSON (${(e as Error).message})` };
  }
  const b = BundleSchema.safeParse(json);
  if (!b.success) {
    const issue = b.error.issues[0];
    return { ok: false, error: `Cannot read "${where}": not a STIX 2.1 bundle ("${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'invalid'})` };
  }
  const identities = new Map<string, string>();
  for (const o of b.data.objects) if (o.type === 'identity' && typeof o['name'] === 'string') identities.set(o.id, o['name']);
  const records: IntelIndicatorRecord[] = [];
  const skipped: ImportedBundle['skipped'] = [];
  let indicators = 0;
  b.data.objects.forEach((o, i) => {
    if (o.type !== 'indicator') return;
    indicators++;
    const ind = IndicatorSchema.safeParse(o);
    if (!ind.success) {
      const issue = ind.error.issues[0];
      skipped.push({ id: o.id, reason: `object ${i + 1}: "${issue?.path.join('.') ?? ''}" ${issue?.message ?? 'invalid'}` });
      return;
    }
    const x = ind.data;
    if (x.pattern_type !== 'stix') {
      skipped.push({ id: x.id, reason: `pattern_type "${x.pattern_type}" (only "stix" is read)` });
      return;
    }
    const parsed = parsePattern(x.pattern);
    if (!parsed.ok) {
      skipped.push({ id: x.id, reason: `pattern does not parse: ${parsed.error}` });
      return;
    }
    const producer = x.created_by_ref ? (identities.get(x.created_by_ref) ?? x.created_by_ref) : 'unknown producer';
    const keys = new Set<string>();
    for (const alt of equalityAlternatives(parsed.pattern)) {
      const key = keyOf(alt);
      if (key) keys.add(key);
    }
    const base = { bundleId: b.data.id, producer, indicatorId: x.id, pattern: x.pattern, confidence: x.confidence ?? null, validFrom: x.valid_from ?? null };
    if (keys.size === 0) records.push({ ...base, key: null });
    for (const key of [...keys].sort()) records.push({ ...base, key });
  });
  return { ok: true, value: { bundleId: b.data.id, records, indicators, skipped } };
}

const str = (l: Literal | undefined): string | null => (l?.kind === 'string' ? l.value : null);

/** The engine's indicator key for one set of equalities, or null when it names nothing the engine keys on. */
function keyOf(alt: Map<string, Literal>): string | null {
  const kind = str(alt.get(`${MARK_TYPE}:kind`));
  const value = str(alt.get(`${MARK_TYPE}:value`));
  if (kind !== null && value !== null && kind in MARK_KEY_KIND) return `${MARK_KEY_KIND[kind as MarkKind]}:${value}`;
  for (const v of ['ipv4-addr', 'ipv6-addr']) {
    const ip = str(alt.get(`${v}:value`));
    if (ip !== null && isIP(ip) !== 0) return `ip:${ip}`;
    // A CIDR compared with `=` (common in published bundles) is a network.
    if (ip !== null && /^[0-9a-fA-F:.]+\/\d{1,3}$/.test(ip)) return `subnet:${ip}`;
    const net = str(alt.get(`${v}:value ISSUBSET`));
    if (net !== null) return `subnet:${net}`;
  }
  return null;
}
