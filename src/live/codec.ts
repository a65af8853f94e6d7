/**
 * A stream entry's requests. A gateway writes each partition's share of a flush as one
 * entry whose field `c` holds the requests' binary frames end to end
 * (gateway/record-frame.ts, the one encoding of a handed request, the same bytes as in its
 * write-ahead log): one XADD per partition per flush, where an XADD per request cost Redis
 * more CPU than the proxy's whole hand-over.
 *
 * Entries of older gateways are still read, so that a stream they wrote drains through a
 * newer worker: a batch of JSON texts, one a line (field `b`), or one JSON text (field `x`),
 * bodies as base64 inside the text. Nothing writes them any more.
 */
import type { FinishedRequest, HandedRequest, RefusedRequest } from '../gateway/record.js';
import { decodeFrame, splitFrames } from '../gateway/record-frame.js';

type WireResponse = { kind: 'assembled'; value: unknown } | { kind: 'bytes'; value: string } | null;
type Wire = { k: 'f'; f: Omit<FinishedRequest, 'body' | 'response'> & { body: string; response: WireResponse } } | { k: 'r'; f: Omit<RefusedRequest, 'body'> & { body: string | null } };

/** The entry field of a batch of handed requests' binary frames laid end to end. */
export const FRAMES_FIELD = 'c';
/** The entry field of a batch of handed requests' JSON texts, one a line (older gateways). */
export const BATCH_FIELD = 'b';
/** The entry field of a single handed request's JSON text (older gateways still). */
export const SINGLE_FIELD = 'x';

/** A handed request's JSON text as older gateways wrote it; null when it is not one (kept aside by the caller, never retried). */
export function decodeHanded(text: string): HandedRequest | null {
  let w: Wire;
  try {
    w = JSON.parse(text) as Wire;
  } catch {
    return null;
  }
  if (w === null || typeof w !== 'object' || typeof w.f?.id !== 'string') return null;
  if (w.k === 'r') return { ...w.f, body: w.f.body === null ? null : Buffer.from(w.f.body, 'base64') } as RefusedRequest;
  if (w.k !== 'f' || typeof w.f.body !== 'string') return null;
  const r = w.f.response;
  const response = r?.kind === 'bytes' ? { kind: 'bytes' as const, value: Buffer.from(r.value, 'base64') } : r;
  return { ...w.f, body: Buffer.from(w.f.body, 'base64'), response } as FinishedRequest;
}

/**
 * The handed requests of a stream entry read as Buffers (`xreadgroupBuffer`, `xrangeBuffer`):
 * each request, or null for one that cannot be read (counted by the caller, never retried);
 * null for the whole entry when it has no field a gateway writes.
 */
export function entryRequests(fields: readonly Buffer[] | null): (HandedRequest | null)[] | null {
  if (fields === null) return null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i]!;
    if (name.length !== 1) continue;
    const value = fields[i + 1]!;
    if (name[0] === 0x63) {
      // 'c': frames. A batch cut short is unreadable as a whole (never written so by a gateway).
      const frames = splitFrames(value);
      if (frames === null) return [null];
      return frames.map((f) => decodeFrame(f)?.h ?? null);
    }
    if (name[0] === 0x62) return value.toString('utf8').split('\n').map(decodeHanded);
    if (name[0] === 0x78) return [decodeHanded(value.toString('utf8'))];
  }
  return null;
}
