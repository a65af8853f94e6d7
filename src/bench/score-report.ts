/**
 * Scores a report a scan already wrote against the ground truth of the simulated traffic it
 * scanned, beside the two baselines run on the same traffic: the detection benchmark's tables
 * for a file too large to simulate and scan inside `bench` (hydra-28m). The scan's own wall
 * time and peak RSS are the caller's to give; the report does not hold them.
 *
 * Only the truth's accounts that appear in the traffic are scored: a prefix of a scenario's
 * file (its first million lines) holds a part of its accounts, and an account that sent
 * nothing in it can be neither caught nor missed. On a whole simulated file every truth
 * account appears, and the figures are the benchmark's.
 *
 *   node dist/bench/score-report.js --report report.json --traffic hydra28m.jsonl.gz \
 *     --truth hydra28m.truth.json [--scan-seconds 3600] [--peak-rss-mb 4000] [--out score.json]
 *
 * With `--store URL` (or a DuckDB file's path) instead of `--traffic`, the exchanges are read
 * from the store the scan wrote: each one's account, time and elicitation score are there, and
 * reading them takes minutes where decompressing and parsing a 12 GB file again takes longer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ScanReport } from '../core/report.js';
import { scoreScan, type TrafficSource } from './detection.js';
import { formatResults } from './render.js';

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`the ${what} ${file} is not JSON: ${(e as Error).message}`);
  }
}

function positive(name: string, v: string | undefined): number {
  if (v === undefined) return NaN;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`--${name} "${v}" is not a positive number`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      report: { type: 'string' },
      traffic: { type: 'string' },
      store: { type: 'string' },
      truth: { type: 'string' },
      'scan-seconds': { type: 'string' },
      'peak-rss-mb': { type: 'string' },
      out: { type: 'string' },
    },
  });
  for (const k of ['report', 'truth'] as const) if (!values[k]) throw new Error(`--${k} is required`);
  if ((values.traffic === undefined) === (values.store === undefined)) throw new Error('give the scanned traffic as one of --traffic FILE or --store URL');
  const traffic: TrafficSource = values.traffic !== undefined ? { file: values.traffic } : { store: values.store! };
  const report = readJson(values.report!, 'report') as ScanReport;
  if (typeof report?.input?.exchanges !== 'number' || !Array.isArray(report.campaigns)) throw new Error(`the report ${values.report} is not a scan's report.json (no input.exchanges or campaigns)`);
  const truth = readJson(values.truth!, 'truth file') as { scenario?: unknown; seed?: unknown; accounts?: unknown };
  if (typeof truth?.accounts !== 'object' || truth.accounts === null) throw new Error(`the truth file ${values.truth} has no "accounts"`);
  const { truthAccountsUnseen: unseen, ...result } = await scoreScan({
    scenario: typeof truth.scenario === 'string' ? truth.scenario : 'unnamed',
    seed: typeof truth.seed === 'number' ? truth.seed : 0,
    traffic,
    truthFile: values.truth!,
    onlyAccountsSeen: true,
    report,
    scanSeconds: positive('scan-seconds', values['scan-seconds']),
    peakRssMb: positive('peak-rss-mb', values['peak-rss-mb']),
  });
  const total = Object.keys(truth.accounts).length;
  process.stdout.write(`scored over the ${total - unseen} of ${total} truth accounts seen in the traffic (${unseen} not seen, left out of recall and precision)\n`);
  process.stdout.write(formatResults([result]) + '\n');
  if (values.out) writeFileSync(values.out, JSON.stringify({ ...result, truthAccounts: { seen: total - unseen, unseen } }, null, 1) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`score-report: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
