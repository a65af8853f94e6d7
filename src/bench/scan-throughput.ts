/**
 * Scan throughput benchmark (a script, not a test): generates a canonical file of at least
 * 1M exchanges, then in one run measures bare JSON.parse of every line, the scan's ingest
 * and detect phases, and peak memory at several input sizes. Ratios are what to quote: the
 * machine is shared and absolute rates move from run to run.
 *
 *   node dist/bench/scan-throughput.js [--exchanges 1000000] [--dir DIR] [--keep]
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readLines } from '../ingest/lines.js';
import { detect, ingest } from '../pipeline/scan.js';
import { openDuckDbStore } from '../store/duckdb.js';
import { writeSimulation } from '../traffic/simulate.js';

interface ChildResult {
  exchanges: number;
  ingestSeconds: number;
  detectSeconds: number;
  maxRssMb: number;
  /** The JS heap alone (engine, batches): RSS minus it is mostly DuckDB's buffer pool and index. */
  maxHeapMb: number;
}

async function child(file: string, db: string): Promise<void> {
  rmSync(db, { force: true });
  rmSync(db + '.wal', { force: true });
  const store = await openDuckDbStore(db);
  let maxHeap = 0;
  const sampler = setInterval(() => {
    maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
  }, 100);
  let t = process.hrtime.bigint();
  const summary = await ingest({ inputs: [file], store });
  const ingestSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  await detect({ store });
  const detectSeconds = Number(process.hrtime.bigint() - t) / 1e9;
  clearInterval(sampler);
  await store.close();
  const out: ChildResult = { exchanges: summary.read, ingestSeconds, detectSeconds, maxRssMb: process.resourceUsage().maxRSS / 1024, maxHeapMb: maxHeap / 1e6 };
  process.stdout.write(JSON.stringify(out) + '\n');
}

function runChild(file: string, db: string): ChildResult {
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--child', file, '--db', db], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`scan child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as ChildResult;
}

/** Bare JSON.parse of every line, with the same line reader the scan uses. */
async function bareParse(file: string): Promise<{ lines: number; seconds: number }> {
  const t = process.hrtime.bigint();
  let lines = 0;
  for await (const item of readLines(file)) {
    if ('text' in item) {
      JSON.parse(item.text);
      lines++;
    }
  }
  return { lines, seconds: Number(process.hrtime.bigint() - t) / 1e9 };
}

/** The first `n` lines of a file, for the memory-versus-size runs. */
async function head(file: string, n: number, out: string): Promise<void> {
  const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const w = createWriteStream(out);
  let i = 0;
  for await (const line of rl) {
    if (i++ >= n) break;
    if (!w.write(line + '\n')) await once(w, 'drain');
  }
  rl.close();
  w.end();
  await once(w, 'close');
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      child: { type: 'boolean', default: false },
      db: { type: 'string' },
      exchanges: { type: 'string', default: '1000000' },
      dir: { type: 'string' },
      keep: { type: 'boolean', default: false },
    },
  });
  if (values.child) return child(positionals[0]!, values.db!);

  const target = Number(values.exchanges);
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'distillwatch-scanbench-'));
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `traffic-${target}.jsonl`);
  if (!existsSync(file)) {
    // The "medium" scenario at a scale that gives at least the target count.
    let scale = target / 1_500_000;
    for (;;) {
      process.stderr.write(`generating ${file} (medium scenario, scale ${scale.toFixed(2)})\n`);
      const c = await writeSimulation({ scenario: 'medium', seed: 1, scale, out: file, truthOut: join(dir, 'truth.json') });
      if (c.exchanges >= target) break;
      scale *= (target / c.exchanges) * 1.05;
    }
  }
  const sizeMb = statSync(file).size / 1e6;
  process.stderr.write(`measuring bare JSON.parse of ${file} (${sizeMb.toFixed(0)} MB)\n`);
  const bare = await bareParse(file);
  process.stderr.write('measuring the scan\n');
  const full = runChild(file, join(dir, 'bench.duckdb'));

  const mem: { exchanges: number; maxRssMb: number; maxHeapMb: number }[] = [];
  for (const frac of [0.25, 0.5]) {
    const n = Math.round(bare.lines * frac);
    const part = join(dir, `head-${n}.jsonl`);
    await head(file, n, part);
    const r = runChild(part, join(dir, `bench-${n}.duckdb`));
    mem.push({ exchanges: r.exchanges, maxRssMb: r.maxRssMb, maxHeapMb: r.maxHeapMb });
    rmSync(part, { force: true });
  }
  mem.push({ exchanges: full.exchanges, maxRssMb: full.maxRssMb, maxHeapMb: full.maxHeapMb });

  const bareRate = bare.lines / bare.seconds;
  const scanSeconds = full.ingestSeconds + full.detectSeconds;
  const scanRate = full.exchanges / scanSeconds;
  const ingestRate = full.exchanges / full.ingestSeconds;
  const lines = [
    `input: ${bare.lines} exchanges, ${sizeMb.toFixed(0)} MB (${Math.round((sizeMb * 1e6) / bare.lines)} bytes per line)`,
    `bare JSON.parse:   ${Math.round(bareRate)} lines/s (${bare.seconds.toFixed(1)} s)`,
    `scan, end to end:  ${Math.round(scanRate)} exchanges/s (${scanSeconds.toFixed(1)} s) = ${((100 * scanRate) / bareRate).toFixed(1)}% of bare JSON.parse`,
    `  ingest:          ${Math.round(ingestRate)} exchanges/s (${full.ingestSeconds.toFixed(1)} s) = ${((100 * ingestRate) / bareRate).toFixed(1)}% of bare JSON.parse`,
    `  detect:          ${Math.round(full.exchanges / full.detectSeconds)} exchanges/s (${full.detectSeconds.toFixed(1)} s)`,
    `peak RSS by input size: ${mem.map((m) => `${m.exchanges} → ${Math.round(m.maxRssMb)} MB`).join(', ')}`,
    `peak JS heap by input size: ${mem.map((m) => `${m.exchanges} → ${Math.round(m.maxHeapMb)} MB`).join(', ')}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  process.stdout.write(JSON.stringify({ bare, full, mem }) + '\n');
  if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
}

main().catch((e: unknown) => {
  process.stderr.write(`scan-throughput: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
