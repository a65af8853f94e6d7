import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../gateway/config.js';
import type { FinishedRequest, HandedRequest, RefusedRequest } from '../gateway/record.js';
import { decodeFrame, encodeFrame, frameLsn, setFrameLsn } from '../gateway/record-frame.js';
import { BATCH_FIELD, decodeHanded, entryRequests, FRAMES_FIELD, SINGLE_FIELD } from './codec.js';
import { partitionOf } from './partition.js';

test('an account always lands in the same partition, and accounts spread over all of them', () => {
  assert.equal(partitionOf('acct_alice', 8), partitionOf('acct_alice', 8));
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(partitionOf(`acct_${i}`, 8));
  assert.equal(seen.size, 8);
  // Pinned: a change of hash would send an account's exchanges to another worker mid-run.
  assert.equal(partitionOf('acct_alice', 8), partitionOf('acct_alice', 1024) % 8);
});

/** A handed request's JSON text as older gateways put it in their stream entries (bodies as base64), for the reading of what they left. */
function olderText(h: HandedRequest): string {
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  if (h.refusal !== undefined) return JSON.stringify({ k: 'r', f: { ...h, body: h.body === null ? null : b64(h.body) } });
  const response = h.response?.kind === 'bytes' ? { kind: 'bytes', value: b64(h.response.value) } : h.response;
  return JSON.stringify({ k: 'f', f: { ...h, body: b64(h.body), response } });
}

/** A frame of the previous form (kind 'f' or 'r', the fields as one JSON text), as the version before logged and sent it. */
function previousFrame(h: HandedRequest): Buffer {
  const { body, ...rest } = h;
  const bytes = h.refusal === undefined && h.response?.kind === 'bytes' ? h.response.value : null;
  const fields = h.refusal === undefined && bytes !== null ? { ...rest, response: { kind: 'bytes' } } : rest;
  const text = Buffer.from(JSON.stringify(fields));
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  const part = (b: Uint8Array | null) => (b === null ? [u32(0xffffffff)] : [u32(b.byteLength), Buffer.from(b)]);
  // lsn 0, the kind, the fields' text, the body, a response's bytes.
  const after = Buffer.concat([Buffer.alloc(8), Buffer.from([h.refusal === undefined ? 0x66 : 0x72]), u32(text.byteLength), text, ...part(body), ...part(bytes)]);
  return Buffer.concat([u32(after.byteLength), after]);
}

const plain = (h: unknown) => JSON.parse(JSON.stringify(h, (_, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v)));

const full: FinishedRequest = { id: 'gw_"3"', api: 'anthropic', accountId: 'acct_\u2028é', apiKeyId: 'key_\\1', body: Buffer.from('{"a":"\n"}'), response: { kind: 'assembled', value: { content: [{ type: 'text', text: 'ok "x"\n' }] } }, status: 499, startedAt: 1764000000123, latencyMs: 0.000123456789, action: 'degrade', cut: 'blocked', userAgent: 'ua "1"\t', remoteAddress: '::1', edgeHeader: '{"account":{"tier":"x"}}' };
const bytes: FinishedRequest = { id: 'gw_1', api: 'openai', accountId: 'a', apiKeyId: 'k', body: Buffer.from([0xff, 0, 10, 0xc3]), response: { kind: 'bytes', value: Buffer.from([0, 255, 10]) }, status: 200, startedAt: 1, latencyMs: 2.5, action: 'allow' };
const none: FinishedRequest = { ...bytes, id: 'gw_4', response: null, body: Buffer.alloc(0), cut: 'shutdown', userAgent: 'ua ☃' };
const refused: RefusedRequest = { id: 'gw_2', api: 'anthropic', refusal: 'blocked', status: 403, accountId: 'a', apiKeyId: null, action: 'block', body: null, startedAt: 1, latencyMs: 1 };
const unknownCaller: RefusedRequest = { id: 'gw_5', api: 'openai', refusal: 'unauthorized', status: 401, accountId: null, apiKeyId: 'key_x', action: null, body: Buffer.from('{}'), startedAt: 2, latencyMs: 0.5, remoteAddress: '10.0.0.1' };
const all: HandedRequest[] = [full, bytes, none, refused, unknownCaller];

test('a finished and a refused request come back from their binary frames as they went in, bodies as raw bytes', () => {
  const frames = all.map((h) => encodeFrame(h));
  setFrameLsn(frames[1]!, 42);
  assert.equal(frameLsn(frames[1]!), 42);
  // The body's bytes are in the frame as they are: no base64, and no JSON text of the fields.
  assert.ok(frames[1]!.includes(Buffer.from([0xff, 0, 10, 0xc3])));
  assert.ok(!frames[1]!.includes(Buffer.from('"accountId"')));
  for (const [i, h] of all.entries()) assert.deepEqual(plain(decodeFrame(frames[i]!)?.h), plain(h), `frame ${i}`);
  // A stream entry: the frames end to end, read as Buffers.
  const got = entryRequests([Buffer.from(FRAMES_FIELD), Buffer.concat(frames)]);
  assert.deepEqual(plain(got), plain(all));
  // A batch cut short, a text whose length runs past its frame and a code no version wrote are unreadable, not a crash.
  assert.deepEqual(entryRequests([Buffer.from(FRAMES_FIELD), Buffer.concat(frames).subarray(0, -1)]), [null]);
  const longText = Buffer.from(frames[1]!);
  longText.writeUInt32LE(1000, 41);
  assert.equal(decodeFrame(longText), null);
  const badCode = Buffer.from(frames[1]!);
  badCode[14] = 9;
  assert.equal(decodeFrame(badCode), null);
  assert.equal(entryRequests([Buffer.from('z'), Buffer.from('')]), null);
});

test('what older gateways wrote is still read: frames of the previous form, and text entries', () => {
  const previous = all.map(previousFrame);
  for (const [i, h] of all.entries()) assert.deepEqual(plain(decodeFrame(previous[i]!)?.h), plain(h), `previous frame ${i}`);
  // The previous form and the new one in one batch (a stream across an upgrade reads on).
  assert.deepEqual(plain(entryRequests([Buffer.from(FRAMES_FIELD), Buffer.concat([previous[0]!, encodeFrame(bytes)])])), plain([full, bytes]));
  const broken = Buffer.from(previous[1]!);
  broken[17] = 0x78;
  assert.equal(decodeFrame(broken), null);
  assert.deepEqual(plain(entryRequests([Buffer.from(BATCH_FIELD), Buffer.from(olderText(bytes) + '\n' + olderText(refused))])), plain([bytes, refused]));
  assert.deepEqual(plain(entryRequests([Buffer.from(SINGLE_FIELD), Buffer.from(olderText(full))])), plain([full]));
  assert.equal(decodeHanded('not json'), null);
  assert.equal(decodeHanded('{"k":"f","f":{}}'), null);
});

test('a thin gateway config needs redisUrl and refuses a store of its own', () => {
  const base = { upstream: 'http://127.0.0.1:9', analysis: { mode: 'stream' } };
  const noRedis = parseConfig(base, 'g.json');
  assert.ok(!noRedis.ok && /"analysis" mode "stream" needs "redisUrl"/.test(noRedis.error), JSON.stringify(noRedis));
  const withStore = parseConfig({ ...base, redisUrl: 'redis://127.0.0.1:1', storePath: 'x.duckdb' });
  assert.ok(!withStore.ok && /"storePath" is not used/.test(withStore.error));
  const ok = parseConfig({ ...base, redisUrl: 'redis://127.0.0.1:1' });
  assert.ok(ok.ok && ok.config.analysis.mode === 'stream' && ok.config.analysis.partitions === 8);
  const thread = parseConfig({ upstream: 'http://127.0.0.1:9' });
  assert.ok(thread.ok && thread.config.analysis.mode === 'thread');
});
