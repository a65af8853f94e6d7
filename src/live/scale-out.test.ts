/**
 * The scaled-out gateway as deployed, each part its own process on one real redis-server:
 * two thin gateways, two detection workers, one linker. A simulated campaign is replayed
 * through both gateways; one worker is killed with SIGKILL mid-stream; the campaign must be
 * blocked on both gateways, and every forwarded exchange stored exactly once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { Redis } from 'ioredis';
import { prepareSimulation } from '../traffic/simulate.js';
import type { Exchange } from '../core/exchange.js';
import type { Truth } from '../traffic/actors.js';
import { openDuckDbStore } from '../store/duckdb/store.js';
import { startRedis, startStubUpstream, waitFor, waitForOutput, type RedisServer, type StubUpstream } from '../gateway/_test-helpers.js';
import { liveKeys } from './partition.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const PARTITIONS = 4;

let redis: RedisServer;
let stub: StubUpstream;
let dir: string;
let exchanges: Exchange[];
let truth: Truth;
const children: ChildProcess[] = [];

/** Starts a `distillwatch` command; `ready` resolves with its output once `ready` is in it (generous: a loaded machine starts Node slowly). */
function startCli(args: string[], ready: RegExp, level = 'info'): { child: ChildProcess; ready: Promise<string>; output: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISTILLWATCH_LOG_LEVEL: level } });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  return { child, ready: waitForOutput(child, ready, 90_000), output: () => out };
}

before(async () => {
  redis = await startRedis();
  stub = await startStubUpstream();
  dir = mkdtempSync(join(tmpdir(), 'dw-scale-out-'));
  const sim = await prepareSimulation({ scenario: 'demo', seed: 1 });
  exchanges = [...sim.exchanges];
  truth = sim.truth;
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await redis?.stop();
  await stub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const HARD_NEGATIVES = new Set(['saas', 'enterprise', 'university', 'eval_run', 'coding_agent', 'release_mover']);

/** How many partitions a worker's latest 'partitions moved' log line says it holds. */
function heldBy(output: string, worker: string): number {
  let held = 0;
  for (const line of output.split('\n')) {
    if (!line.includes('partitions moved')) continue;
    const l = JSON.parse(line) as { worker?: string; partitions?: number[] };
    if (l.worker === worker) held = l.partitions?.length ?? 0;
  }
  return held;
}

/** True once every input and feature stream is read and acknowledged by its group. */
async function settled(r: Redis): Promise<boolean> {
  const keys = liveKeys();
  for (let p = 0; p < PARTITIONS; p++) {
    for (const key of [keys.input(p), keys.features(p)]) {
      if ((await r.exists(key)) === 0) continue;
      const groups = (await r.xinfo('GROUPS', key)) as unknown[][];
      if (groups.length === 0) return false;
      for (const g of groups) {
        const info: Record<string, unknown> = {};
        for (let i = 0; i < g.length; i += 2) info[String(g[i])] = g[i + 1];
        if (Number(info.pending) !== 0 || Number(info.lag ?? 1) !== 0) return false;
      }
    }
  }
  return true;
}

test('two thin gateways, two workers and a linker block a campaign on both gateways and store every exchange once, a worker killed mid-stream', { timeout: 600_000 }, async () => {
  const db = join(dir, 'live.duckdb');
  const linker = startCli(['linker', '--redis', redis.url, '--db', db, '--partitions', String(PARTITIONS), '--link-interval-ms', '100'], /distillwatch linker:/);
  const workerA = startCli(['worker', '--redis', redis.url, '--partitions', String(PARTITIONS), '--name', 'wA', '--lease-ms', '1000'], /distillwatch worker wA:/);
  const workerB = startCli(['worker', '--redis', redis.url, '--partitions', String(PARTITIONS), '--name', 'wB', '--lease-ms', '1000'], /distillwatch worker wB:/);
  await Promise.all([linker.ready, workerA.ready, workerB.ready]);

  const keys: Record<string, string> = {};
  for (const id of Object.keys(truth.accounts)) keys['sk-' + id] = id;
  const urls: string[] = [];
  for (const name of ['gwA', 'gwB']) {
    const gdir = join(dir, name);
    mkdirSync(gdir);
    // The test client stands for the edge: it is the one that sends edge metadata.
    const config = { upstream: stub.url, keys, replicaId: name, redisUrl: redis.url, spoolDir: join(gdir, 'spool'), edge: { trustedAddresses: ['127.0.0.1/32'] }, analysis: { mode: 'stream', partitions: PARTITIONS } };
    writeFileSync(join(gdir, 'gateway.json'), JSON.stringify(config));
    const g = startCli(['gateway', '--config', join(gdir, 'gateway.json'), '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], /gateway listening on http:\/\/[^,\s]+/, 'warn');
    urls.push(/gateway listening on (http:\/\/[^,\s]+)/.exec(await g.ready)![1]!);
  }
  const pools = urls.map((u) => new Pool(u, { connections: 8 }));

  const send = async (i: number, ex: Exchange): Promise<number> => {
    const body = { ...ex.request, model: ex.model, max_tokens: ex.request.max_tokens ?? 256 };
    const edge = { ts: ex.ts, client: ex.client ?? {}, account: ex.account ?? {}, ...(ex.org_id ? { org_id: ex.org_id } : {}) };
    const r = await pools[i % 2]!.request({
      path: '/v1/messages',
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': 'sk-' + ex.account_id, 'anthropic-version': '2023-06-01', 'x-distillwatch-edge': JSON.stringify(edge) },
      body: JSON.stringify(body),
    });
    await r.body.dump();
    return r.statusCode;
  };

  // Replayed in event-time order, each account's requests spread over both gateways.
  const outcomes = new Map<string, number[]>();
  let next = 0;
  const killAt = Math.floor(exchanges.length / 3);
  let killed = false;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < exchanges.length) {
        const i = next++;
        if (i >= killAt && !killed) {
          killed = true;
          workerA.child.kill('SIGKILL');
        }
        const ex = exchanges[i]!;
        const status = await send(i, ex);
        const list = outcomes.get(ex.account_id) ?? [];
        list.push(status);
        outcomes.set(ex.account_id, list);
      }
    }),
  );
  assert.equal(workerA.child.signalCode ?? (await new Promise((r) => workerA.child.once('exit', (_c, s) => r(s)))), 'SIGKILL');

  // The survivor took the dead worker's partitions and its pending entries.
  await waitFor(() => heldBy(workerB.output(), 'wB') === PARTITIONS, 'worker B holding every partition', 30_000, 100);

  // Every request that reached the model is an exchange to store, a request cut by a block
  // in flight included; a refused one never reaches it.
  const forwarded = stub.requests;
  const r = new Redis(redis.url);
  try {
    await waitFor(() => settled(r), 'every stream read and acknowledged', 120_000, 200);
    linker.child.kill('SIGUSR2');
    // Attackers: refused (403 blocked, 429 throttled) at some point, some while running.
    let attackers = 0;
    let stopped = 0;
    for (const [id, statuses] of outcomes) {
      const t = truth.accounts[id];
      if (!t?.malicious) continue;
      attackers++;
      if (statuses.some((s) => s === 403 || s === 429)) stopped++;
    }
    assert.ok(attackers > 0);
    assert.ok(stopped > 0, `no attacker account was throttled or blocked (of ${attackers})`);
    // Every account the linker flagged is blocked on both gateways, by the standing pushed to each.
    const flagged: string[] = [];
    for (const id of Object.keys(truth.accounts)) {
      const risk = Number((await r.hget(`dw:acct:${id}`, 'risk')) ?? 0);
      if (risk >= 0.95) flagged.push(id);
    }
    assert.ok(flagged.length > 0, 'the linker flagged no account');
    const attacker = flagged.find((id) => truth.accounts[id]!.malicious);
    assert.ok(attacker !== undefined, `no attacker among the flagged: ${flagged.slice(0, 5).join(', ')}`);
    const ex = exchanges.find((e) => e.account_id === attacker)!;
    assert.equal(await send(0, ex), 403, 'gateway A serves a flagged attacker');
    assert.equal(await send(1, ex), 403, 'gateway B serves a flagged attacker');
    for (const [id, statuses] of outcomes) {
      const t = truth.accounts[id];
      if (t && HARD_NEGATIVES.has(t.population)) assert.ok(statuses.every((s) => s === 200), `hard negative ${id} (${t.population}) was refused`);
    }
  } finally {
    r.disconnect();
    for (const p of pools) await p.close();
  }

  // Stop the linker (it holds the store), then count.
  linker.child.kill('SIGTERM');
  await new Promise((res) => linker.child.once('exit', res));
  const store = await openDuckDbStore(db, { readOnly: true });
  try {
    const ids = new Set<string>();
    let rows = 0;
    for await (const batch of store.replay(5000)) {
      for (const row of batch) {
        rows++;
        ids.add(row.id);
      }
    }
    assert.equal(rows, ids.size, 'an exchange id stored twice');
    assert.equal(rows, forwarded, `forwarded ${forwarded} exchanges, stored ${rows}`);
  } finally {
    await store.close();
  }
});
