/**
 * A handed request (finished or refused) as one length-prefixed binary frame: the form a
 * thin gateway builds once per request and then appends to its write-ahead log and sends
 * in its stream entry, the same bytes for both. Every field is binary: numbers as numbers,
 * names of a closed set as a byte, texts as their length and UTF-8 bytes, bodies as they
 * came off the wire. No JSON text is built per request (only an assembled streamed
 * response is one, and it is a JSON value), and none is parsed back but that one.
 *
 *   offset 0   u32 LE  length of what follows (so that frames can be laid end to end)
 *   offset 4   f64 LE  the write-ahead log's sequence number, 0 when not in a log
 *   offset 12  u8      'F' finished, 'R' refused
 *   offset 13  u8      the API (API_CODES)
 *   offset 14  u8      the policy's action (ACTION_CODES; ABSENT: none, a refused request only)
 *   offset 15  u8      finished: why it was cut (CUT_CODES; 0 not cut); refused: why (REFUSAL_CODES)
 *   offset 16  u8      the response's form: 0 none, 1 assembled (its JSON text), 2 bytes
 *   offset 17  f64 LE  startedAt (ms since the epoch)
 *   offset 25  f64 LE  latencyMs
 *   offset 33  f64 LE  status
 *   offset 41  texts, each a u32 LE length (NONE: absent) and its UTF-8 bytes, in this order:
 *              id, accountId, apiKeyId, userAgent, remoteAddress, edgeHeader
 *   then       u32 LE  length of the response (NONE: none), then its bytes
 *   then       u32 LE  length of the body (NONE: none), then the body's bytes
 *
 * One Buffer per request until it is sent and logged. Frames of the previous form (kind
 * 'f' or 'r': the fields as one JSON text) are still read, so that a log or a stream left
 * by the version before drains through this one; none is written.
 */
import type { ApiName } from './dialect.js';
import type { Action } from './policy.js';
import type { FinishedRequest, HandedRequest, RefusedRequest, Refusal } from './record.js';

const FINISHED = 0x46; // 'F'
const REFUSED = 0x52; // 'R'
const FINISHED_JSON = 0x66; // 'f': the previous form, read only
const REFUSED_JSON = 0x72; // 'r': the previous form, read only
const NONE = 0xffffffff;
const ABSENT = 0xff;

/** Codes of closed sets, by position: append only, never reorder (frames outlive a version). */
const API_CODES: readonly ApiName[] = ['openai', 'anthropic'];
const ACTION_CODES: readonly Action[] = ['allow', 'flag', 'throttle', 'degrade', 'block'];
const CUT_CODES: readonly (FinishedRequest['cut'] | undefined)[] = [undefined, 'blocked', 'shutdown'];
const REFUSAL_CODES: readonly Refusal[] = ['unauthorized', 'blocked', 'rate_limited', 'unavailable', 'malformed_body', 'too_large'];
const RESPONSE_NONE = 0;
const RESPONSE_ASSEMBLED = 1;
const RESPONSE_BYTES = 2;

/** Where the texts start: length, lsn, four code bytes, three numbers. */
const TEXTS = 41;
/** The smallest length field of either form (the previous one's: lsn, kind, an empty text's length, two absent parts). */
const MIN_LENGTH = 8 + 1 + 4 + 4 + 4;

/** A text's UTF-8 length; its UTF-16 length is the same exactly when it is ASCII (the usual case: ids, keys, addresses). */
function utf8Length(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s);
  return n;
}

function putU32(buf: Buffer, at: number, n: number): void {
  buf[at] = n;
  buf[at + 1] = n >>> 8;
  buf[at + 2] = n >>> 16;
  buf[at + 3] = n >>> 24;
}

/**
 * Writes a text of `n` UTF-8 bytes (from `utf8Length`) with its length at `at`; returns where
 * the next part starts. ASCII is copied here, code by code: for texts this short, cheaper
 * than a call into the runtime's encoder.
 */
function putText(buf: Buffer, at: number, s: string | null | undefined, n: number): number {
  if (s === null || s === undefined) {
    putU32(buf, at, NONE);
    return at + 4;
  }
  putU32(buf, at, n);
  at += 4;
  if (n === s.length) for (let i = 0; i < n; i++) buf[at + i] = s.charCodeAt(i);
  else buf.write(s, at, n, 'utf8');
  return at + n;
}

function putBytes(buf: Buffer, at: number, b: Uint8Array | null): number {
  if (b === null) {
    putU32(buf, at, NONE);
    return at + 4;
  }
  putU32(buf, at, b.byteLength);
  buf.set(b, at + 4);
  return at + 4 + b.byteLength;
}

const lengthOf = (s: string | null | undefined): number => (s === null || s === undefined ? 0 : utf8Length(s));

/** The frame of a handed request, its lsn 0 (see `setFrameLsn`). */
export function encodeFrame(h: HandedRequest): Buffer {
  const finished = h.refusal === undefined;
  const edgeHeader = finished ? h.edgeHeader : undefined;
  let responseForm = RESPONSE_NONE;
  let responseText: string | null = null;
  let responseBytes: Uint8Array | null = null;
  if (finished && h.response !== null) {
    if (h.response.kind === 'bytes') {
      responseForm = RESPONSE_BYTES;
      responseBytes = h.response.value;
    } else {
      responseForm = RESPONSE_ASSEMBLED;
      responseText = JSON.stringify(h.response.value) ?? 'null';
    }
  }
  const nId = utf8Length(h.id);
  const nAccount = lengthOf(h.accountId);
  const nKey = lengthOf(h.apiKeyId);
  const nUa = lengthOf(h.userAgent);
  const nRemote = lengthOf(h.remoteAddress);
  const nEdge = lengthOf(edgeHeader);
  const nResponse = responseText !== null ? Buffer.byteLength(responseText) : responseBytes !== null ? responseBytes.byteLength : 0;
  const body = h.body;
  const size = TEXTS + 6 * 4 + nId + nAccount + nKey + nUa + nRemote + nEdge + 4 + nResponse + 4 + (body === null ? 0 : body.byteLength);
  const buf = Buffer.allocUnsafe(size);
  putU32(buf, 0, size - 4);
  buf.writeDoubleLE(0, 4);
  buf[12] = finished ? FINISHED : REFUSED;
  buf[13] = API_CODES.indexOf(h.api);
  buf[14] = h.action === null ? ABSENT : ACTION_CODES.indexOf(h.action);
  buf[15] = finished ? CUT_CODES.indexOf(h.cut) : REFUSAL_CODES.indexOf(h.refusal);
  buf[16] = responseForm;
  buf.writeDoubleLE(h.startedAt, 17);
  buf.writeDoubleLE(h.latencyMs, 25);
  buf.writeDoubleLE(h.status, 33);
  let at = putText(buf, TEXTS, h.id, nId);
  at = putText(buf, at, h.accountId, nAccount);
  at = putText(buf, at, h.apiKeyId, nKey);
  at = putText(buf, at, h.userAgent, nUa);
  at = putText(buf, at, h.remoteAddress, nRemote);
  at = putText(buf, at, edgeHeader, nEdge);
  at = responseText !== null ? putText(buf, at, responseText, nResponse) : putBytes(buf, at, responseBytes);
  putBytes(buf, at, body);
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

/** Reads a frame's parts in order; throws (caught by `decodeFrame`) past the frame's end. */
class Reader {
  constructor(
    private readonly frame: Buffer,
    public at: number,
  ) {}

  private length(): number {
    const n = this.frame.readUInt32LE(this.at);
    this.at += 4;
    if (n !== NONE && this.at + n > this.frame.byteLength) throw new RangeError('a part runs past its frame');
    return n;
  }

  text(): string | undefined {
    const n = this.length();
    if (n === NONE) return undefined;
    this.at += n;
    return this.frame.toString('utf8', this.at - n, this.at);
  }

  /** A view into the frame, not a copy. */
  bytes(): Buffer | null {
    const n = this.length();
    if (n === NONE) return null;
    this.at += n;
    return this.frame.subarray(this.at - n, this.at);
  }
}

/** A code byte's name, or throws (caught by `decodeFrame`) for a code no version wrote. */
function named<T>(codes: readonly T[], code: number): T {
  if (code >= codes.length) throw new RangeError('an unknown code');
  return codes[code]!;
}

function decodeBinary(frame: Buffer, finished: boolean): HandedRequest | null {
  const api = named(API_CODES, frame[13]!);
  const action = frame[14] === ABSENT ? null : named(ACTION_CODES, frame[14]!);
  const startedAt = frame.readDoubleLE(17);
  const latencyMs = frame.readDoubleLE(25);
  const status = frame.readDoubleLE(33);
  const r = new Reader(frame, TEXTS);
  const id = r.text();
  const accountId = r.text();
  const apiKeyId = r.text();
  const userAgent = r.text();
  const remoteAddress = r.text();
  const edgeHeader = r.text();
  const responsePart = r.bytes();
  const body = r.bytes();
  if (r.at !== frame.byteLength || id === undefined) return null;
  if (!finished) {
    const h: RefusedRequest = { id, api, refusal: named(REFUSAL_CODES, frame[15]!), status, accountId: accountId ?? null, apiKeyId: apiKeyId ?? null, action, body, startedAt, latencyMs };
    if (userAgent !== undefined) h.userAgent = userAgent;
    if (remoteAddress !== undefined) h.remoteAddress = remoteAddress;
    return h;
  }
  if (accountId === undefined || apiKeyId === undefined || action === null || body === null) return null;
  const form = frame[16];
  let response: FinishedRequest['response'] = null;
  if (form === RESPONSE_BYTES && responsePart !== null) response = { kind: 'bytes', value: responsePart };
  else if (form === RESPONSE_ASSEMBLED && responsePart !== null) response = { kind: 'assembled', value: JSON.parse(responsePart.toString('utf8')) as unknown };
  else if (form !== RESPONSE_NONE) return null;
  const h: FinishedRequest = { id, api, accountId, apiKeyId, body, response, status, startedAt, latencyMs, action };
  const cut = named(CUT_CODES, frame[15]!);
  if (cut !== undefined) h.cut = cut;
  if (userAgent !== undefined) h.userAgent = userAgent;
  if (remoteAddress !== undefined) h.remoteAddress = remoteAddress;
  if (edgeHeader !== undefined) h.edgeHeader = edgeHeader;
  return h;
}

/** A frame of the previous form: the fields as one JSON text, then the body, then a response's bytes. */
function decodeJsonFields(frame: Buffer, finished: boolean): HandedRequest | null {
  const textLength = frame.readUInt32LE(13);
  let at = 17 + textLength;
  const fields = JSON.parse(frame.toString('utf8', 17, at)) as Record<string, unknown> | null;
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
  if (!finished) return { ...fields, body } as unknown as RefusedRequest;
  if (body === null) return null;
  const r = fields.response as FinishedRequest['response'] | { kind: 'bytes' };
  let response: FinishedRequest['response'];
  if (r !== null && typeof r === 'object' && r.kind === 'bytes') {
    if (responseBytes === null) return null;
    response = { kind: 'bytes', value: responseBytes };
  } else response = (r ?? null) as FinishedRequest['response'];
  return { ...fields, body, response } as unknown as FinishedRequest;
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
    let h: HandedRequest | null;
    if (kind === FINISHED || kind === REFUSED) h = decodeBinary(frame, kind === FINISHED);
    else if (kind === FINISHED_JSON || kind === REFUSED_JSON) h = decodeJsonFields(frame, kind === FINISHED_JSON);
    else return null;
    return h === null ? null : { lsn, h };
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
