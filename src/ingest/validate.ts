/**
 * Validation of exchange records against the contract in core/exchange.ts.
 *
 * `ExchangeSchema` (zod) is the single source of truth. `isExchange` below is a hand-written
 * copy of the same rules because it runs on every record of every ingest: measured on
 * ~740-byte records, `ExchangeSchema.safeParse` took 57-71% of the time `JSON.parse` of the
 * line took (it copies every object it checks); this check takes 11-13%.
 * It only answers yes or no; when it says no, zod runs to produce the message, so the
 * wording of errors has one origin. A test feeds both the same valid and invalid records
 * and requires them to agree, so the copy cannot drift from the schema unnoticed.
 */
import type { z } from 'zod';
import { ExchangeSchema, type Exchange } from '../core/exchange.js';
import { err, ok, type Result } from '../core/result.js';
import { isoMs } from '../core/time.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const optString = (v: unknown): boolean => v === undefined || typeof v === 'string';
// zod's number() rejects NaN and ±Infinity; JSON cannot produce them but adapters could.
const isNum = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v);
const optNum = (v: unknown): boolean => v === undefined || isNum(v);
const optInt = (v: unknown): boolean => v === undefined || Number.isSafeInteger(v);
const optBool = (v: unknown): boolean => v === undefined || typeof v === 'boolean';
const isTimestamp = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(isoMs(v));
const nonEmpty = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

function isBlock(b: unknown): boolean {
  return (
    isObj(b) &&
    typeof b.type === 'string' &&
    optString(b.text) &&
    optString(b.name) &&
    optString(b.tool_use_id)
  );
}

function isBlocks(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isBlock(v[i])) return false;
  return true;
}

function isRequest(r: unknown): boolean {
  if (!isObj(r)) return false;
  const msgs = r.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return false;
  for (let i = 0; i < msgs.length; i++) {
    const m: unknown = msgs[i];
    if (!isObj(m) || typeof m.role !== 'string') return false;
    const c = m.content;
    if (typeof c !== 'string' && !isBlocks(c)) return false;
  }
  if (r.system !== undefined && typeof r.system !== 'string' && !isBlocks(r.system)) return false;
  if (r.tools !== undefined) {
    if (!Array.isArray(r.tools)) return false;
    for (const t of r.tools as unknown[]) {
      if (!isObj(t) || typeof t.name !== 'string' || !optString(t.description)) return false;
    }
  }
  if (!optNum(r.max_tokens) || !optNum(r.temperature) || !optBool(r.stream)) return false;
  const th = r.thinking;
  if (th !== undefined && !(isObj(th) && typeof th.type === 'string' && optNum(th.budget_tokens))) return false;
  return true;
}

function isResponse(r: unknown): boolean {
  if (!isObj(r)) return false;
  if (!optString(r.text) || !optString(r.reasoning) || !optString(r.stop_reason)) return false;
  if (r.tool_calls !== undefined) {
    if (!Array.isArray(r.tool_calls)) return false;
    for (const c of r.tool_calls as unknown[]) if (!isObj(c) || typeof c.name !== 'string') return false;
  }
  return true;
}

function isClient(c: unknown): boolean {
  return (
    isObj(c) &&
    optString(c.ip) &&
    optString(c.user_agent) &&
    optString(c.country) &&
    optInt(c.asn) &&
    optString(c.asn_org)
  );
}

function isAccount(a: unknown): boolean {
  return (
    isObj(a) &&
    (a.created_at === undefined || isTimestamp(a.created_at)) &&
    optString(a.tier) &&
    optString(a.payment_fingerprint) &&
    optString(a.email_domain) &&
    optBool(a.verified)
  );
}

function isUsage(u: unknown): boolean {
  return isObj(u) && optNum(u.input_tokens) && optNum(u.output_tokens) && optNum(u.reasoning_tokens);
}

/**
 * True when `v` satisfies `ExchangeSchema`; the same rules, checked without copying.
 * Prefer `validateExchange`, which also explains a failure.
 */
export function isExchange(v: unknown): v is Exchange {
  if (!isObj(v)) return false;
  return (
    nonEmpty(v.id) &&
    isTimestamp(v.ts) &&
    nonEmpty(v.account_id) &&
    nonEmpty(v.model) &&
    optString(v.org_id) &&
    optString(v.api_key_id) &&
    optString(v.conversation_id) &&
    isRequest(v.request) &&
    (v.client === undefined || isClient(v.client)) &&
    (v.account === undefined || isAccount(v.account)) &&
    (v.response === undefined || isResponse(v.response)) &&
    (v.usage === undefined || isUsage(v.usage)) &&
    optNum(v.latency_ms) &&
    optInt(v.status)
  );
}

/**
 * Checks a record against the exchange contract. On success the record itself is returned
 * (not a copy), extra fields included; on failure, the first problem, naming the field:
 * `"ts" is not an ISO-8601 timestamp`.
 */
export function validateExchange(v: unknown): Result<Exchange, string> {
  if (isExchange(v)) return ok(v);
  const r = ExchangeSchema.safeParse(v);
  // Unreachable while the two agree; kept so a disagreement never loses a record.
  if (r.success) return ok(r.data);
  return err(describeIssues(r.error.issues, v));
}

type Issue = z.core.$ZodIssue;

/** The first zod issue as one clause naming the field, e.g. `"request.messages" needs at least one message`. */
export function describeIssues(issues: readonly Issue[], input: unknown, prefix: PropertyKey[] = []): string {
  const issue = issues[0];
  if (issue === undefined) return 'is invalid';
  const path = [...prefix, ...issue.path];
  const field = quotePath(path);
  switch (issue.code) {
    case 'invalid_type': {
      const got = valueAt(input, path);
      if (got === undefined) return `${field} is missing`;
      return `${field} must be ${article(issue.expected)}, not ${describeType(got)}`;
    }
    case 'too_small':
      if (issue.origin === 'string' && issue.minimum === 1) return `${field} must not be empty`;
      if (issue.origin === 'array' && !issue.message.startsWith('Too small')) return `${field} ${issue.message}`;
      return `${field} is too small (minimum ${String(issue.minimum)})`;
    case 'too_big':
      if (issue.origin === 'int' || issue.origin === 'number') return `${field} is too large`;
      return `${field} is too long`;
    case 'invalid_union': {
      // Name the alternative that got furthest: a block with a bad field says more than
      // "neither a string nor an array".
      const deepest = issue.errors
        .map((alt) => alt[0])
        .filter((i): i is Issue => i !== undefined)
        .sort((a, b) => b.path.length - a.path.length)[0];
      if (deepest !== undefined && deepest.path.length > 0) return describeIssues([deepest], input, path);
      const wanted = issue.errors
        .map((alt) => alt[0])
        .filter((i): i is Issue & { expected: string } => i?.code === 'invalid_type')
        .map((i) => article(i.expected));
      const got = valueAt(input, path);
      if (got === undefined) return `${field} is missing`;
      return wanted.length > 0
        ? `${field} must be ${wanted.join(' or ')}, not ${describeType(got)}`
        : `${field} is invalid`;
    }
    default:
      // Custom messages in the schema are written to follow the field name.
      return issue.message.startsWith('Invalid') ? `${field} is invalid` : `${field} ${issue.message}`;
  }
}

function quotePath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += (s === '' ? '' : '.') + String(p);
  }
  return `"${s === '' ? 'record' : s}"`;
}

function valueAt(v: unknown, path: readonly PropertyKey[]): unknown {
  let cur = v;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && !Number.isInteger(v)) return `a fractional number (${v})`;
  return article(typeof v);
}

function article(t: string): string {
  if (t === 'int') return 'an integer';
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
