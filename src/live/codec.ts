/**
 * A handed request (finished or refused) as one JSON text and back, and a stream entry as a
 * batch of those texts. Bodies go as base64 inside the JSON text, so that the worker gets the
 * request exactly as the proxy saw it.
 *
 * An entry holds every request one flush of a gateway had for its partition, one text a
 * line (field `b`): one XADD per partition per flush, where an XADD per request cost Redis
 * more CPU than the proxy's whole hand-over. JSON.stringify never writes a raw newline, so
 * the lines split back unambiguously. Entries of one request (field `x`, the form before
 * batches) are still read, so that a stream written by an older gateway drains.
 */
import type { FinishedRequest, HandedRequest, RefusedRequest } from '../gateway/record.js';
import { decodeFrame, splitFrames } from '../gateway/record-frame.js';

type WireResponse = { kind: 'assembled'; value: unknown } | { kind: 'bytes'; value: string } | null;
type Wire = { k: 'f'; f: Omit<FinishedRequest, 'body' | 'response'> & { body: string; response: WireResponse } } | { k: 'r'; f: Omit<RefusedRequest, 'body'> & { body: string | null } };

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/**
 * A finished request as the JSON text of its wire form: the same form the write-ahead log
 * keeps (gateway/wal.ts), so that a thin gateway encodes each request once for both.
 * Written field by field: a spread copy of the record handed to JSON.stringify cost twice
 * as much, once per request on the proxy's thread. Strings go through JSON.stringify (the
 * escaping); numbers print as JSON prints them.
 */
export function encodeFinished(f: FinishedRequest): string {
  const r = f.response;
  const response = r === null ? 'null' : r.kind === 'bytes' ? '{"kind":"bytes","value":"' + b64(r.value) + '"}' : JSON.stringify(r);
  let s = '{"id":' + JSON.stringify(f.id) + ',"api":"' + f.api + '","accountId":' + JSON.stringify(f.accountId) + ',"apiKeyId":' + JSON.stringify(f.apiKeyId);
  s += ',"body":"' + b64(f.body) + '","response":' + response + ',"status":' + JSON.stringify(f.status) + ',"startedAt":' + JSON.stringify(f.startedAt) + ',"latencyMs":' + JSON.stringify(f.latencyMs) + ',"action":"' + f.action + '"';
  if (f.cut !== undefined) s += ',"cut":"' + f.cut + '"';
  if (f.userAgent !== undefined) s += ',"userAgent":' + JSON.stringify(f.userAgent);
  if (f.remoteAddress !== undefined) s += ',"remoteAddress":' + JSON.stringify(f.remoteAddress);
  if (f.edgeHeader !== undefined) s += ',"edgeHeader":' + JSON.stringify(f.edgeHeader);
  return s + '}';
}

/** The stream entry of a finished request already encoded by `encodeFinished`. */
export function finishedEntry(encoded: string): string {
  return '{"k":"f","f":' + encoded + '}';
}

export function encodeHanded(h: HandedRequest): string {
  if (h.refusal !== undefined) return JSON.stringify({ k: 'r', f: { ...h, body: h.body === null ? null : b64(h.body) } } satisfies Wire);
  return finishedEntry(encodeFinished(h));
}

/**
 * The entry field of a batch of handed requests' binary frames laid end to end
 * (gateway/record-frame.ts): what a gateway writes now, the same bytes its write-ahead log
 * holds. The text fields below are still read, so that a stream written by an older gateway
 * drains through a newer worker.
 */
export const FRAMES_FIELD = 'c';

/** The entry field of a batch of handed requests' texts, one a line. */
export const BATCH_FIELD = 'b';
/** The entry field of a single handed request's text (older gateways). */
export const SINGLE_FIELD = 'x';

/** The value of a batch entry's field: `texts` (each from `encodeHanded` or `finishedEntry`), one a line. */
export function batchText(texts: readonly string[]): string {
  return texts.join('\n');
}

/**
 * The handed requests' texts of a stream entry's fields (a batch or a single request), or
 * null when the entry has neither field (not written by a gateway, or trimmed).
 */
export function entryTexts(fields: readonly string[] | null): string[] | null {
  if (fields === null) return null;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === BATCH_FIELD) return fields[i + 1]!.split('\n');
    if (fields[i] === SINGLE_FIELD) return [fields[i + 1]!];
  }
  return null;
}

/** Null when the text is not an entry this codec wrote (kept aside by the caller, never retried). */
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
