/**
 * Scan throughput benchmark (a script, not a test). Generates a gzip-compressed canonical
 * file of at least the asked exchanges (the "medium" scenario, scaled), then in one run
 * measures:
 *   - the bound: gunzip + JSON.parse of every line, on one core, nothing else;
 *   - the scan end to end (ingest, detect, report written to the store), in a fresh process,
 *     as its ratio to the bound; the engine is fed along the ingest as the scan command does
 *     (pipeline/early-detect.ts), on a thread of its own (or, with --one-thread, on the scan's),
 *     or, with --replay, after it from the store;
 *   - peak memory of the same scan on the first quarter, half and all of the file, to show
 *     whether memory grows with exchanges;
 *   - the engine's memory per account, measured from the JS heap after a forced collection.
 * Ratios are what to quote: the machine is shared and absolute rates move from run to run,
 * so CPU seconds are printed beside wall seconds (on a busy machine wall time also counts
 * the time other processes held the cores).
 *
 *   node dist/bench/scan-throughput.js [--exchanges 1000000] [--dir DIR] [--keep] [--json FILE] [--replay] [--one-thread] [--stores duckdb,chdb] [--trace FILE]
 *
 * With --trace FILE the whole scan's memory (RSS, JS heap, external, array buffers) is written
 * to FILE every 100 ms beside the rows read so far, one JSON object a line. The variable
 * DISTILLWATCH_BENCH_DUCKDB_MEMORY (e.g. 256MB) sets DuckDB's memory budget for the scans, to
 * tell DuckDB's cache from the rest of the resident memory.
 * With --stores duckdb,chdb the whole scan also runs into ClickHouse (chdb), printed side by side.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import { readLines } from '../ingest/lines.js';
import { describeMiss } from '../pipeline/early-detect.js';
import { detect, ingest, scanStoreOptions, startEarlyDetect } from '../pipeline/scan.js';
import { thisThreadCpuSeconds } from '../pipeline/thread-cpu.js';
import { openStore } from '../store/open.js';
import { writeMediumTraffic } from './medium-traffic.js';

interface Phase {
  wallSeconds: number;
  /** CPU seconds of every thread of the process (main, feature workers, DuckDB's). */
  cpuSeconds: number;
  /** CPU seconds of the scan's own thread alone (Linux); null where the kernel does not tell. */
  scanThreadCpuSeconds?: number | null;
}

interface ChildResult {
  exchanges: number;
  accounts: number;
  /** Read, features, store, and the engine fed along (unless replayed). */
  ingest: Phase;
  /** The engine finished (or the store replayed through it) and the report built and saved in the store. */
  detect: Phase;
  /** Why the store was replayed after the ingest; null when the engine was fed along it. */
  replayed: string | null;
  /** CPU seconds of the engine's own thread over the scan (Linux); null when it ran on the scan's thread. */
  engineThreadCpuSeconds: number | null;
  maxRssMb: number;
  /** The JS heap alone (engine, batches): RSS minus it is mostly DuckDB (its id index, buffers). */
  maxHeapMb: number;
  /**
   * Live JS heap after the scan, the engine and its report still held, over the live heap
   * before the engine was made (both after a forced collection): what the engine holds.
   */
  engineHeapMb: number;
  /** Peak of what the store's engine reported holding (DuckDB's `duckdb_memory()`), sampled every 500 ms; 0 when it cannot tell. */
  maxStoreEngineMb: number;
  storeMb: number;
}

/** The last phase measured, for a caller that keeps only the value. */
let lastPhase: Phase | null = null;

function phase<T>(fn: () => Promise<T>): Promise<{ value: T; phase: Phase }> {
  const t = process.hrtime.bigint();
  const c = process.cpuUsage();
  const thread = thisThreadCpuSeconds();
  return fn().then((value) => {
    const used = process.cpuUsage(c);
    const threadAfter = thisThreadCpuSeconds();
    lastPhase = { wallSeconds: Number(process.hrtime.bigint() - t) / 1e9, cpuSeconds: (used.user + used.system) / 1e6, scanThreadCpuSeconds: thread === null || threadAfter === null ? null : threadAfter - thread };
    return { value, phase: lastPhase };
  });
}

async function child(file: string, db: string, replay: boolean, trace: string | undefined, engineThread: boolean): Promise<void> {
  for (const f of [db, db + '.wal', db.replace(/^chdb:\/\//, '')]) rmSync(f, { force: true, recursive: true });
  // Opened as the scan command opens it.
  const store = await openStore(db, scanStoreOptions(process.env.DISTILLWATCH_BENCH_DUCKDB_MEMORY || undefined));
  let maxHeap = 0;
  // With --trace, the memory of the process against the rows read so far, a line a sample:
  // what grows with exchanges shows as a slope.
  let read = 0;
  const samples: string[] = [];
  // DuckDB's own account of its memory, by tag: sampled less often (it is a query), the last
  // reading written with every memory sample.
  let engineMb: Record<string, number> = {};
  let maxEngine = 0;
  let engineSampling = false;
  const engineSampler = store.engineMemory
    ? setInterval(() => {
        if (engineSampling) return;
        engineSampling = true;
        store
          .engineMemory!()
          .then((m) => {
            maxEngine = Math.max(maxEngine, m.totalBytes);
            engineMb = Object.fromEntries(Object.entries(m.byTag).map(([tag, b]) => [tag, Math.round(b / 1e6)]));
          })
          .catch(() => undefined)
          .finally(() => (engineSampling = false));
      }, 500)
    : null;
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    maxHeap = Math.max(maxHeap, m.heapUsed);
    if (trace !== undefined) samples.push(JSON.stringify({ read, rssMb: Math.round(m.rss / 1e6), heapMb: Math.round(m.heapUsed / 1e6), externalMb: Math.round(m.external / 1e6), arrayBuffersMb: Math.round(m.arrayBuffers / 1e6), storeEngineMb: engineMb }));
  }, 100);
  const early = replay ? null : await startEarlyDetect(store, undefined, { engineThread, measureHeap: true });
  const ing = await phase(() => ingest({ inputs: [file], store, onProgress: (p) => (read = p.done), early }));
  const det = (await phase(() => detect({ store, early, measureHeap: true, thisScan: ing.value.inputs.map((i) => i.source) }))).value;
  const detPhase = lastPhase!;
  await early?.close();
  const out: ChildResult = {
    exchanges: ing.value.read,
    accounts: 0,
    ingest: ing.phase,
    detect: detPhase,
    replayed: det.replayed ? describeMiss(det.replayed) : (replay ? 'asked for (--replay)' : null),
    engineThreadCpuSeconds: det.engineThreadCpuSeconds,
    maxRssMb: 0,
    maxHeapMb: 0,
    engineHeapMb: 0,
    maxStoreEngineMb: 0,
    storeMb: 0,
  };
  // Measured where the engine ran (its own thread's heap, or this one's), while it was still
  // held, over the heap before it was made, both after a forced collection.
  out.engineHeapMb = (det.engineHeapBytes ?? 0) / 1e6;
  out.accounts = det.report.input.accounts;
  clearInterval(sampler);
  if (engineSampler) clearInterval(engineSampler);
  out.maxStoreEngineMb = maxEngine / 1e6;
  if (trace !== undefined) writeFileSync(trace, samples.join('\n') + '\n');
  await store.close();
  out.maxRssMb = process.resourceUsage().maxRSS / 1024;
  out.maxHeapMb = maxHeap / 1e6;
  out.storeMb = sizeOf(db.replace(/^chdb:\/\//, '')) / 1e6;
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** --one-thread: the engine fed along on the scan's own thread instead of its own. */
let oneThread = false;

function runChild(file: string, db: string, replay: boolean, trace?: string): ChildResult {
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', file, '--db', db, ...(replay ? ['--replay'] : []), ...(oneThread ? ['--one-thread'] : []), ...(trace !== undefined ? ['--trace', trace] : [])], { encoding: 'utf8', maxBuffer: 1 << 24 });
  for (const f of [db, db + '.wal', db.replace(/^chdb:\/\//, '')]) rmSync(f, { force: true, recursive: true });
  if (r.status !== 0) throw new Error(`the scan of "${file}" failed: ${r.stderr.trim().split('\n').pop() ?? `exit ${r.status}`}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

/** Bytes of a file, or of every file under a folder (a chdb store). */
function sizeOf(path: string): number {
  const st = statSync(path);
  return st.isDirectory() ? readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0) : st.size;
}

/** The bound: gunzip and JSON.parse of every line, with the line reader the scan uses, on this thread alone. */
async function bareParse(file: string): Promise<{ lines: number } & Phase> {
  const p = await phase(async () => {
    let lines = 0;
    for await (const item of readLines(file)) {
      if ('text' in item) {
        JSON.parse(item.text);
        lines++;
      }
    }
    return lines;
  });
  return { lines: p.value, ...p.phase };
}

/** The first `n` lines of a file, gzip-compressed like it, for the memory-versus-size runs. */
async function head(file: string, n: number, out: string): Promise<void> {
  const gz = createGzip({ level: 1 });
  const w = createWriteStream(out);
  gz.pipe(w);
  let i = 0;
  for await (const item of readLines(file)) {
    if (!('text' in item)) continue;
    if (i++ >= n) break;
    if (!gz.write(item.text + '\n')) await once(gz, 'drain');
  }
  gz.end();
  await once(w, 'close');
}

/** CPU per exchange of the scan's own thread and of the engine's, when the kernel tells: which one bounds the scan. */
function threadLines(r: ChildResult): string[] {
  const scanThread = (r.ingest.scanThreadCpuSeconds ?? NaN) + (r.detect.scanThreadCpuSeconds ?? NaN);
  const out: string[] = [];
  if (Number.isFinite(scanThread)) out.push(`  the scan's own thread: ${((1e6 * scanThread) / r.exchanges).toFixed(1)} µs CPU per exchange`);
  if (r.engineThreadCpuSeconds !== null) out.push(`  the engine's thread: ${((1e6 * r.engineThreadCpuSeconds) / r.exchanges).toFixed(1)} µs CPU per exchange`);
  return out;
}

const int = (x: number): string => Math.round(x).toLocaleString('en-US');
const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: 'boolean', default: false },
      db: { type: 'string' },
      exchanges: { type: 'string', default: '1000000' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
      json: { type: 'string' },
      stores: { type: 'string', default: 'duckdb' },
      replay: { type: 'boolean', default: false },
      trace: { type: 'string' },
      'one-thread': { type: 'boolean', default: false },
    },
  });
  if (values.child) return child(positionals[0]!, values.db!, values.replay, values.trace, !values['one-thread']);

  oneThread = values['one-thread'];
  const target = Number(values.exchanges);
  if (!Number.isSafeInteger(target) || target < 1000) throw new Error(`--exchanges "${values.exchanges}" is not a whole number of at least 1000`);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'distillwatch-scanbench-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `traffic-${target}.jsonl.gz`);
  if (!existsSync(file)) {
    await writeMediumTraffic(file, dir, target);
  }
  const sizeMb = statSync(file).size / 1e6;
  process.stderr.write(`measuring bare gunzip + JSON.parse of ${file}\n`);
  const bare = await bareParse(file);
  process.stderr.write('measuring the scan end to end\n');
  const full = runChild(file, join(dir, 'bench.duckdb'), values.replay, values.trace);
  const parts: ChildResult[] = [];
  for (const frac of [0.25, 0.5]) {
    const n = Math.round(bare.lines * frac);
    const part = join(dir, `head-${n}.jsonl.gz`);
    process.stderr.write(`measuring the scan of the first ${n} exchanges\n`);
    await head(file, n, part);
    parts.push(runChild(part, join(dir, `bench-${n}.duckdb`), values.replay));
    rmSync(part, { force: true });
  }
  parts.push(full);
  const stores = values.stores.split(',').map((k) => k.trim());
  const unknownStore = stores.find((k) => k !== 'duckdb' && k !== 'chdb');
  if (unknownStore !== undefined) throw new Error(`--stores: unknown store "${unknownStore}" (known: duckdb, chdb)`);
  const chdb = stores.includes('chdb') ? (process.stderr.write('measuring the scan end to end into ClickHouse (chdb)\n'), runChild(file, `chdb://${join(dir, 'bench-chdb')}`, values.replay)) : null;

  const bareRate = bare.lines / bare.wallSeconds;
  const scanWall = full.ingest.wallSeconds + full.detect.wallSeconds;
  const scanCpu = full.ingest.cpuSeconds + full.detect.cpuSeconds;
  const scanRate = full.exchanges / scanWall;
  const rate = (p: Phase): string => `${int(full.exchanges / p.wallSeconds)} exchanges/s (${p.wallSeconds.toFixed(1)} s wall, ${p.cpuSeconds.toFixed(1)} s CPU)`;
  const out = [
    `input: ${int(bare.lines)} exchanges, ${sizeMb.toFixed(0)} MB gzip-compressed`,
    `bare gunzip + JSON.parse, one core:  ${int(bareRate)} lines/s (${bare.wallSeconds.toFixed(1)} s wall, ${bare.cpuSeconds.toFixed(1)} s CPU)`,
    `scan end to end (ingest + detect + report written): ${rate({ wallSeconds: scanWall, cpuSeconds: scanCpu })}`,
    `  = ${pct(scanRate / bareRate)} of bare gunzip + JSON.parse (target 25%)`,
    `  ingest${full.replayed === null ? ', the engine fed along' : ''}: ${rate(full.ingest)} = ${pct(full.exchanges / full.ingest.wallSeconds / bareRate)}`,
    `  ${full.replayed === null ? 'engine finished' : 'replay through the engine'} and report: ${rate(full.detect)}`,
    `  ${full.replayed === null ? 'detection ran along the ingest (no replay of the store)' : `the store was replayed after the ingest: ${full.replayed}`}`,
    `  cores used: ${(scanCpu / scanWall).toFixed(2)} on average (CPU seconds over wall seconds)`,
    ...threadLines(full),
    `CPU per exchange: bound ${((1e6 * bare.cpuSeconds) / bare.lines).toFixed(1)} µs, scan ${((1e6 * scanCpu) / full.exchanges).toFixed(1)} µs (ingest${full.replayed === null ? ' with the engine' : ''} ${((1e6 * full.ingest.cpuSeconds) / full.exchanges).toFixed(1)}, detect ${((1e6 * full.detect.cpuSeconds) / full.exchanges).toFixed(1)})`,
    `  = ${pct(bare.cpuSeconds / bare.lines / (scanCpu / full.exchanges))} of the bound counted in CPU seconds: the steadier figure on a busy machine, where wall time also counts other processes' turns`,
    `peak RSS (JS heap; DuckDB's own count) by input size:`,
    ...parts.map((m) => `  ${int(m.exchanges).padStart(11)} exchanges, ${int(m.accounts).padStart(7)} accounts: ${int(m.maxRssMb).padStart(6)} MB (${int(m.maxHeapMb)} MB; ${int(m.maxStoreEngineMb ?? 0)} MB), store ${int(m.storeMb)} MB`),
    ...(chdb ? ['stores side by side (the whole scan):', ...[['DuckDB', full] as const, ['ClickHouse (chdb)', chdb] as const].map(([name, m]) => `  ${name.padEnd(18)} ingest ${int(m.exchanges / m.ingest.wallSeconds).padStart(9)} exchanges/s, detect ${int(m.exchanges / m.detect.wallSeconds).padStart(9)} exchanges/s, CPU ${(m.ingest.cpuSeconds + m.detect.cpuSeconds).toFixed(1)} s, peak RSS ${int(m.maxRssMb)} MB, store ${int(m.storeMb)} MB`)] : []),
    `engine heap after the scan: ${int(full.engineHeapMb)} MB for ${int(full.accounts)} accounts = ${int((full.engineHeapMb * 1e6) / Math.max(1, full.accounts))} bytes per account (everything the engine holds, over accounts)`,
  ];
  process.stdout.write(out.join('\n') + '\n');
  const json = JSON.stringify({ bare, full, parts, chdb }, null, 1) + '\n';
  if (values.json) writeFileSync(values.json, json);
  if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`scan-throughput: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
