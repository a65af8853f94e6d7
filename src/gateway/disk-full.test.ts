import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import OpenAI from 'openai';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import type { ExchangeFeatures } from '../core/features.js';
import { computeFeatures } from '../signals/features.js';
import { ExchangeLog } from './exchange-log.js';
import { ADMIN_TOKEN, startStubUpstream, startTestGateway, testConfig, type StubUpstream } from './_test-helpers.js';

/** The store behind a switch: while `down`, appends fail as on a full disk. */
function switchable(inner: Store): { store: Store; down: boolean } {
  const s = { down: false, store: inner };
  s.store = new Proxy(inner, {
    get: (target, prop, recv) => {
      if (prop === 'append') return (...args: Parameters<Store['append']>) => (s.down ? Promise.reject(new Error('IO Error: No space left on device')) : target.append(...args));
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return s;
}

async function allRows(store: Store): Promise<ExchangeFeatures[]> {
  const out: ExchangeFeatures[] = [];
  for await (const b of store.replay(1000)) out.push(...b);
  return out;
}

/** A 1 MB tmpfs: a real full disk, not a simulated one. Throws (never skips) when it cannot mount. */
function mountSmallDisk(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dw-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`Cannot mount a 1 MB tmpfs on "${dir}" for the full-disk test (needs root): ${(e as Error).message.split('\n')[0]}`);
  }
  return dir;
}

/** Writes a filler file until the disk refuses. */
function fill(dir: string): string {
  const path = join(dir, 'filler');
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return path;
}

let disk: string;
let stub: StubUpstream;

before(async () => {
  disk = mountSmallDisk();
  stub = await startStubUpstream();
});
after(async () => {
  await stub.close();
  execFileSync('umount', [disk]);
  rmSync(disk, { recursive: true, force: true });
});

test('a full disk under the store, the spool and the write-ahead log keeps the gateway serving, says so, and loses nothing once space is back', async () => {
  const duck = await openDuckDbStore(':memory:');
  const sw = switchable(duck);
  const spoolDir = join(disk, 'serve');
  mkdirSync(spoolDir);
  const gw = await startTestGateway(testConfig(stub.url, { spoolDir }), { store: sw.store });
  try {
    const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
    sw.down = true;
    const filler = fill(disk);
    for (let i = 0; i < 20; i++) await client.chat.completions.create({ model: 'm-full', messages: [{ role: 'user', content: `question ${i}` }] });
    await gw.analysis.drain();
    await gw.wal!.commit();
    // The flush runs the spool write that used to throw out of a timer and kill the process.
    await gw.log.flush();
    await gw.log.flush();
    assert.ok(gw.log.spoolFailures > 0, 'the spool write met the full disk');
    assert.ok(gw.wal!.unlogged > 0, 'the write-ahead log write met the full disk');
    assert.equal(gw.log.depth, 20, 'what the disk refused stays queued in memory');
    const ready = await request(gw.adminUrl + '/readyz');
    assert.equal(ready.statusCode, 200, 'logFailure "serve" keeps the replica in rotation');
    const body = (await ready.body.json()) as { log: string; exchanges_unlogged: number };
    assert.equal(body.log, 'failing');
    assert.ok(body.exchanges_unlogged > 0);
    const metrics = await (await request(gw.adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).body.text();
    assert.match(metrics, /distillwatch_gateway_log_writable 0/);
    assert.match(metrics, /distillwatch_gateway_exchanges_unlogged [1-9]/);

    unlinkSync(filler);
    sw.down = false;
    await client.chat.completions.create({ model: 'm-full', messages: [{ role: 'user', content: 'question 20' }] });
    await gw.analysis.drain();
    await gw.wal!.commit();
    await gw.log.flush();
    const rows = (await allRows(duck)).filter((r) => r.model === 'm-full');
    assert.equal(rows.length, 21);
    assert.equal(new Set(rows.map((r) => r.id)).size, 21);
    const again = (await (await request(gw.adminUrl + '/readyz')).body.json()) as { log: string };
    assert.equal(again.log, 'ok');
  } finally {
    await gw.close();
    await duck.close();
  }
});

test('with logFailure "refuse" a full disk answers 503 in the API\'s shape and /readyz is not ready', async () => {
  const duck = await openDuckDbStore(':memory:');
  const spoolDir = join(disk, 'refuse');
  mkdirSync(spoolDir);
  const gw = await startTestGateway(testConfig(stub.url, { spoolDir, logFailure: 'refuse' }), { store: duck });
  const filler = fill(disk);
  try {
    const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
    // The request that finds the disk full is served; the write that fails turns the next away.
    // Its body is larger than a page: a "full" file system still takes bytes into the free
    // tail of a page a file already holds (the log's segment starts with its header), so a
    // small record would fit there and nothing would fail.
    await client.chat.completions.create({ model: 'm-refuse', messages: [{ role: 'user', content: 'first '.repeat(2000) }] });
    await gw.wal!.commit();
    await assert.rejects(client.chat.completions.create({ model: 'm-refuse', messages: [{ role: 'user', content: 'second' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.APIError);
      assert.equal(e.status, 503);
      return true;
    });
    const ready = await request(gw.adminUrl + '/readyz');
    assert.equal(ready.statusCode, 503);
    assert.equal(((await ready.body.json()) as { log: string }).log, 'failing');
  } finally {
    unlinkSync(filler);
    await gw.close();
    await duck.close();
  }
});

test('a restart on a full disk with a write-ahead log cut off mid-line starts, replays the whole records and serves', async () => {
  const spoolDir = join(disk, 'restart');
  const walDir = join(spoolDir, 'wal');
  mkdirSync(walDir, { recursive: true });
  const record = (lsn: number) => {
    const body = Buffer.from(JSON.stringify({ model: 'm-walled', messages: [{ role: 'user', content: `before the crash ${lsn}` }] })).toString('base64');
    const f = { id: `gw_walled_${lsn}`, api: 'openai', accountId: 'acct_alice', apiKeyId: 'key_a', body, response: null, status: 200, startedAt: Date.parse('2026-05-01T00:00:00Z') + lsn, latencyMs: 3, action: 'allow' };
    return JSON.stringify({ lsn, f });
  };
  // What a kill -9 in the middle of a group write leaves: whole records, then part of one.
  writeFileSync(join(walDir, 'wal-gw1-0000000000000001.log'), record(1) + '\n' + record(2) + '\n' + record(3).slice(0, 50));
  const filler = fill(disk);
  const duck = await openDuckDbStore(':memory:');
  try {
    const gw = await startTestGateway(testConfig(stub.url, { spoolDir }), { store: duck });
    try {
      const client = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: gw.url + '/v1', maxRetries: 0 });
      await client.chat.completions.create({ model: 'm-after', messages: [{ role: 'user', content: 'after the restart' }] });
      await gw.analysis.drain();
      await gw.log.flush();
      const rows = await allRows(duck);
      assert.deepEqual(rows.filter((r) => r.model === 'm-walled').map((r) => r.id).sort(), ['gw_walled_1', 'gw_walled_2']);
      assert.equal(rows.filter((r) => r.model === 'm-after').length, 1);
      await gw.wal!.commit();
      assert.equal(((await (await request(gw.adminUrl + '/readyz')).body.json()) as { log: string }).log, 'failing');
    } finally {
      unlinkSync(filler);
      await gw.close();
    }
  } finally {
    await duck.close();
  }
});

test('a spool whose last line was cut off by a crash is replayed without it, the line set aside', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-torn-'));
  const duck = await openDuckDbStore(':memory:');
  try {
    const rows = [0, 1, 2].map((n) =>
      computeFeatures({ id: `gw_torn_${n}`, ts: new Date(Date.parse('2026-05-01T00:00:00Z') + n * 1000).toISOString(), account_id: 'acct_t', model: 'm', api: 'openai', request: { messages: [{ role: 'user', content: `q ${n}` }] }, response: { content: 'ok' }, status: 200 }),
    );
    const text = rows.map((r) => JSON.stringify(r)).join('\n') + '\n' + JSON.stringify(rows[0]).slice(0, 40);
    writeFileSync(join(dir, 'spool-r1.jsonl'), text);
    const errors: string[] = [];
    const log = new ExchangeLog({ store: duck, replicaId: 'r1', spoolDir: dir, flushIntervalMs: 60_000, onError: (e) => errors.push(e.message) });
    await log.close();
    assert.deepEqual((await allRows(duck)).map((r) => r.id).sort(), ['gw_torn_0', 'gw_torn_1', 'gw_torn_2']);
    assert.equal(log.setAside, 1);
    assert.ok(existsSync(join(dir, 'spool-r1.bad')));
    assert.equal(readFileSync(join(dir, 'spool-r1.bad'), 'utf8'), JSON.stringify(rows[0]).slice(0, 40) + '\n');
    assert.ok(errors.some((m) => /set aside/.test(m)));
  } finally {
    await duck.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
