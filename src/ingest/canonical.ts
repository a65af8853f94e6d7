/**
 * The canonical exchange record (docs/formats.md), checked against the contract. Extra
 * fields pass through untouched; nothing is normalised, since the writer of this format
 * (the simulator, the gateway, another DistillWatch) already speaks the contract.
 */
import type { Exchange } from '../core/exchange.js';
import type { Result } from '../core/result.js';
import { validateExchange } from './validate.js';

/**
 * Validates one canonical record.
 *
 * @example
 * fromCanonical(JSON.parse(line)) // => { ok: true, value: [exchange] } or { ok: false, error: '"ts" is missing' }
 */
export function fromCanonical(value: unknown): Result<Exchange[], string> {
  const r = validateExchange(value);
  return r.ok ? { ok: true, value: [r.value] } : r;
}
