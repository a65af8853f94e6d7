/**
 * A handed request (finished or refused) as one stream entry field and back. Bodies go as
 * base64 inside one JSON text: one string per entry is what XADD pipelines cheapest, and
 * the worker gets the request exactly as the proxy saw it.
 */
import type { FinishedRequest, HandedRequest, RefusedRequest } from '../gateway/record.js';

type WireResponse = { kind: 'assembled'; value: unknown } | { kind: 'bytes'; value: string } | null;
type Wire = { k: 'f'; f: Omit<FinishedRequest, 'body' | 'response'> & { body: string; response: WireResponse } } | { k: 'r'; f: Omit<RefusedRequest, 'body'> & { body: string | null } };

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/**
 * A finished request as the JSON text of its wire form: the same form the write-ahead log
 * keeps (gateway/wal.ts), so that a thin gateway encodes each request once for both.
 */
export function encodeFinished(f: FinishedRequest): string {
  const response: WireResponse = f.response?.kind === 'bytes' ? { kind: 'bytes', value: b64(f.response.value) } : f.response;
  return JSON.stringify({ ...f, body: b64(f.body), response });
}

/** The stream entry of a finished request already encoded by `encodeFinished`. */
export function finishedEntry(encoded: string): string {
  return '{"k":"f","f":' + encoded + '}';
}

export function encodeHanded(h: HandedRequest): string {
  if (h.refusal !== undefined) return JSON.stringify({ k: 'r', f: { ...h, body: h.body === null ? null : b64(h.body) } } satisfies Wire);
  return finishedEntry(encodeFinished(h));
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
