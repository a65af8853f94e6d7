import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { request } from 'undici';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { ExchangeFeatures } from '../core/features.js';
import { sleep, TEST_KEYS, useStubUpstreamAndTempDir } from './_test-helpers.js';
import { startGatewayProcess } from './_process.js';

const fixture = useStubUpstreamAndTempDir('dw-drain-');
const { dir } = fixture;

/** Starts a 3-second stream (100 pieces, 30 ms apart) and resolves once its first piece is in. */
async function slowStream(url: string, i: number): Promise<{ done: Promise<string> }> {
  let started!: () => void;
  const first = new Promise<void>((r) => (started = r));
  const done = (async () => {
    let text = '';
    if (i % 2 === 0) {
      const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: url + '/v1', maxRetries: 0 });
      for await (const c of await client.chat.completions.create({ model: 'slow-stream', messages: [{ role: 'user', content: `long ${i}` }], stream: true })) {
        text += c.choices[0]?.delta.content ?? '';
        started();
      }
    } else {
      const client = new Anthropic({ apiKey: 'sk-bob-0002', baseURL: url, maxRetries: 0 });
      for await (const e of await client.messages.create({ model: 'slow-stream', max_tokens: 100, messages: [{ role: 'user', content: `long ${i}` }], stream: true })) {
        if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
        started();
      }
    }
    return text;
  })();
  // A stream that fails before its first piece must not leave the caller waiting.
  await Promise.race([first, done.then(() => undefined, () => undefined)]);
  return { done };
}

async function storedRows(path: string): Promise<ExchangeFeatures[]> {
  const store = await openDuckDbStore(path);
  try {
    const out: ExchangeFeatures[] = [];
    for await (const b of store.replay(1000)) out.push(...b);
    return out;
  } finally {
    await store.close();
  }
}

test('SIGTERM stops accepting at once and lets streams in flight finish whole', async () => {
  const storePath = join(dir, 'finish.duckdb');
  const gw = await startGatewayProcess(dir, { upstream: fixture.stub.url, keys: TEST_KEYS, storePath, spoolDir: join(dir, 'spool-finish'), drainTimeoutMs: 20_000 });
  const streams = await Promise.all(Array.from({ length: 10 }, (_, i) => slowStream(gw.url, i)));
  gw.child.kill('SIGTERM');
  let refused = false;
  for (let i = 0; i < 40 && !refused; i++) {
    await sleep(50);
    try {
      const r = await request(gw.url + '/readyz');
      await r.body.dump();
    } catch (e) {
      refused = (e as NodeJS.ErrnoException).code === 'ECONNREFUSED';
    }
  }
  assert.ok(refused, 'a draining gateway takes no new connection');
  const texts = await Promise.all(streams.map((s) => s.done));
  for (const t of texts) assert.equal(t.split(' ').filter((w) => w.length > 0).length, 100, 'every stream ends whole');
  assert.equal(await gw.exited, 0, gw.output());
  const rows = (await storedRows(storePath)).filter((r) => r.model === 'slow-stream');
  assert.equal(rows.length, 10);
  assert.ok(rows.every((r) => r.status === 200));
});

test('streams still running at the drain deadline end with an API-shaped error event and are recorded as cut', async () => {
  const storePath = join(dir, 'cut.duckdb');
  const gw = await startGatewayProcess(dir, { upstream: fixture.stub.url, keys: TEST_KEYS, storePath, spoolDir: join(dir, 'spool-cut'), drainTimeoutMs: 300 });
  const streams = await Promise.all(Array.from({ length: 4 }, (_, i) => slowStream(gw.url, i)));
  gw.child.kill('SIGTERM');
  for (const s of streams) {
    await assert.rejects(s.done, (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError || e instanceof Anthropic.APIError, `not an API error: ${String(e)}`);
      assert.match((e as Error).message, /shutting down/);
      return true;
    });
  }
  assert.equal(await gw.exited, 0, gw.output());
  const rows = (await storedRows(storePath)).filter((r) => r.model === 'slow-stream');
  assert.equal(rows.length, 4);
  assert.ok(rows.every((r) => r.status === 503), `statuses ${rows.map((r) => r.status).join(',')}`);
});
