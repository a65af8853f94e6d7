import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';
import { request } from 'undici';
import OpenAI from 'openai';
import { ADMIN_TOKEN, sleep, startTestGateway, testConfig, waitFor } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

/**
 * An upstream with the behaviours the proxy's handler must survive, chosen by the model:
 * - `die-mid-stream`: two stream events, then the connection is destroyed;
 * - `big`: an 8 MiB JSON answer, in many chunks;
 * - `echo`: the length and SHA-256 of the body it was sent.
 */
const BIG = Buffer.from(JSON.stringify({ id: 'chatcmpl-big', object: 'chat.completion', created: 1, model: 'big', choices: [{ index: 0, message: { role: 'assistant', content: 'x'.repeat(8 * 1024 * 1024) }, finish_reason: 'stop' }] }));
let upstream: Server;
let upstreamUrl = '';
let gw: RunningGateway;

function chunkFrame(content: string): string {
  return `data: ${JSON.stringify({ id: 'chatcmpl-d', object: 'chat.completion.chunk', created: 1, model: 'die-mid-stream', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

before(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const model = String((JSON.parse(body.toString('utf8')) as { model?: string }).model);
      if (model === 'die-mid-stream') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(chunkFrame('first '));
        res.write(chunkFrame('second '));
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      if (model === 'big') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': BIG.length });
        for (let i = 0; i < BIG.length; i += 64 * 1024) res.write(BIG.subarray(i, i + 64 * 1024));
        res.end();
        return;
      }
      const answer = JSON.stringify({ id: 'chatcmpl-echo', object: 'chat.completion', created: 1, model, choices: [{ index: 0, message: { role: 'assistant', content: `${body.length} ${createHash('sha256').update(body).digest('hex')}` }, finish_reason: 'stop' }] });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      res.end(answer);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  gw = await startTestGateway(testConfig(upstreamUrl));
});
after(async () => {
  await gw?.close();
  upstream?.closeAllConnections();
  await new Promise<void>((r) => upstream?.close(() => r()));
});

async function requestsWithStatus(status: number): Promise<number> {
  const text = await (await request(gw.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text();
  const m = text.match(new RegExp(`distillwatch_gateway_requests_total\\{api="openai",status="${status}"\\} (\\d+)`));
  return m ? Number(m[1]) : 0;
}

test('an upstream that dies mid-stream leaves the client its events, then an API-shaped error, and a 502 record', async () => {
  const before502 = await requestsWithStatus(502);
  const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'die-mid-stream', messages: [{ role: 'user', content: 'hi' }], stream: true });
  let text = '';
  let failure: Error | null = null;
  try {
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
  } catch (e) {
    failure = e as Error;
  }
  assert.equal(text, 'first second ');
  assert.ok(failure !== null, 'the stream ends in an error, not as if it were whole');
  assert.match(failure.message, /upstream model API connection failed/);
  await waitFor(async () => (await requestsWithStatus(502)) === before502 + 1, 'the request counted as a 502');
});

test('a client reading slower than the upstream gets the whole big answer, byte for byte', async () => {
  const body = JSON.stringify({ model: 'big', messages: [{ role: 'user', content: 'hi' }] });
  const received = await new Promise<Buffer>((resolve, reject) => {
    const url = new URL(gw.url + '/v1/chat/completions');
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: 'Bearer sk-alice-0001', 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const chunks: Buffer[] = [];
      // Hold the answer unread for a while: the gateway must hold the upstream, not drop or buffer without end.
      res.pause();
      setTimeout(() => {
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(Buffer.concat(chunks)));
        res.resume();
      }, 300);
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  assert.equal(received.length, BIG.length);
  assert.ok(received.equals(BIG));
});

test('a big request body sent in many pieces reaches the upstream whole', async () => {
  const body = Buffer.from(JSON.stringify({ model: 'echo', messages: [{ role: 'user', content: 'y'.repeat(3 * 1024 * 1024) }] }));
  const answer = await new Promise<string>((resolve, reject) => {
    const url = new URL(gw.url + '/v1/chat/completions');
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: 'Bearer sk-alice-0001', 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve(text));
      res.on('error', reject);
    });
    req.on('error', reject);
    void (async () => {
      for (let i = 0; i < body.length; i += 100_000) {
        req.write(body.subarray(i, i + 100_000));
        if (i % 1_000_000 === 0) await sleep(5);
      }
      req.end();
    })();
  });
  const content = (JSON.parse(answer) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
  assert.equal(content, `${body.length} ${createHash('sha256').update(body).digest('hex')}`);
});

test('a client that goes away while it sends its body leaves the gateway serving, and its drain does not wait for it', async () => {
  const own = await startTestGateway(testConfig(upstreamUrl, { drainTimeoutMs: 20_000 }));
  const url = new URL(own.url + '/v1/chat/completions');
  await new Promise<void>((resolve) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: 'Bearer sk-alice-0001', 'content-type': 'application/json', 'content-length': 1_000_000 } });
    req.on('error', () => resolve());
    req.write('{"model":"echo","messages":[');
    setTimeout(() => {
      req.destroy();
      resolve();
    }, 100);
  });
  const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: own.url + '/v1', maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: 'still there?' }] });
  assert.match(r.choices[0]!.message.content ?? '', /^\d+ [0-9a-f]{64}$/);
  // The abandoned request is no longer counted as in flight: a drain does not wait for it.
  const started = Date.now();
  await own.close();
  assert.ok(Date.now() - started < 5000, `the drain waited ${Date.now() - started} ms`);
});

test('each answered request is in the added-latency histogram, its buckets cumulative as Prometheus reads them', async () => {
  const metrics = async () => (await request(gw.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text();
  const countOf = (text: string) => Number(text.match(/^distillwatch_gateway_added_latency_seconds_count (\d+)$/m)?.[1]);
  const before = countOf(await metrics());
  const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
  for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: 'echo', messages: [{ role: 'user', content: `timed ${i}` }] });
  await waitFor(async () => countOf(await metrics()) === before + 3, 'three more requests in the histogram');
  const text = await metrics();
  const buckets = [...text.matchAll(/^distillwatch_gateway_added_latency_seconds_bucket\{le="([^"]+)"\} (\d+)$/gm)].map((m) => ({ le: m[1], n: Number(m[2]) }));
  assert.equal(buckets.at(-1)?.le, '+Inf');
  assert.equal(buckets.at(-1)?.n, before + 3, 'the +Inf bucket holds every observation');
  for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.n >= buckets[i - 1]!.n, `bucket le=${buckets[i]!.le} is cumulative`);
  assert.ok(Number(text.match(/^distillwatch_gateway_added_latency_seconds_sum (\S+)$/m)?.[1]) > 0, 'the sum of the added latencies');
});
