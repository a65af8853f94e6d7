/**
 * The detection benchmark: simulate a scenario, scan it exactly as a user would, and score
 * the report against the ground truth, side by side with two baselines a provider already
 * has. The detector never reads the truth; the truth is read here, after the scan.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { messageText, type Exchange } from '../core/exchange.js';
import type { ScanReport } from '../core/report.js';
import type { DetectorParams } from '../detect/params.js';
import { readExchanges } from '../ingest/read.js';
import { scan } from '../pipeline/scan.js';
import { elicitationScore } from '../signals/elicitation.js';
import { openDuckDbStore } from '../store/duckdb/store.js';
import { openStore } from '../store/open.js';
import { writeSimulation } from '../traffic/simulate.js';
import { writeAblated, type FieldFamily } from './ablate.js';
import { memoryScan } from './memory-scan.js';
import { KeywordBaseline, RateLimitBaseline, type Baseline } from './baselines.js';
import { confusion, flagsFromReport, perGroup, quantile, reconstruction, type TruthLike, type Flags } from './metrics.js';

export interface DetectorResult {
  name: string;
  description: string;
  precision: number;
  recall: number;
  f1: number;
  tp: number;
  fp: number;
  fn: number;
  playbooks: Record<string, { accounts: number; caught: number; recall: number }>;
  populations: Record<string, { accounts: number; flagged: number; fpr: number }>;
  /** Per caught malicious account: hours and own exchanges from its first exchange to its flag. */
  ttdHours: { median: number | null; p90: number | null };
  ttdExchanges: { median: number | null; p90: number | null };
  /** Per operator: share of its exchanges made before its first account was flagged. */
  operatorsShareBeforeFlag: Record<string, number | null>;
  /** Exchanges harvested before detection, per account burned (caught). */
  attackCost: number | null;
  /**
   * Time to detect per playbook: over its caught accounts, p50/p90 hours and own exchanges
   * from the account's first exchange to its flag; and for its operator (the worst one when
   * several run it), the share of its exchanges and the hours from its start before its first flag.
   */
  playbookTtd: Record<string, PlaybookTtd>;
}

export interface PlaybookTtd {
  hoursP50: number | null;
  hoursP90: number | null;
  exchangesP50: number | null;
  exchangesP90: number | null;
  firstFlagShare: number | null;
  firstFlagHours: number | null;
}

export interface ScenarioResult {
  scenario: string;
  seed: number;
  exchanges: number;
  accounts: number;
  maliciousAccounts: number;
  scanSeconds: number;
  exchangesPerSecond: number;
  peakRssMb: number;
  detectors: DetectorResult[];
  reconstruction: ReturnType<typeof reconstruction>;
  ttdSamples: { detector: string; hours: number[] }[];
}

/** The traffic as compact columns, sorted by time: accounts as small integers. */
interface Traffic {
  accounts: string[];
  account: Uint32Array;
  ts: Float64Array;
  keyword: Uint8Array;
}

function lastUserText(ex: Exchange): string {
  const msgs = ex.request.messages;
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i]!.role === 'user') return messageText(msgs[i]!.content);
  return '';
}

/** One exchange as the scoring reads it: whose, when (ms), and whether the keyword rule matches its prompt. */
interface ScoredExchange {
  account: string;
  ts: number;
  keyword: boolean;
}

/** Where the scored traffic is read from: the file that was scanned, or the store the scan wrote. */
export type TrafficSource = { file: string } | { store: string };

async function* exchangesOf(source: TrafficSource): AsyncIterable<ScoredExchange> {
  if ('file' in source) {
    for await (const item of readExchanges(source.file)) {
      if (item.kind !== 'exchange') continue;
      const ex = item.exchange;
      yield { account: ex.account_id, ts: Date.parse(ex.ts), keyword: elicitationScore(lastUserText(ex).toLowerCase()) === 1 };
    }
    return;
  }
  // The store holds each exchange's account, time and elicitation score, computed by the same
  // function on the same last user prompt as the keyword rule above: reading it spares
  // decompressing and parsing a file of tens of millions of lines again.
  const store = await openStore(source.store, { readOnly: true });
  try {
    for await (const rows of store.replay(50_000)) for (const f of rows) yield { account: f.account_id, ts: f.ts, keyword: f.elicitation === 1 };
  } finally {
    await store.close();
  }
}

async function loadTraffic(source: TrafficSource): Promise<Traffic> {
  const ids = new Map<string, number>();
  const accounts: string[] = [];
  let account = new Uint32Array(1 << 16);
  let ts = new Float64Array(1 << 16);
  let keyword = new Uint8Array(1 << 16);
  let n = 0;
  for await (const ex of exchangesOf(source)) {
    if (n === ts.length) {
      const grow = <T extends Uint32Array | Float64Array | Uint8Array>(a: T): T => {
        const b = new (a.constructor as new (n: number) => T)(a.length * 2);
        b.set(a);
        return b;
      };
      account = grow(account);
      ts = grow(ts);
      keyword = grow(keyword);
    }
    let id = ids.get(ex.account);
    if (id === undefined) {
      id = accounts.length;
      ids.set(ex.account, id);
      accounts.push(ex.account);
    }
    account[n] = id;
    ts[n] = ex.ts;
    keyword[n] = ex.keyword ? 1 : 0;
    n++;
  }
  // Baselines, like the detector, see time in order.
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => ts[a]! - ts[b]!);
  const out: Traffic = { accounts, account: new Uint32Array(n), ts: new Float64Array(n), keyword: new Uint8Array(n) };
  for (let i = 0; i < n; i++) {
    out.account[i] = account[order[i]!]!;
    out.ts[i] = ts[order[i]!]!;
    out.keyword[i] = keyword[order[i]!]!;
  }
  return out;
}

function runBaselines(t: Traffic): Baseline[] {
  const baselines: Baseline[] = [new RateLimitBaseline(), new KeywordBaseline()];
  for (let i = 0; i < t.ts.length; i++) {
    const x = { account: t.accounts[t.account[i]!]!, ts: t.ts[i]!, keyword: t.keyword[i] === 1 };
    for (const b of baselines) b.observe(x);
  }
  return baselines;
}

function detectorResult(name: string, description: string, truth: TruthLike, flags: Flags, t: Traffic): DetectorResult & { hours: number[] } {
  const flagged = new Set(flags.keys());
  const c = confusion(truth, flagged);
  const g = perGroup(truth, flagged);
  // The first flag of each operator: from then on the operation is known.
  const opFirstFlag = new Map<string, number>();
  for (const [id, f] of flags) {
    const a = truth.accounts[id];
    if (a?.malicious && a.operator) opFirstFlag.set(a.operator, Math.min(opFirstFlag.get(a.operator) ?? Infinity, f));
  }
  const first = new Map<number, number>();
  const before = new Map<number, number>();
  const opTotal = new Map<string, number>();
  const opBefore = new Map<string, number>();
  const opStart = new Map<string, number>();
  for (let i = 0; i < t.ts.length; i++) {
    const idx = t.account[i]!;
    const id = t.accounts[idx]!;
    const a = truth.accounts[id];
    if (!a?.malicious) continue;
    const ts = t.ts[i]!;
    if (!first.has(idx)) first.set(idx, ts);
    const f = flags.get(id);
    if (f === undefined || ts < f) before.set(idx, (before.get(idx) ?? 0) + 1);
    const op = a.operator ?? 'unknown';
    opTotal.set(op, (opTotal.get(op) ?? 0) + 1);
    if (!opStart.has(op)) opStart.set(op, ts);
    const of = opFirstFlag.get(op);
    if (of === undefined || ts < of) opBefore.set(op, (opBefore.get(op) ?? 0) + 1);
  }
  const hours: number[] = [];
  const exchanges: number[] = [];
  const byPlaybook = new Map<string, { hours: number[]; exchanges: number[]; ops: Set<string> }>();
  let harvested = 0;
  let burned = 0;
  first.forEach((ts, idx) => {
    const a = truth.accounts[t.accounts[idx]!]!;
    const pb = a.playbook ?? 'unknown';
    let g = byPlaybook.get(pb);
    if (!g) byPlaybook.set(pb, (g = { hours: [], exchanges: [], ops: new Set() }));
    g.ops.add(a.operator ?? 'unknown');
    const f = flags.get(t.accounts[idx]!);
    if (f === undefined) return;
    hours.push(Math.max(0, (f - ts) / 3_600_000));
    const b = before.get(idx) ?? 0;
    g.hours.push(Math.max(0, (f - ts) / 3_600_000));
    g.exchanges.push(b);
    exchanges.push(b);
    harvested += b;
    burned++;
  });
  hours.sort((a, b) => a - b);
  exchanges.sort((a, b) => a - b);
  const share: Record<string, number | null> = {};
  for (const [op, total] of opTotal) share[op] = opFirstFlag.has(op) ? (opBefore.get(op) ?? 0) / total : null;
  const playbookTtd: Record<string, PlaybookTtd> = {};
  for (const [pb, g] of byPlaybook) {
    g.hours.sort((a, b) => a - b);
    g.exchanges.sort((a, b) => a - b);
    // The worst operator of the playbook; one never flagged makes the playbook's first flag null.
    let firstFlagShare: number | null = -1;
    let firstFlagHours: number | null = -1;
    for (const op of g.ops) {
      const f = opFirstFlag.get(op);
      if (f === undefined || firstFlagShare === null) {
        firstFlagShare = firstFlagHours = null;
        continue;
      }
      firstFlagShare = Math.max(firstFlagShare, share[op] ?? 0);
      firstFlagHours = Math.max(firstFlagHours!, Math.max(0, (f - opStart.get(op)!) / 3_600_000));
    }
    playbookTtd[pb] = { hoursP50: quantile(g.hours, 0.5), hoursP90: quantile(g.hours, 0.9), exchangesP50: quantile(g.exchanges, 0.5), exchangesP90: quantile(g.exchanges, 0.9), firstFlagShare, firstFlagHours };
  }
  return {
    name,
    description,
    precision: c.precision,
    recall: c.recall,
    f1: c.f1,
    tp: c.tp,
    fp: c.fp,
    fn: c.fn,
    playbooks: g.playbooks,
    populations: g.populations,
    ttdHours: { median: quantile(hours, 0.5), p90: quantile(hours, 0.9) },
    ttdExchanges: { median: quantile(exchanges, 0.5), p90: quantile(exchanges, 0.9) },
    operatorsShareBeforeFlag: share,
    attackCost: burned ? harvested / burned : null,
    playbookTtd,
    hours,
  };
}

export interface RunScenarioOptions {
  scenario: string;
  seed: number;
  datasetsDir?: string;
  scale?: number;
  /** People's visits per day multiplied (SimulateOptions.peopleVolume). @default 1 */
  peopleVolume?: number;
  params?: Partial<DetectorParams>;
  workDir?: string;
  keep?: boolean;
  /** Field families removed from the logs before the scan (see ablate.ts). */
  drop?: readonly FieldFamily[];
  /**
   * `store`: scan as a user would, into a DuckDB store. `memory`: the scan's engine fed the
   * logs in memory (memory-scan.ts), same verdicts without the store's round trip.
   * @default 'store'
   */
  scan?: 'store' | 'memory';
}

export interface ScoreScanInput {
  scenario: string;
  seed: number;
  /** The traffic that was scanned, read again here for the baselines and times to detect. */
  traffic: TrafficSource;
  /** Its ground truth, as `simulate` wrote it. */
  truthFile: string;
  /**
   * Score only the truth's accounts that sent an exchange in the traffic: a prefix of a
   * scenario's file holds a part of its accounts, and an account absent from it can be neither
   * caught nor missed. On a whole simulated file every truth account appears. @default false
   */
  onlyAccountsSeen?: boolean;
  report: ScanReport;
  scanSeconds: number;
  peakRssMb: number;
}

/**
 * A scan's report scored against the traffic's ground truth, beside the two baselines run on
 * the same traffic. The traffic is read once more, as compact columns (13 bytes an exchange).
 */
export async function scoreScan(o: ScoreScanInput): Promise<ScenarioResult & { truthAccountsUnseen: number }> {
  const traffic = await loadTraffic(o.traffic);
  const { truth, unseen } = truthSeen(JSON.parse(readFileSync(o.truthFile, 'utf8')) as TruthLike, o.onlyAccountsSeen ? new Set(traffic.accounts) : undefined);
  const flags = flagsFromReport(o.report);
  const baselines = runBaselines(traffic);
  const dw = detectorResult('distillwatch', 'DistillWatch engine (verdict distillation)', truth, flags, traffic);
  const bs = baselines.map((b) => detectorResult(b.name, b.description, truth, b.flags(), traffic));
  const maliciousAccounts = Object.values(truth.accounts).filter((a) => a.malicious).length;
  return {
    scenario: o.scenario,
    seed: o.seed,
    exchanges: o.report.input.exchanges,
    accounts: o.report.input.accounts,
    maliciousAccounts,
    scanSeconds: o.scanSeconds,
    exchangesPerSecond: o.report.input.exchanges / o.scanSeconds,
    peakRssMb: o.peakRssMb,
    detectors: [dw, ...bs].map(({ hours: _h, ...rest }) => rest),
    reconstruction: reconstruction(truth, o.report),
    ttdSamples: [dw, ...bs].map((d) => ({ detector: d.name, hours: d.hours })),
    truthAccountsUnseen: unseen,
  };
}

/** The truth restricted to the accounts seen (all of it without a set), and how many it left out. */
function truthSeen(truth: TruthLike, seen: ReadonlySet<string> | undefined): { truth: TruthLike; unseen: number } {
  if (!seen) return { truth, unseen: 0 };
  const accounts: TruthLike['accounts'] = {};
  let unseen = 0;
  for (const [id, a] of Object.entries(truth.accounts)) {
    if (seen.has(id)) accounts[id] = a;
    else unseen++;
  }
  return { truth: { ...truth, accounts }, unseen };
}

export async function runScenario(o: RunScenarioOptions): Promise<ScenarioResult> {
  const dir = o.workDir ?? mkdtempSync(join(tmpdir(), 'distillwatch-bench-'));
  const traffic = join(dir, `${o.scenario}-${o.seed}.jsonl.gz`);
  const truthFile = join(dir, `${o.scenario}-${o.seed}.truth.json`);
  try {
    const simulated = o.drop?.length ? join(dir, `${o.scenario}-${o.seed}.full.jsonl.gz`) : traffic;
    await writeSimulation({ scenario: o.scenario, seed: o.seed, out: simulated, truthOut: truthFile, ...(o.datasetsDir ? { datasetsDir: o.datasetsDir } : {}), ...(o.scale ? { scale: o.scale } : {}), ...(o.peopleVolume ? { peopleVolume: o.peopleVolume } : {}) });
    if (o.drop?.length) await writeAblated(simulated, traffic, o.drop);
    const features = o.drop?.includes('previews') ? { features: { promptPreviewChars: 0 } } : {};
    let report: ScanReport;
    const started = process.hrtime.bigint();
    if (o.scan === 'memory') report = await memoryScan(traffic, { ...(o.params ? { params: o.params } : {}), ...features });
    else {
      const store = await openDuckDbStore(join(dir, `${o.scenario}-${o.seed}.duckdb`));
      try {
        const r = await scan({ inputs: [traffic], store, ...(o.params ? { params: o.params } : {}), ...features });
        report = r.report!;
      } finally {
        await store.close();
      }
    }
    const scanSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const { truthAccountsUnseen: _unseen, ...result } = await scoreScan({ scenario: o.scenario, seed: o.seed, traffic: { file: traffic }, truthFile, report, scanSeconds, peakRssMb: process.resourceUsage().maxRSS / 1024 });
    return result;
  } finally {
    if (!o.keep && !o.workDir) rmSync(dir, { recursive: true, force: true });
  }
}
