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

const isText = (v: unknown): boolean => typeof v === 'string';
const isTextOrNull = (v: unknown): boolean => v === null || v === undefined || typeof v === 'string';
const isInt32 = (v: unknown): boolean => typeof v === 'number' && (v | 0) === v;
const isInt32OrNull = (v: unknown): boolean => v === null || v === undefined || (typeof v === 'number' && (v | 0) === v);
const isInt64 = (v: unknown): boolean => Number.isSafeInteger(v);
const isInt64OrNull = (v: unknown): boolean => v === null || v === undefined || Number.isSafeInteger(v);
const isBoolOrNull = (v: unknown): boolean => v === null || v === undefined || typeof v === 'boolean';

/**
 * `rowProblem(row) === null`, column by column by name: the same checks as `fitsKind`,
 * written out so that each is a property load and a comparison or two. The generic loop
 * reads each column by a computed name and dispatches on its kind, which cost about as much
 * as `JSON.stringify` of the row on a feature worker. A test checks that the two agree.
 * Every column is checked, computed ones included: the check is a comparison, and the row
 * may come from elsewhere than the feature function.
 */
export function rowFits(r: ExchangeFeatures): boolean {
  return (
    isText(r.id) && isInt64(r.ts) && isText(r.account_id) && isTextOrNull(r.org_id) && isTextOrNull(r.api_key_id) &&
    isText(r.model) && isTextOrNull(r.conversation_id) && isTextOrNull(r.ip) && isTextOrNull(r.subnet) &&
    isInt64OrNull(r.asn) && isTextOrNull(r.country) && isTextOrNull(r.user_agent) && isTextOrNull(r.tier) &&
    isInt64OrNull(r.account_created_at) && isTextOrNull(r.payment_fp) && isTextOrNull(r.email_domain) &&
    isBoolOrNull(r.verified) && isInt32(r.n_messages) && isInt32(r.n_user_turns) && isInt32(r.n_tool_results) &&
    isInt32(r.n_tools) && isText(r.tools_sig) && isText(r.system_sig) && isText(r.harness_sig) &&
    isText(r.template_prefix) && isText(r.template_suffix) && isText(r.template_simhash) && isText(r.prompt_hash) &&
    isText(r.phrase_sigs) && isInt32(r.prompt_chars) && isText(r.capability) &&
    typeof r.elicitation === 'number' && Number.isFinite(r.elicitation) && typeof r.grading === 'boolean' &&
    isInt64OrNull(r.max_tokens) && isInt64OrNull(r.thinking_budget) && isBoolOrNull(r.stream) &&
    isInt64OrNull(r.input_tokens) && isInt64OrNull(r.output_tokens) && isInt64OrNull(r.reasoning_tokens) &&
    isInt32OrNull(r.status) && isTextOrNull(r.prompt_preview)
  );
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
  if (!rowFits(row)) return { problem: rowProblem(row, index) ?? 'Cannot store a row that fails its check but names no column' };
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
