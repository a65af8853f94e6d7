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
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ScanReport } from '../core/report.js';
import { readExchangeBatches } from '../ingest/read.js';
import { scoreScan } from './detection.js';
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

/** Accounts that sent at least one exchange in the traffic. */
async function accountsIn(traffic: string): Promise<Set<string>> {
  const seen = new Set<string>();
  for await (const batch of readExchangeBatches(traffic)) for (const item of batch) if (item.kind === 'exchange') seen.add(item.exchange.account_id);
  return seen;
}

type Truth = { scenario?: unknown; seed?: unknown; accounts: Record<string, unknown> };

/** The truth restricted to the accounts seen, and how many it left out. */
function truthSeen<T extends Truth>(truth: T, seen: ReadonlySet<string>): { truth: T; unseen: number } {
  const accounts: Record<string, unknown> = {};
  let unseen = 0;
  for (const [id, a] of Object.entries(truth.accounts)) {
    if (seen.has(id)) accounts[id] = a;
    else unseen++;
  }
  return { truth: { ...truth, accounts }, unseen };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      report: { type: 'string' },
      traffic: { type: 'string' },
      truth: { type: 'string' },
      'scan-seconds': { type: 'string' },
      'peak-rss-mb': { type: 'string' },
      out: { type: 'string' },
    },
  });
  for (const k of ['report', 'traffic', 'truth'] as const) if (!values[k]) throw new Error(`--${k} is required`);
  const report = readJson(values.report!, 'report') as ScanReport;
  if (typeof report?.input?.exchanges !== 'number' || !Array.isArray(report.campaigns)) throw new Error(`the report ${values.report} is not a scan's report.json (no input.exchanges or campaigns)`);
  const truth = readJson(values.truth!, 'truth file') as { scenario?: unknown; seed?: unknown; accounts?: unknown };
  if (typeof truth?.accounts !== 'object' || truth.accounts === null) throw new Error(`the truth file ${values.truth} has no "accounts"`);
  const seen = truthSeen(truth as Truth, await accountsIn(values.traffic!));
  const dir = mkdtempSync(join(tmpdir(), 'distillwatch-score-'));
  let result;
  try {
    const truthFile = join(dir, 'truth-seen.json');
    writeFileSync(truthFile, JSON.stringify(seen.truth));
    result = await scoreScan({
      scenario: typeof truth.scenario === 'string' ? truth.scenario : 'unnamed',
      seed: typeof truth.seed === 'number' ? truth.seed : 0,
      traffic: values.traffic!,
      truthFile,
      report,
      scanSeconds: positive('scan-seconds', values['scan-seconds']),
      peakRssMb: positive('peak-rss-mb', values['peak-rss-mb']),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const total = Object.keys(truth.accounts).length;
  process.stdout.write(`scored over the ${total - seen.unseen} of ${total} truth accounts seen in the traffic (${seen.unseen} not seen, left out of recall and precision)\n`);
  process.stdout.write(formatResults([result]) + '\n');
  if (values.out) writeFileSync(values.out, JSON.stringify({ ...result, truthAccounts: { seen: total - seen.unseen, unseen: seen.unseen } }, null, 1) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`score-report: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(2);
});
