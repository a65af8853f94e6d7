/**
 * Gateway benchmark: the latency the gateway adds (p50, p99) at a fixed request rate, and
 * its throughput under a closed loop, side by side with a direct connection to the stub
 * upstream, with nginx as a plain reverse proxy, and with a bare Node proxy (the floor for
 * anything written on Node), all in one run on loopback. The gateway logs every exchange
 * into a DuckDB store, as deployed; `--no-store` leaves the store out to show its share.
 *
 * The thin gateway (`analysis.mode` "stream", a redis-server started here on loopback) is
 * measured in the same run against the bare Node proxy (target: >= 90% of its throughput,
 * p99 within 1 ms of its p99), and then the detection workers behind it: the exchanges it
 * appended are read again by 1, 2 and 4 worker processes, each count timed from start to
 * the last acknowledgement.
 *
 * Fairness: every target is driven by the same load generator, a fresh process each time
 * (gateway-load.ts), against the same stub upstream, with the same rate and closed-loop
 * concurrency. The bare proxy and the thin gateway are measured in `--rounds` rounds, their
 * order alternating, and compared on the medians; the single-process gateway runs last and
 * alone, so that its analysis backlog never runs beside another target's measurement.
 *
 * The thin gateway's write-ahead log is read from its /metrics around each of its runs: how
 * many exchanges it wrote and fsynced, how many Redis took before their group was due (never
 * written), and how many groups (one write and one fsync each) that took.
 *
 * CPU per request: each process's CPU time (user and system, from /proc/<pid>/stat) over a
 * load run, divided by the requests answered in it. Unlike throughput, it is hardly moved by
 * other work on a shared machine, and on a machine whose cores are the bound, throughput
 * follows the sum of it over the processes a request crosses. Linux only; "n/a" elsewhere.
 *
 *   npm run bench:gateway -- [--rate 2000] [--seconds 5] [--warmup 2] [--concurrency 64] [--rounds 3] [--no-store] [--no-thin] [--only bare,thin]
 *
 * `--only bare,thin` measures the bare proxy and the thin gateway alone (no direct, nginx,
 * single-process gateway or workers): the quick loop for work on the thin gateway's cost.
 * `--cpu-prof DIR` runs the bare proxy and the thin gateway under `node --cpu-prof`, their
 * profiles written to DIR when they stop (to compare where each spends its CPU, side by side).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { Redis } from 'ioredis';
import { freePort, startRedis, type RedisServer } from '../gateway/_test-helpers.js';
import { liveKeys } from '../live/partition.js';
import { entryRequests } from '../live/codec.js';
import type { LoadFigures, LoadPlan } from './gateway-load.js';
import { numberArg } from './numeric-arg.js';

const RATE = numberArg('rate', 2000);
const SECONDS = numberArg('seconds', 5);
const CONCURRENCY = numberArg('concurrency', 64);
const WARMUP = numberArg('warmup', 2);
const ROUNDS = Math.max(1, Math.round(numberArg('rounds', 3)));
const WITH_STORE = !process.argv.includes('--no-store');
const WITH_THIN = !process.argv.includes('--no-thin');
const ONLY_BARE_THIN = process.argv.includes('--only');
const PROFILE_DIR = (() => {
  const i = process.argv.indexOf('--cpu-prof');
  return i === -1 ? null : (process.argv[i + 1] ?? null);
})();
/** Node's flags for a profiled process (none unless `--cpu-prof DIR`). */
const profiled = (name: string): string[] => (PROFILE_DIR === null ? [] : ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${name}.cpuprofile`]);
const PARTITIONS = 8;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const STUB = `
const http = require('node:http');
const body = JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'm',
  choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } });
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }); res.end(body); }); });
s.keepAliveTimeout = 60000;
s.listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('ready\\n'));`;

// The floor for any proxy written on Node: node:http in, an undici pool out, no logic. It
// separates what the runtime costs from what the gateway's own work costs.
const BARE_NODE_PROXY = `
const http = require('node:http');
const { Pool } = require(process.argv[3]);
const pool = new Pool('http://127.0.0.1:' + process.argv[2], { connections: 256 });
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding']);
const s = http.createServer({ keepAliveTimeout: 30000 }, (req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const body = Buffer.concat(chunks);
    const up = await pool.request({ path: req.url, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': String(body.length) }, body });
    const h = {};
    for (const [k, v] of Object.entries(up.headers)) if (!HOP.has(k)) h[k] = v;
    res.writeHead(up.statusCode, h);
    for await (const c of up.body) res.write(c);
    res.end();
  });
});
s.listen(Number(process.argv[1]), '127.0.0.1', () => process.stdout.write('ready\\n'));
// A profiled process writes its profile only on a normal exit.
process.on('SIGTERM', () => process.exit(0));`;

async function waitFor(child: ChildProcess, text: string, what: string): Promise<void> {
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`Cannot start ${what}: no "${text}" within 60 s: ${out.slice(-300)}`)), 60_000);
    const on = (c: Buffer) => {
      out += c.toString();
      if (out.includes(text)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout?.on('data', on);
    child.stderr?.on('data', on);
    child.once('exit', (code) => reject(new Error(`Cannot start ${what}: exited with ${code}: ${out.slice(-300)}`)));
  });
}

async function waitForPort(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      return;
    } catch {
      await sleep(25);
    }
  }
  throw new Error(`Cannot reach ${url}`);
}

/** A load run's figures, with the CPU microseconds per request of each watched process (null where /proc cannot tell). */
type Figures = LoadFigures & { cpu: Record<string, number | null> };

/** A process whose CPU time is read around each load run. */
interface Watched {
  name: string;
  pid: number | undefined;
}

const CLOCK_TICKS = (() => {
  const r = spawnSync('getconf', ['CLK_TCK']);
  const n = Number(r.stdout?.toString().trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

/**
 * A process's CPU time so far (user + system), with that of its children still running
 * (nginx serves from a worker process under its master), microseconds; null off Linux or
 * once it is gone.
 */
function cpuTimeUs(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count from after it.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    let us = ((Number(rest[11]) + Number(rest[12])) / CLOCK_TICKS) * 1e6;
    for (const child of readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ')) {
      if (child.trim() !== '') us += cpuTimeUs(Number(child)) ?? 0;
    }
    return us;
  } catch {
    return null;
  }
}

const LOAD = fileURLToPath(new URL('./gateway-load.js', import.meta.url));

/**
 * One load run against `origin`, from a load generator process of its own, with the CPU
 * time per request of each of `watch` (read before the run and after the pause that follows
 * it, so that work the target does just after its load counts too) and of the load generator.
 */
async function measure(origin: string, watch: readonly Watched[] = []): Promise<Figures> {
  const before = watch.map((w) => cpuTimeUs(w.pid));
  const plan: LoadPlan = { origin, rate: RATE, seconds: SECONDS, warmup: WARMUP, concurrency: CONCURRENCY };
  const child = spawn(process.execPath, [LOAD, JSON.stringify(plan)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`the load generator against ${origin} exited with ${code}: ${err.trim().slice(-300)}`);
  // A pause between targets: the last one's sockets close and its process settles first.
  await sleep(1000);
  const load = JSON.parse(out) as LoadFigures;
  const cpu: Record<string, number | null> = { load: load.requests > 0 ? load.cpuUs / load.requests : null };
  watch.forEach((w, i) => {
    const a = before[i];
    const b = cpuTimeUs(w.pid);
    cpu[w.name] = a === null || a === undefined || b === null || load.requests === 0 ? null : (b - a) / load.requests;
  });
  return { ...load, cpu };
}

const ADMIN_TOKEN = randomBytes(16).toString('hex');

/** The thin gateway's write-ahead log counts so far, from its /metrics. */
interface WalCounts {
  written: number;
  unwritten: number;
  fsyncs: number;
  /** Cumulative bucket counts of the stream's histograms, by upper bound (seconds, as printed). */
  taken: Map<string, number>;
  roundTrip: Map<string, number>;
}

/** A histogram's cumulative bucket counts from /metrics text, by upper bound. */
function buckets(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\S+)$`, 'gm'))) out.set(m[1]!, Number(m[2]));
  return out;
}

function bucketsDiff(a: Map<string, number>, b: Map<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [le, n] of b) out.set(le, n - (a.get(le) ?? 0));
  return out;
}

/** Each bound's share of the count ("<=1ms 40%"), from cumulative bucket counts. */
function shares(h: Map<string, number>): string {
  const all = h.get('+Inf') ?? 0;
  if (all === 0) return 'n/a';
  const parts: string[] = [];
  for (const [le, n] of h) if (le !== '+Inf') parts.push(`<=${(Number(le) * 1000).toString()}ms ${((n / all) * 100).toFixed(0)}%`);
  return parts.join(' ');
}

async function walCounts(adminUrl: string): Promise<WalCounts> {
  const r = await fetch(adminUrl + '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const text = await r.text();
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
  return {
    written: metric('distillwatch_gateway_wal_written_total'),
    unwritten: metric('distillwatch_gateway_wal_unwritten_total'),
    fsyncs: metric('distillwatch_gateway_wal_fsyncs_total'),
    taken: buckets(text, 'distillwatch_gateway_stream_taken_seconds'),
    roundTrip: buckets(text, 'distillwatch_gateway_stream_round_trip_seconds'),
  };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** The median of each figure over the rounds (each figure on its own). */
function medianOf(runs: readonly Figures[]): Figures {
  const of = (k: keyof LoadFigures) => median(runs.map((r) => r[k]));
  const cpu: Record<string, number | null> = {};
  for (const name of Object.keys(runs[0]?.cpu ?? {})) {
    const xs = runs.map((r) => r.cpu[name]);
    cpu[name] = xs.some((x) => x === null || x === undefined) ? null : median(xs as number[]);
  }
  return { p50: of('p50'), p99: of('p99'), rate: of('rate'), errors: runs.reduce((n, r) => n + r.errors, 0), throughput: of('throughput'), requests: of('requests'), cpuUs: of('cpuUs'), cpu };
}

async function main(): Promise<number> {
  // The machine's load is printed with the figures: on a shared machine it says how far to trust them.
  const loadAtStart = loadavg()[0]!;
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) {
    process.stderr.write('nginx is not installed: install it (apt-get install nginx-light) to compare with a plain reverse proxy\n');
    return 2;
  }
  const nginxBin = spawnSync('sh', ['-c', 'command -v nginx']).stdout.toString().trim();
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-'));
  const children: ChildProcess[] = [];
  let redis: RedisServer | null = null;
  try {
    const stubPort = await freePort();
    const stub = spawn(process.execPath, ['-e', STUB, String(stubPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(stub);
    await waitFor(stub, 'ready', 'the stub upstream');

    const nginxPort = await freePort();
    writeFileSync(join(dir, 'nginx.conf'), `
worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream model { server 127.0.0.1:${stubPort}; keepalive 256; }
  server {
    listen 127.0.0.1:${nginxPort};
    keepalive_requests 1000000;
    location / { proxy_pass http://model; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}`);
    const nginx = spawn(nginxBin, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(nginx);

    const barePort = await freePort();
    const undiciEntry = createRequire(import.meta.url).resolve('undici');
    const bare = spawn(process.execPath, [...profiled('bare'), '-e', BARE_NODE_PROXY, String(barePort), String(stubPort), undiciEntry], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(bare);
    await waitFor(bare, 'ready', 'the bare Node proxy');

    const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
    const thinPort = await freePort();
    let thinPid: number | undefined;
    let thinAdmin = '';
    if (WITH_THIN) {
      redis = await startRedis();
      thinAdmin = `http://127.0.0.1:${await freePort()}`;
      writeFileSync(join(dir, 'thin.json'), JSON.stringify({ upstream: `http://127.0.0.1:${stubPort}`, keys: { 'sk-bench-0001': 'acct_bench' }, adminListen: { host: '127.0.0.1', port: Number(new URL(thinAdmin).port) }, replicaId: 'thin', spoolDir: join(dir, 'thin-spool'), redisUrl: redis.url, analysis: { mode: 'stream', partitions: PARTITIONS } }));
      const thin = spawn(process.execPath, [...profiled('thin'), main, 'gateway', '--config', join(dir, 'thin.json'), '--listen', `127.0.0.1:${thinPort}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DISTILLWATCH_LOG_LEVEL: 'warn', DISTILLWATCH_ADMIN_TOKEN: ADMIN_TOKEN },
      });
      children.push(thin);
      thinPid = thin.pid;
      await waitFor(thin, 'gateway listening', 'the thin gateway');
    }
    await waitForPort(`http://127.0.0.1:${nginxPort}/`);

    const results: Record<string, Figures> = {};
    const stubW: Watched = { name: 'stub', pid: stub.pid };
    if (!ONLY_BARE_THIN) {
      results.direct = await measure(`http://127.0.0.1:${stubPort}`, [stubW]);
      results.nginx = await measure(`http://127.0.0.1:${nginxPort}`, [{ name: 'proxy', pid: nginx.pid }, stubW]);
    }
    const bareWatch: Watched[] = [{ name: 'proxy', pid: bare.pid }, stubW];
    const thinWatch: Watched[] = [{ name: 'proxy', pid: thinPid }, { name: 'redis', pid: redis?.process.pid }, stubW];
    // The bare proxy and the thin gateway in rounds, in alternating order: a machine that
    // gets busier or quieter during the run weighs on both alike.
    const rounds: { bare: Figures; thin: Figures | null; wal: WalCounts | null }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const bareFirst = i % 2 === 0;
      let bareRun: Figures | null = bareFirst ? await measure(`http://127.0.0.1:${barePort}`, bareWatch) : null;
      const walBefore = WITH_THIN ? await walCounts(thinAdmin) : null;
      const thinRun = WITH_THIN ? await measure(`http://127.0.0.1:${thinPort}`, thinWatch) : null;
      const walAfter = WITH_THIN ? await walCounts(thinAdmin) : null;
      bareRun ??= await measure(`http://127.0.0.1:${barePort}`, bareWatch);
      const wal = walBefore && walAfter
        ? {
            written: walAfter.written - walBefore.written,
            unwritten: walAfter.unwritten - walBefore.unwritten,
            fsyncs: walAfter.fsyncs - walBefore.fsyncs,
            taken: bucketsDiff(walBefore.taken, walAfter.taken),
            roundTrip: bucketsDiff(walBefore.roundTrip, walAfter.roundTrip),
          }
        : null;
      rounds.push({ bare: bareRun, thin: thinRun, wal });
    }
    results['bare-node'] = medianOf(rounds.map((r) => r.bare));
    if (WITH_THIN) results.thin = medianOf(rounds.map((r) => r.thin!));

    if (!ONLY_BARE_THIN) {
      // The single-process gateway last and alone: its analysis thread and store work on
      // after its load ends, and would weigh on whatever ran next.
      const gwPort = await freePort();
      writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ upstream: `http://127.0.0.1:${stubPort}`, keys: { 'sk-bench-0001': 'acct_bench' }, adminListen: { host: '127.0.0.1', port: 0 }, spoolDir: join(dir, 'spool'), ...(WITH_STORE ? { storePath: join(dir, 'gateway.duckdb') } : {}) }));
      const gw = spawn(process.execPath, [main, 'gateway', '--config', join(dir, 'gateway.json'), '--listen', `127.0.0.1:${gwPort}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, DISTILLWATCH_LOG_LEVEL: 'warn' },
      });
      children.push(gw);
      await waitFor(gw, 'gateway listening', 'the gateway');
      results.gateway = await measure(`http://127.0.0.1:${gwPort}`, [{ name: 'proxy', pid: gw.pid }, stubW]);
      gw.kill('SIGTERM');
    }

    const f = (n: number) => n.toFixed(3);
    const us = (n: number | null | undefined) => (n === null || n === undefined ? 'n/a' : n.toFixed(0));
    process.stdout.write(`Fixed rate ${RATE} req/s for ${SECONDS} s after ${WARMUP} s of warm-up (latency), closed loop of ${CONCURRENCY} for ${SECONDS} s (throughput), each from a load generator process of its own; bare Node proxy and thin gateway: medians of ${ROUNDS} rounds; gateway ${WITH_STORE ? 'logging into a DuckDB store' : 'without a store'}; ${cpus().length} cores, load average ${loadAtStart.toFixed(1)} at the start, ${loadavg()[0]!.toFixed(1)} at the end\n`);
    process.stdout.write('CPU µs per request (user + system, over the whole load run): proxy = the target\'s process, redis = redis-server (thin only), stub = the stub upstream, load = the load generator\n');
    process.stdout.write('target    p50 ms   p99 ms   achieved req/s   errors   throughput req/s   CPU µs/req: proxy  redis   stub   load\n');
    for (const [name, r] of Object.entries(results)) {
      process.stdout.write(`${name.padEnd(9)} ${f(r.p50).padStart(6)} ${f(r.p99).padStart(8)} ${r.rate.toFixed(0).padStart(16)} ${String(r.errors).padStart(8)} ${r.throughput.toFixed(0).padStart(18)} ${us(r.cpu.proxy).padStart(18)} ${(name === 'thin' ? us(r.cpu.redis) : '-').padStart(6)} ${us(r.cpu.stub).padStart(6)} ${us(r.cpu.load).padStart(6)}\n`);
    }
    const d = results.direct;
    const n = results.nginx;
    const g = results.gateway;
    if (d && g) process.stdout.write(`gateway added latency vs direct: p50 ${f(g.p50 - d.p50)} ms, p99 ${f(g.p99 - d.p99)} ms (target p99 < 1 ms)\n`);
    if (d && n) process.stdout.write(`nginx added latency vs direct:   p50 ${f(n.p50 - d.p50)} ms, p99 ${f(n.p99 - d.p99)} ms\n`);
    const b = results['bare-node']!;
    if (d) process.stdout.write(`bare Node proxy added latency:   p50 ${f(b.p50 - d.p50)} ms, p99 ${f(b.p99 - d.p99)} ms\n`);
    const t = results.thin;
    if (t) {
      if (d) process.stdout.write(`thin gateway added latency:      p50 ${f(t.p50 - d.p50)} ms, p99 ${f(t.p99 - d.p99)} ms\n`);
      process.stdout.write(`bare Node proxy and thin gateway, round by round (order alternating; the table gives the medians):\nround  bare p99 ms  thin p99 ms  bare req/s  thin req/s  ratio  bare CPU µs/req  thin+redis CPU µs/req\n`);
      rounds.forEach((r, i) => {
        const th = r.thin!;
        const thinCpu = th.cpu.proxy === null || th.cpu.redis === null ? null : th.cpu.proxy! + th.cpu.redis!;
        process.stdout.write(`${String(i + 1).padStart(5)} ${f(r.bare.p99).padStart(11)} ${f(th.p99).padStart(12)} ${r.bare.throughput.toFixed(0).padStart(11)} ${th.throughput.toFixed(0).padStart(11)} ${((th.throughput / r.bare.throughput) * 100).toFixed(0).padStart(5)}% ${us(r.bare.cpu.proxy).padStart(16)} ${us(thinCpu).padStart(22)}\n`);
      });
      process.stdout.write(`the thin gateway's write-ahead log, round by round (exchanges settled before their group was due are never written; each group is one write and one fsync):\nround  written  unwritten  share written  fsyncs\n`);
      rounds.forEach((r, i) => {
        const w = r.wal;
        if (w === null) return;
        const all = w.written + w.unwritten;
        process.stdout.write(`${String(i + 1).padStart(5)} ${String(w.written).padStart(8)} ${String(w.unwritten).padStart(10)} ${(all === 0 ? 'n/a' : ((w.written / all) * 100).toFixed(1) + '%').padStart(14)} ${String(w.fsyncs).padStart(7)}\n`);
      });
      process.stdout.write(`the thin gateway's exchanges from their handing over to Redis's reply (share taken within each bound), and its batches' round trips, round by round:\n`);
      rounds.forEach((r, i) => {
        const w = r.wal;
        if (w === null) return;
        process.stdout.write(`${String(i + 1).padStart(5)} taken:      ${shares(w.taken)}\n      round trip: ${shares(w.roundTrip)}\n`);
      });
      const ratio = t.throughput / b.throughput;
      const p99Gap = t.p99 - b.p99;
      process.stdout.write(`TARGET thin gateway throughput / bare Node proxy: ${(ratio * 100).toFixed(1)}% (median of ${ROUNDS} rounds; target >= 90%): ${ratio >= 0.9 ? 'PASS' : 'FAIL'}\n`);
      process.stdout.write(`TARGET thin gateway p99 - bare Node proxy p99: ${p99Gap >= 0 ? '+' : ''}${f(p99Gap)} ms (median of ${ROUNDS} rounds; target <= +1 ms): ${p99Gap <= 1 ? 'PASS' : 'FAIL'}\n`);
      process.stdout.write(`CPU per request, thin gateway + redis-server / bare Node proxy: ${us(t.cpu.proxy)} + ${us(t.cpu.redis)} µs / ${us(b.cpu.proxy)} µs (medians of ${ROUNDS} rounds)\n`);
    }
    if (g && n) process.stdout.write(`gateway throughput / nginx: ${((g.throughput / n.throughput) * 100).toFixed(0)}% (target >= 80%); bare Node proxy / nginx: ${((b.throughput / n.throughput) * 100).toFixed(0)}%; gateway / bare Node proxy: ${((g.throughput / b.throughput) * 100).toFixed(0)}%\n`);
    if (redis && !ONLY_BARE_THIN) await workerThroughput(redis, main, dir);
    return 0;
  } finally {
    const exited = children.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise((r) => c.once('exit', r))));
    for (const c of children) c.kill('SIGTERM');
    // Profiles are written as the processes exit: wait for them (bounded).
    if (PROFILE_DIR !== null) await Promise.race([Promise.all(exited), sleep(20_000)]);
    await redis?.stop();
    await sleep(200);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Entries in the workers' group still to read or acknowledge, over every partition. */
async function outstanding(r: Redis): Promise<number> {
  const keys = liveKeys();
  let n = 0;
  for (let p = 0; p < PARTITIONS; p++) {
    if ((await r.exists(keys.input(p))) === 0) continue;
    for (const g of (await r.xinfo('GROUPS', keys.input(p))) as unknown[][]) {
      const info: Record<string, unknown> = {};
      for (let i = 0; i < g.length; i += 2) info[String(g[i])] = g[i + 1];
      if (info.name === keys.workerGroup) n += Number(info.pending) + Number(info.lag ?? 0);
    }
  }
  return n;
}

/**
 * What the thin gateway appended during its measurement, read by 1, 2 and 4 worker
 * processes in turn: each time the group starts again from the first entry, the feature
 * streams are emptied, and the time from the workers' start to the last acknowledgement is
 * taken. The workers log at warn (no line per exchange) as in the gateway runs above.
 */
async function workerThroughput(redis: RedisServer, cli: string, dir: string): Promise<void> {
  const keys = liveKeys();
  const r = new Redis(redis.url);
  try {
    // Exchanges, not entries: an entry holds a flush's batch of them.
    let total = 0;
    for (let p = 0; p < PARTITIONS; p++) for (const [, fields] of await r.xrangeBuffer(keys.input(p), '-', '+')) total += entryRequests(fields)?.length ?? 0;
    const lines: string[] = [];
    for (const count of [1, 2, 4]) {
      for (let p = 0; p < PARTITIONS; p++) {
        await r.del(keys.features(p), keys.lease(p));
        await r.xgroup('DESTROY', keys.input(p), keys.workerGroup).catch(() => 0);
        await r.xgroup('CREATE', keys.input(p), keys.workerGroup, '0', 'MKSTREAM');
      }
      await r.del(keys.workers);
      const started = performance.now();
      const workers = Array.from({ length: count }, (_, i) =>
        spawn(process.execPath, [cli, 'worker', '--redis', redis.url, '--partitions', String(PARTITIONS), '--name', `bench-w${i}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DISTILLWATCH_LOG_LEVEL: 'warn' } }),
      );
      for (const w of workers) {
        w.stdout!.resume();
        w.stderr!.resume();
      }
      try {
        while ((await outstanding(r)) > 0) {
          if (performance.now() - started > 300_000) throw new Error(`${count} worker(s) did not finish ${total} exchanges within 300 s`);
          await sleep(20);
        }
      } finally {
        for (const w of workers) w.kill('SIGTERM');
        await Promise.all(workers.map((w) => new Promise((res) => (w.exitCode !== null ? res(null) : w.once('exit', res)))));
      }
      const seconds = (performance.now() - started) / 1000;
      lines.push(`${String(count).padStart(7)} ${total.toFixed(0).padStart(10)} ${seconds.toFixed(2).padStart(9)} ${(total / seconds).toFixed(0).padStart(16)}`);
    }
    process.stdout.write(`detection workers behind the thin gateway (${PARTITIONS} partitions; start-up of the processes included; ${cpus().length} cores):\nworkers  exchanges   seconds   exchanges/s\n${lines.join('\n')}\n`);
  } finally {
    r.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`Benchmark failed: ${(e as Error).message}\n`);
    process.exit(1);
  },
);
