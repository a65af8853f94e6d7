/**
 * Fault benchmark: the gateway under 32-way load (official clients, both APIs, streamed and
 * not) while something goes wrong, each gateway its own process logging into its own DuckDB
 * store. For each fault it prints requests answered, exchanges stored, lost (answered and
 * not stored) and doubled (stored twice); then the latency a commit interval of the
 * write-ahead log costs (0, 5 and 20 ms).
 *
 *   npm run bench:faults -- [--seconds 3] [--clients 32]
 *
 * Needs redis-server (with DEBUG allowed from loopback, as the tests start it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { Redis } from 'ioredis';
import { startRedis, startStubUpstream, TEST_KEYS, sleep } from '../gateway/_test-helpers.js';
import { startGatewayProcess, startLoad, storedModels, tally, type GatewayProcess, type Load } from '../gateway/_process.js';
import { numberArg } from './numeric-arg.js';

const SECONDS = numberArg('seconds', 3);
const CLIENTS = numberArg('clients', 32);

interface Row {
  fault: string;
  answered: number;
  stored: number;
  lost: number;
  doubled: number;
  note: string;
}

const dir = mkdtempSync(join(tmpdir(), 'dw-faults-'));
let runs = 0;

function gatewayConfig(upstream: string, name: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { upstream, keys: TEST_KEYS, replicaId: name, storePath: join(dir, `${name}.duckdb`), spoolDir: join(dir, `spool-${name}`), ...extra };
}

/** A fresh folder per gateway process (its config file lives there). */
function runDir(): string {
  const d = join(dir, `run-${++runs}`);
  return mkdtempSync(d);
}

async function stopClean(gw: GatewayProcess): Promise<void> {
  if (gw.child.exitCode !== null || gw.child.signalCode !== null) return;
  gw.child.kill('SIGTERM');
  await gw.exited;
}

async function killUnderLoad(upstream: string, commitIntervalMs: number): Promise<Row> {
  const name = `kill${commitIntervalMs}`;
  const config = gatewayConfig(upstream, name, { durability: { commitIntervalMs } });
  const d = runDir();
  const gw = await startGatewayProcess(d, config);
  const load = startLoad(gw.url, `m-${name}`, CLIENTS);
  await sleep(SECONDS * 1000);
  gw.child.kill('SIGKILL');
  await gw.exited;
  await load.stop();
  // The restart replays the write-ahead log; a clean stop writes it all to the store.
  await stopClean(await startGatewayProcess(d, config));
  const t = tally(load.answered, await storedModels(config.storePath as string, `m-${name}`));
  return { fault: `kill -9 under load, commit ${commitIntervalMs} ms`, ...t, note: '' };
}

async function sigtermUnderLoad(upstream: string): Promise<Row> {
  const config = gatewayConfig(upstream, 'term', { drainTimeoutMs: 10_000 });
  const gw = await startGatewayProcess(runDir(), config);
  const load = startLoad(gw.url, 'm-term', CLIENTS);
  await sleep(SECONDS * 1000);
  gw.child.kill('SIGTERM');
  const code = await gw.exited;
  await load.stop();
  const refused = [...load.failed.values()].reduce((a, b) => a + b, 0);
  const t = tally(load.answered, await storedModels(config.storePath as string, 'm-term'));
  return { fault: 'SIGTERM under load (drain)', ...t, note: `exit ${code}; ${refused} requests after the drain began refused (retryable)` };
}

/** Two replicas on one Redis, half the clients each; `fault` runs mid-load. */
async function redisFault(upstream: string, label: string, fault: (redisUrl: string) => Promise<string>): Promise<Row> {
  const redis = await startRedis();
  const names = [`${label}a`, `${label}b`];
  const configs = names.map((n) => gatewayConfig(upstream, n, { redisUrl: redis.url }));
  const gws = await Promise.all(configs.map((c) => startGatewayProcess(runDir(), c)));
  const loads: Load[] = gws.map((g, i) => startLoad(g.url, `m-${names[i]}`, CLIENTS / 2));
  await sleep(500);
  let note = '';
  try {
    note = await fault(redis.url);
    await sleep(SECONDS * 1000);
  } finally {
    for (const l of loads) await l.stop();
    for (const g of gws) await stopClean(g);
    await redis.stop();
  }
  const rows = await Promise.all(configs.map((c, i) => storedModels(c.storePath as string, `m-${names[i]}`)));
  const t = rows.map((r, i) => tally(loads[i]!.answered, r));
  return {
    fault: label,
    answered: t[0]!.answered + t[1]!.answered,
    stored: t[0]!.stored + t[1]!.stored,
    lost: t[0]!.lost + t[1]!.lost,
    doubled: t[0]!.doubled + t[1]!.doubled,
    note,
  };
}

/** Added latency: p50/p99 of unstreamed requests through the gateway, closed loop, per commit interval. */
async function commitLatency(upstream: string, commitIntervalMs: number | null): Promise<{ setting: string; p50: number; p99: number; rps: number }> {
  const name = commitIntervalMs === null ? 'nostore' : `lat${commitIntervalMs}`;
  const config = commitIntervalMs === null ? { upstream, keys: TEST_KEYS, spoolDir: join(dir, 'spool-nostore') } : gatewayConfig(upstream, name, { durability: { commitIntervalMs } });
  const gw = await startGatewayProcess(runDir(), config);
  const pool = new Pool(gw.url, { connections: CLIENTS });
  const body = JSON.stringify({ model: 'm-lat', messages: [{ role: 'user', content: 'hi' }] });
  const headers = { authorization: 'Bearer sk-alice-0001', 'content-type': 'application/json' };
  const times: number[] = [];
  const one = async () => {
    const r = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers, body });
    await r.body.dump();
  };
  // Warm-up, then measure.
  const until = async (ms: number, record: boolean) => {
    const end = performance.now() + ms;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await one();
          if (record) times.push(performance.now() - t0);
        }
      }),
    );
  };
  await until(1000, false);
  await until(SECONDS * 1000, true);
  await pool.close();
  await stopClean(gw);
  times.sort((a, b) => a - b);
  const pct = (p: number) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]!;
  return { setting: commitIntervalMs === null ? 'no store, no log' : `commit ${commitIntervalMs} ms`, p50: pct(50), p99: pct(99), rps: times.length / SECONDS };
}

async function main(): Promise<void> {
  const stub = await startStubUpstream();
  try {
    const rows: Row[] = [];
    for (const ms of [0, 5, 20]) rows.push(await killUnderLoad(stub.url, ms));
    rows.push(await sigtermUnderLoad(stub.url));
    rows.push(
      await redisFault(stub.url, 'redis-stall', async (url) => {
        const admin = new Redis(url);
        await admin.call('DEBUG', 'SLEEP', '0.5');
        admin.disconnect();
        return 'DEBUG SLEEP 0.5 mid-load';
      }),
    );
    rows.push(
      await redisFault(stub.url, 'redis-kill', async (url) => {
        const admin = new Redis(url, { retryStrategy: () => null });
        admin.on('error', () => undefined);
        await admin.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
        admin.disconnect();
        return 'redis-server shut down mid-load (open mode)';
      }),
    );
    const w = [40, 9, 7, 5, 8];
    const line = (cells: (string | number)[]) => cells.map((c, i) => String(c).padEnd(w[i] ?? 0)).join(' ');
    console.log(`\nFaults (${CLIENTS} clients, ${SECONDS} s of load each, one gateway process per replica)\n`);
    console.log(line(['fault', 'answered', 'stored', 'lost', 'doubled', 'note']));
    for (const r of rows) console.log(line([r.fault, r.answered, r.stored, r.lost, r.doubled, r.note]));

    console.log(`\nLatency the write-ahead log's commit interval costs (unstreamed, ${CLIENTS} clients, closed loop)\n`);
    console.log(['setting'.padEnd(20), 'p50 ms'.padEnd(8), 'p99 ms'.padEnd(8), 'req/s'].join(' '));
    for (const s of [null, 0, 5, 20]) {
      const m = await commitLatency(stub.url, s);
      console.log([m.setting.padEnd(20), m.p50.toFixed(2).padEnd(8), m.p99.toFixed(2).padEnd(8), m.rps.toFixed(0)].join(' '));
    }
  } finally {
    await stub.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(`bench:faults: ${(e as Error).message}`);
    process.exit(1);
  },
);
