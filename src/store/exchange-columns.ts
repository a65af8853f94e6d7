/**
 * The stored exchange row: each column's kind, the check of a value against it, and the
 * row encoded as one JSON string. Pure, so that feature workers check and encode rows where
 * they are computed and hand the store's thread one string a row instead of forty values
 * (a structured clone of forty fields, then forty appender calls, cost more than the row's
 * features on the scan's thread).
 */
import type { ExchangeFeatures } from '../core/features.js';
import type { EncodedExchange } from './store.js';

// The exchanges table, derived from ExchangeFeatures so that the compiler notices a field
// added to the interface and not to the table, or a column whose nullability is wrong.

export type Kind = 'text' | 'text?' | 'int32' | 'int32?' | 'int64' | 'int64?' | 'float' | 'bool' | 'bool?';
type RequiredKind<T> = T extends string ? 'text' : T extends number ? 'int32' | 'int64' | 'float' : T extends boolean ? 'bool' : never;
type NullableKind<T> = T extends string ? 'text?' : T extends number ? 'int32?' | 'int64?' : T extends boolean ? 'bool?' : never;
type KindOf<T> = null extends T ? NullableKind<NonNullable<T>> : RequiredKind<T>;

// Counts and ms times are BIGINT: exact for every safe integer and as fast to sort as a
// TIMESTAMP, and `ts` needs no conversion on its way back to a JS number.
export const EXCHANGE_COLUMNS: { readonly [K in keyof ExchangeFeatures]-?: KindOf<ExchangeFeatures[K]> } = {
  id: 'text',
  ts: 'int64',
  account_id: 'text',
  org_id: 'text?',
  api_key_id: 'text?',
  model: 'text',
  conversation_id: 'text?',
  ip: 'text?',
  subnet: 'text?',
  asn: 'int64?',
  country: 'text?',
  user_agent: 'text?',
  tier: 'text?',
  account_created_at: 'int64?',
  payment_fp: 'text?',
  email_domain: 'text?',
  verified: 'bool?',
  n_messages: 'int32',
  n_user_turns: 'int32',
  n_tool_results: 'int32',
  n_tools: 'int32',
  tools_sig: 'text',
  system_sig: 'text',
  harness_sig: 'text',
  template_prefix: 'text',
  template_suffix: 'text',
  template_simhash: 'text',
  prompt_hash: 'text',
  phrase_sigs: 'text',
  prompt_chars: 'int32',
  capability: 'text',
  elicitation: 'float',
  grading: 'bool',
  max_tokens: 'int64?',
  thinking_budget: 'int64?',
  stream: 'bool?',
  input_tokens: 'int64?',
  output_tokens: 'int64?',
  reasoning_tokens: 'int64?',
  status: 'int32?',
  prompt_preview: 'text?',
};

export const EXCHANGE_NAMES = Object.keys(EXCHANGE_COLUMNS) as (keyof ExchangeFeatures)[];
export const EXCHANGE_KINDS = EXCHANGE_NAMES.map((n) => EXCHANGE_COLUMNS[n] as Kind);

const EXPECTED: Record<Kind, string> = {
  text: 'a string',
  'text?': 'a string or null',
  int32: 'a whole number below 2^31',
  'int32?': 'a whole number below 2^31 or null',
  int64: 'a whole number below 2^53',
  'int64?': 'a whole number below 2^53 or null',
  float: 'a finite number',
  bool: 'true or false',
  'bool?': 'true, false or null',
};

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'missing';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'number') return String(v);
  return `a ${typeof v}`;
}

/** Whether `v` fits a column of this kind (null only where the column allows it). */
export function fitsKind(kind: Kind, v: unknown): boolean {
  if (v === null || v === undefined) return kind.endsWith('?');
  switch (kind) {
    case 'text':
    case 'text?':
      return typeof v === 'string';
    case 'int32':
    case 'int32?':
      return typeof v === 'number' && (v | 0) === v;
    case 'int64':
    case 'int64?':
      return Number.isSafeInteger(v);
    case 'float':
      return typeof v === 'number' && Number.isFinite(v);
    case 'bool':
    case 'bool?':
      return typeof v === 'boolean';
  }
}

/** Why a row cannot be stored (the first bad column, named), or null when it can. `index` names a row without an id. */
export function rowProblem(row: ExchangeFeatures, index: number): string | null {
  for (let c = 0; c < EXCHANGE_NAMES.length; c++) {
    const name = EXCHANGE_NAMES[c]!;
    const kind = EXCHANGE_KINDS[c]!;
    const v = (row as unknown as Record<string, unknown>)[name];
    if (!fitsKind(kind, v)) {
      const id = typeof row.id === 'string' ? `exchange "${row.id}"` : `exchange ${index + 1} of the batch`;
      return `Cannot store ${id}: "${name}" is ${describeValue(v)}, expected ${EXPECTED[kind]}`;
    }
  }
  return null;
}

/**
 * The row checked and encoded as one JSON object of exactly the stored columns, or the
 * problem that keeps it out (see rowProblem).
 *
 * @example
 * const e = encodeExchange(computeFeatures(exchange), 0);
 * if (typeof e !== 'string') throw new Error(e.problem);
 */
export function encodeExchange(row: ExchangeFeatures, index: number): EncodedExchange | { problem: string } {
  const problem = rowProblem(row, index);
  if (problem !== null) return { problem };
  // Keys the table has not are ignored by the store, and an absent key is a null, which
  // rowProblem allowed only where the column takes one.
  return JSON.stringify(row) as EncodedExchange;
}

/** An encoded row back as the object it was, every column present (absent ones null), as a replay gives it. */
export function decodeExchange(encoded: EncodedExchange): ExchangeFeatures {
  const row = JSON.parse(encoded) as Record<string, unknown>;
  for (let i = 0; i < EXCHANGE_NAMES.length; i++) if (row[EXCHANGE_NAMES[i]!] === undefined) row[EXCHANGE_NAMES[i]!] = null;
  return row as unknown as ExchangeFeatures;
}
