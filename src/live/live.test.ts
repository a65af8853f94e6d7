import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../gateway/config.js';
import type { FinishedRequest, RefusedRequest } from '../gateway/record.js';
import { decodeFrame, encodeFrame, frameLsn, setFrameLsn } from '../gateway/record-frame.js';
import { BATCH_FIELD, decodeHanded, encodeFinished, encodeHanded, entryRequests, FRAMES_FIELD } from './codec.js';
import { partitionOf } from './partition.js';

test('an account always lands in the same partition, and accounts spread over all of them', () => {
  assert.equal(partitionOf('acct_alice', 8), partitionOf('acct_alice', 8));
  const seen = new Set<number>();
  for (let i = 0; i < 200; i++) seen.add(partitionOf(`acct_${i}`, 8));
  assert.equal(seen.size, 8);
  // Pinned: a change of hash would send an account's exchanges to another worker mid-run.
  assert.equal(partitionOf('acct_alice', 8), partitionOf('acct_alice', 1024) % 8);
});

test('a finished and a refused request come back from a stream entry as they went in', () => {
  const f: FinishedRequest = { id: 'gw_1', api: 'openai', accountId: 'a', apiKeyId: 'k', body: Buffer.from('{"model":"m"}'), response: { kind: 'bytes', value: Buffer.from([0, 255, 10]) }, status: 200, startedAt: 1, latencyMs: 2.5, action: 'allow', userAgent: 'ua' };
  const back = decodeHanded(encodeHanded(f)) as FinishedRequest;
  assert.deepEqual(Buffer.from(back.body), Buffer.from(f.body));
  assert.deepEqual(back.response?.kind === 'bytes' ? Buffer.from(back.response.value) : null, Buffer.from([0, 255, 10]));
  assert.equal(back.userAgent, 'ua');
  // Every field, the optional ones and text that JSON must escape included.
  const full: FinishedRequest = { id: 'gw_"3"', api: 'anthropic', accountId: 'acct_\u2028é', apiKeyId: 'key_\\1', body: Buffer.from('{"a":"\n"}'), response: { kind: 'assembled', value: { content: [{ type: 'text', text: 'ok "x"\n' }] } }, status: 499, startedAt: 1764000000123, latencyMs: 0.000123456789, action: 'degrade', cut: 'blocked', userAgent: 'ua "1"\t', remoteAddress: '::1', edgeHeader: '{"account":{"tier":"x"}}' };
  const fullBack = decodeHanded(encodeHanded(full)) as FinishedRequest;
  assert.deepEqual({ ...fullBack, body: Buffer.from(fullBack.body).toString() }, { ...full, body: '{"a":"\n"}' });
  assert.deepEqual(JSON.parse(encodeFinished(full)), JSON.parse(JSON.stringify({ ...full, body: Buffer.from(full.body).toString('base64') })));
  const r: RefusedRequest = { id: 'gw_2', api: 'anthropic', refusal: 'blocked', status: 403, accountId: 'a', apiKeyId: null, action: 'block', body: null, startedAt: 1, latencyMs: 1 };
  assert.deepEqual(decodeHanded(encodeHanded(r)), r);
  assert.equal(decodeHanded('not json'), null);
  assert.equal(decodeHanded('{"k":"f","f":{}}'), null);
});

test('a finished and a refused request come back from their binary frames as they went in, bodies as raw bytes', () => {
  const full: FinishedRequest = { id: 'gw_"3"', api: 'anthropic', accountId: 'acct_\u2028é', apiKeyId: 'key_\\1', body: Buffer.from('{"a":"\n"}'), response: { kind: 'assembled', value: { content: [{ type: 'text', text: 'ok "x"\n' }] } }, status: 499, startedAt: 1764000000123, latencyMs: 0.000123456789, action: 'degrade', cut: 'blocked', userAgent: 'ua "1"\t', remoteAddress: '::1', edgeHeader: '{"account":{"tier":"x"}}' };
  const bytes: FinishedRequest = { id: 'gw_1', api: 'openai', accountId: 'a', apiKeyId: 'k', body: Buffer.from([0xff, 0, 10, 0xc3]), response: { kind: 'bytes', value: Buffer.from([0, 255, 10]) }, status: 200, startedAt: 1, latencyMs: 2.5, action: 'allow' };
  const none: FinishedRequest = { ...bytes, id: 'gw_4', response: null, body: Buffer.alloc(0) };
  const refused: RefusedRequest = { id: 'gw_2', api: 'anthropic', refusal: 'blocked', status: 403, accountId: 'a', apiKeyId: null, action: 'block', body: null, startedAt: 1, latencyMs: 1 };
  const plain = (h: unknown) => JSON.parse(JSON.stringify(h, (_, v) => (v?.type === 'Buffer' ? Buffer.from(v.data).toString('hex') : v)));
  const frames = [full, bytes, none, refused].map((h) => encodeFrame(h));
  setFrameLsn(frames[1]!, 42);
  assert.equal(frameLsn(frames[1]!), 42);
  // The body's bytes are in the frame as they are: no base64.
  assert.ok(frames[1]!.includes(Buffer.from([0xff, 0, 10, 0xc3])));
  for (const [i, h] of [full, bytes, none, refused].entries()) assert.deepEqual(plain(decodeFrame(frames[i]!)?.h), plain(h), `frame ${i}`);
  // A stream entry: the frames end to end, read as Buffers.
  const got = entryRequests([Buffer.from(FRAMES_FIELD), Buffer.concat(frames)]);
  assert.deepEqual(plain(got), plain([full, bytes, none, refused]));
  // An entry of an older gateway (text lines) is still read.
  assert.deepEqual(plain(entryRequests([Buffer.from(BATCH_FIELD), Buffer.from(encodeHanded(bytes) + '\n' + encodeHanded(refused))])), plain([bytes, refused]));
  // A batch cut short, and a frame whose text is not the fields', are unreadable, not a crash.
  assert.deepEqual(entryRequests([Buffer.from(FRAMES_FIELD), Buffer.concat(frames).subarray(0, -1)]), [null]);
  const broken = Buffer.from(frames[1]!);
  broken[17] = 0x78;
  assert.equal(decodeFrame(broken), null);
  assert.equal(entryRequests([Buffer.from('z'), Buffer.from('')]), null);
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
