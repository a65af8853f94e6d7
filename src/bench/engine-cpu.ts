/**
 * Engine CPU benchmark (a script, not a test): the detection engine alone over rows held in
 * memory, in event-time order, as a scan feeds it (features computed, encoded and decoded
 * back as the store's rows), with event-time ticks. Prints CPU microseconds per exchange,
 * split into observing and linking runs, the runs and components clustered, and the engine's
 * live heap per account (first round only: later rounds find what the first left interned).
 * CPU time, not wall time, so that a busy machine moves the figure less. Give node
 * `--max-semi-space-size=64` to measure the engine as the scan's engine thread runs it (its young
 * generation is set to that size, pipeline/engine-thread.ts); without it the collector's share is larger.
 *
 *   node --expose-gc dist/bench/engine-cpu.js [--scale 0.13] [--rounds 3] [--seed 1] [--scenario medium] [--linker incremental]
 *   node --cpu-prof dist/bench/engine-cpu.js --rounds 1   (a profile of the engine)
 *   node dist/bench/engine-cpu.js --file traffic.jsonl.gz --lines 1000000 --rounds 1
 *     (the engine on a file's first lines instead of a simulated scenario: a prefix of
 *     `distillwatch simulate --scenario hydra-28m`, made with `zcat | head -n N | gzip`)
 */
import { parseArgs } from 'node:util';
import type { ExchangeFeatures } from '../core/features.js';
import { readExchangeBatches } from '../ingest/read.js';
import { DetectionEngine } from '../detect/engine.js';
import { EventTimeTicker } from '../detect/ticker.js';
import type { LinkerKind } from '../link/linker.js';
import { computeFeatures } from '../signals/features.js';
import { decodeExchange, encodeExchange } from '../store/exchange-columns.js';
import { prepareSimulation } from '../traffic/simulate.js';

const gc = (globalThis as { gc?: () => void }).gc;

function cpuMicros(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return u.user + u.system;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scale: { type: 'string', default: '0.13' },
      rounds: { type: 'string', default: '3' },
      seed: { type: 'string', default: '1' },
      scenario: { type: 'string', default: 'medium' },
      linker: { type: 'string', default: 'incremental' },
      file: { type: 'string' },
      lines: { type: 'string' },
    },
  });
  const rounds = Number(values.rounds);
  const scale = Number(values.scale);
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new Error(`--rounds "${values.rounds}" is not a positive whole number`);
  if (!(scale > 0)) throw new Error(`--scale "${values.scale}" is not a positive number`);
  const linker = values.linker as LinkerKind;
  if (!['incremental', 'full', 'verify'].includes(linker)) throw new Error(`--linker "${values.linker}" is not one of incremental, full, verify`);

  const lines = values.lines === undefined ? Infinity : Number(values.lines);
  if (values.lines !== undefined && (!Number.isSafeInteger(lines) || lines < 1)) throw new Error(`--lines "${values.lines}" is not a positive whole number`);
  const rows: ExchangeFeatures[] = [];
  const opts = { ipHashKey: 'bench-key' };
  // Rows as a scan hands them to the engine: features computed, encoded as stored, decoded back.
  const add = (f: ExchangeFeatures): void => {
    const encoded = encodeExchange(f, rows.length);
    if (typeof encoded !== 'string') throw new Error(encoded.problem);
    rows.push(decodeExchange(encoded));
  };
  if (values.file !== undefined) {
    let read = 0;
    let bad = 0;
    reading: for await (const batch of readExchangeBatches(values.file)) {
      for (const item of batch) {
        if (read++ >= lines) break reading;
        if (item.kind === 'bad') bad++;
        else add(computeFeatures(item.exchange, opts));
      }
    }
    process.stdout.write(`${rows.length} exchanges from the first ${Math.min(read, lines)} lines of ${values.file} (${bad} bad), linker ${linker}\n`);
  } else {
    const sim = await prepareSimulation({ scenario: values.scenario, seed: Number(values.seed), scale });
    for (const ex of sim.exchanges) add(computeFeatures(ex, opts));
    process.stdout.write(`${rows.length} exchanges of the ${values.scenario} scenario (seed ${values.seed}, scale ${scale}), linker ${linker}\n`);
  }
  rows.sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const engine = new DetectionEngine({ linker });
    // Linking runs timed apart from observing: the ticker calls tick() through this wrapper.
    let tickMicros = 0;
    const timed = {
      observe: (f: ExchangeFeatures) => engine.observe(f),
      tick: (at: number) => {
        const c = process.cpuUsage();
        engine.tick(at);
        tickMicros += cpuMicros(c);
      },
      finish: () => engine.finish(),
      linkDue: (at: number) => engine.linkDue(at),
    };
    const ticker = new EventTimeTicker(timed, engine.params.linkIntervalMs);
    const c = process.cpuUsage();
    for (const f of rows) ticker.observe(f);
    const f0 = process.cpuUsage();
    ticker.finish();
    const finishMicros = cpuMicros(f0);
    const total = cpuMicros(c);
    const accounts = new Set(rows.map((f) => f.account_id)).size;
    const campaigns = engine.campaignList().length;
    const bytes = engine.stateBytes();
    gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    const perEx = total / rows.length;
    best = Math.min(best, perEx);
    process.stdout.write(
      `round ${r + 1}: ${perEx.toFixed(1)} µs CPU per exchange (observe ${((total - tickMicros - finishMicros) / rows.length).toFixed(1)}, ` +
        `linking runs ${(tickMicros / rows.length).toFixed(1)}, finish ${(finishMicros / rows.length).toFixed(1)}); ${engine.linkRuns} linking runs, ` +
        `${accounts} accounts, ${campaigns} campaigns` +
        (gc && r === 0 ? `; engine heap ${((heapAfter - heapBefore) / 2 ** 20).toFixed(1)} MB = ${Math.round((heapAfter - heapBefore) / accounts)} bytes per account` : '') +
        '\n',
    );
    // The estimate by structure (state-bytes.ts): the heap line above leaves out the strings the engine shares with the rows held here.
    process.stdout.write(
      `  state ${Math.round(bytes.total / accounts)} bytes per account estimated (account ${Math.round(bytes.accounts / accounts)}, score ${Math.round(bytes.scores / accounts)}, ` +
        `sentences ${Math.round(bytes.phrases / accounts)}, linker ${Math.round(bytes.linker / accounts)}, campaigns ${Math.round(bytes.campaigns / accounts)}); ` +
        `${bytes.indicatorKeys} indicator keys, ${bytes.holdings} holdings, ${Math.round(bytes.linker / Math.max(1, bytes.indicatorKeys))} linker bytes per key\n`,
    );
  }
  process.stdout.write(`engine: best ${best.toFixed(1)} µs CPU per exchange\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`engine-cpu: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
