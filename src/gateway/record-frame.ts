/**
 * A handed request (finished or refused) as one length-prefixed binary frame: the form a
 * thin gateway builds once per request and then appends to its write-ahead log and sends
 * in its stream entry, the same bytes for both. Bodies go as they came off the wire: no
 * base64 (a third more bytes, and the CPU of encoding and decoding them), no second text.
 *
 *   offset 0   u32 LE  length of what follows (so that frames can be laid end to end)
 *   offset 4   f64 LE  the write-ahead log's sequence number, 0 when not in a log
 *   offset 12  u8      'f' finished, 'r' refused
 *   offset 13  u32 LE  length of the fields' JSON text, then that text (UTF-8): every field
 *                      but the body and a response's bytes (an assembled response is in it)
 *   then       u32 LE  length of the body (0xFFFFFFFF: none), then the body's bytes
 *   then       u32 LE  length of the response's bytes (0xFFFFFFFF: none), then the bytes
 *
 * One Buffer per request until it is sent and logged: one object for the collector to copy,
 * where the text forms held a record, its encoded strings and two lines.
 */
import type { FinishedRequest, HandedRequest, RefusedRequest } from './record.js';

const FINISHED = 0x66; // 'f'
const REFUSED = 0x72; // 'r'
const NONE = 0xffffffff;
/** Bytes before the fields' text: length, lsn, kind, the text's length. */
const HEAD = 17;
/** The smallest frame's length field: lsn, kind, an empty text's length, two absent parts. */
const MIN_LENGTH = 8 + 1 + 4 + 4 + 4;

/** The fields' JSON text of a finished request, written field by field (a spread copy for JSON.stringify cost twice as much). */
function finishedFields(f: FinishedRequest): string {
  const r = f.response;
  const response = r === null ? 'null' : r.kind === 'bytes' ? '{"kind":"bytes"}' : JSON.stringify(r);
  let s = '{"id":' + JSON.stringify(f.id) + ',"api":"' + f.api + '","accountId":' + JSON.stringify(f.accountId) + ',"apiKeyId":' + JSON.stringify(f.apiKeyId);
  s += ',"response":' + response + ',"status":' + JSON.stringify(f.status) + ',"startedAt":' + JSON.stringify(f.startedAt) + ',"latencyMs":' + JSON.stringify(f.latencyMs) + ',"action":"' + f.action + '"';
  if (f.cut !== undefined) s += ',"cut":"' + f.cut + '"';
  if (f.userAgent !== undefined) s += ',"userAgent":' + JSON.stringify(f.userAgent);
  if (f.remoteAddress !== undefined) s += ',"remoteAddress":' + JSON.stringify(f.remoteAddress);
  if (f.edgeHeader !== undefined) s += ',"edgeHeader":' + JSON.stringify(f.edgeHeader);
  return s + '}';
}

/** The frame of a handed request, its lsn 0 (see `setFrameLsn`). */
export function encodeFrame(h: HandedRequest): Buffer {
  let kind: number;
  let text: string;
  let body: Uint8Array | null;
  let response: Uint8Array | null = null;
  if (h.refusal !== undefined) {
    kind = REFUSED;
    const { body: b, ...rest } = h;
    text = JSON.stringify(rest);
    body = b;
  } else {
    kind = FINISHED;
    text = finishedFields(h);
    body = h.body;
    if (h.response?.kind === 'bytes') response = h.response.value;
  }
  const textLength = Buffer.byteLength(text);
  const bodyLength = body === null ? 0 : body.byteLength;
  const responseLength = response === null ? 0 : response.byteLength;
  const size = HEAD + textLength + 4 + bodyLength + 4 + responseLength;
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt32LE(size - 4, 0);
  buf.writeDoubleLE(0, 4);
  buf[12] = kind;
  buf.writeUInt32LE(textLength, 13);
  let at = HEAD + buf.write(text, HEAD);
  buf.writeUInt32LE(body === null ? NONE : bodyLength, at);
  at += 4;
  if (body !== null) {
    buf.set(body, at);
    at += bodyLength;
  }
  buf.writeUInt32LE(response === null ? NONE : responseLength, at);
  at += 4;
  if (response !== null) buf.set(response, at);
  return buf;
}

export function setFrameLsn(frame: Buffer, lsn: number): void {
  frame.writeDoubleLE(lsn, 4);
}

export function frameLsn(frame: Buffer): number {
  return frame.readDoubleLE(4);
}

/**
 * The length of the frame starting at `at` in `buf`, or null when what is there cannot be one
 * (cut off by a crash, or not a frame at all): the caller stops reading there.
 */
export function frameLengthAt(buf: Uint8Array, at: number): number | null {
  if (at + 4 > buf.byteLength) return null;
  const n = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16)) + buf[at + 3]! * 0x1000000;
  if (n < MIN_LENGTH || at + 4 + n > buf.byteLength) return null;
  return 4 + n;
}

/**
 * The request of a whole frame (`frame` holds exactly one), or null when it is not one this
 * codec wrote. Bodies are views into `frame`, not copies.
 */
export function decodeFrame(frame: Buffer): { lsn: number; h: HandedRequest } | null {
  try {
    if (frame.byteLength < 4 + MIN_LENGTH || frame.readUInt32LE(0) !== frame.byteLength - 4) return null;
    const lsn = frame.readDoubleLE(4);
    const kind = frame[12];
    const textLength = frame.readUInt32LE(13);
    let at = HEAD + textLength;
    const fields = JSON.parse(frame.toString('utf8', HEAD, at)) as Record<string, unknown> | null;
    if (fields === null || typeof fields !== 'object' || typeof fields.id !== 'string') return null;
    const bodyLength = frame.readUInt32LE(at);
    at += 4;
    let body: Buffer | null = null;
    if (bodyLength !== NONE) {
      body = frame.subarray(at, at + bodyLength);
      at += bodyLength;
    }
    const responseLength = frame.readUInt32LE(at);
    at += 4;
    const responseBytes = responseLength === NONE ? null : frame.subarray(at, at + responseLength);
    if (at + (responseLength === NONE ? 0 : responseLength) !== frame.byteLength) return null;
    if (kind === REFUSED) return { lsn, h: { ...fields, body } as unknown as RefusedRequest };
    if (kind !== FINISHED || body === null) return null;
    const r = fields.response as FinishedRequest['response'] | { kind: 'bytes' };
    let response: FinishedRequest['response'];
    if (r !== null && typeof r === 'object' && r.kind === 'bytes') {
      if (responseBytes === null) return null;
      response = { kind: 'bytes', value: responseBytes };
    } else response = (r ?? null) as FinishedRequest['response'];
    return { lsn, h: { ...fields, body, response } as unknown as FinishedRequest };
  } catch {
    return null;
  }
}

/** The frames laid end to end in `buf` (a stream entry's batch), or null when any is not whole. */
export function splitFrames(buf: Buffer): Buffer[] | null {
  const out: Buffer[] = [];
  let at = 0;
  while (at < buf.byteLength) {
    const n = frameLengthAt(buf, at);
    if (n === null) return null;
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}
