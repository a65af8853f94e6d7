import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSimulation } from '../traffic/simulate.js';
import { scoreScan } from './detection.js';
import { memoryScan } from './memory-scan.js';
import { scan } from '../pipeline/scan.js';
import { openStore } from '../store/open.js';

const SCRIPT = fileURLToPath(new URL('./score-report.js', import.meta.url));
const run = (...args: string[]) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8' });

/** A fresh directory with the demo scenario simulated into it (traffic and truth), removed afterwards. */
async function withDemo(seed: number, name: string, test: (dir: string, traffic: string, truthFile: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-score-'));
  try {
    const traffic = join(dir, name);
    const truthFile = join(dir, 't.truth.json');
    await writeSimulation({ scenario: 'demo', seed, out: traffic, truthOut: truthFile });
    await test(dir, traffic, truthFile);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('score-report (a saved report scored against its traffic\'s truth)', () => {
  it('counts what the report flagged against the truth, as the detection benchmark does', async () =>
    withDemo(4, 't.jsonl.gz', async (dir, traffic, truthFile) => {
    const report = await memoryScan(traffic);
    // One campaign member's verdict taken back: the score must count it as missed, so the
    // figures below come from this report, not from a scan of its own.
    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { accounts: Record<string, { malicious: boolean }> };
    const flagged = report.accounts.filter((a) => a.verdict === 'distillation' && a.first_flagged_at);
    assert.ok(flagged.length >= 2, 'the demo has flagged accounts');
    const dropped = flagged[0]!;
    dropped.verdict = 'benign';
    const reportFile = join(dir, 'report.json');
    writeFileSync(reportFile, JSON.stringify(report));
    const out = join(dir, 'score.json');
    const r = run('--report', reportFile, '--traffic', traffic, '--truth', truthFile, '--scan-seconds', '2', '--out', out);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^scored over the \d+ of \d+ truth accounts seen in the traffic/);
    assert.match(r.stdout, /\n== demo \(seed 4\)/);
    const score = JSON.parse(readFileSync(out, 'utf8')) as { detectors: { name: string; tp: number; fp: number; fn: number }[] };
    const dw = score.detectors.find((d) => d.name === 'distillwatch')!;
    const kept = flagged.slice(1);
    const tp = kept.filter((a) => truth.accounts[a.account_id]?.malicious).length;
    const malicious = Object.values(truth.accounts).filter((a) => a.malicious).length;
    assert.equal(dw.tp, tp);
    assert.equal(dw.fp, kept.length - tp);
    assert.equal(dw.fn, malicious - tp);
    assert.deepEqual(score.detectors.map((d) => d.name), ['distillwatch', 'rate_limit', 'keyword_rule']);
    // On a whole simulated file every malicious account sends, and the figures are the ones
    // scored over the whole truth (accounts that never sent can be neither caught nor flagged).
    const whole = await scoreScan({ scenario: 'demo', seed: 4, traffic: { file: traffic }, truthFile, report, scanSeconds: 2, peakRssMb: NaN });
    const pick = (d: object): unknown => {
      const { precision, recall, f1, tp, fp, fn, ttdHours, ttdExchanges, playbooks } = d as Record<string, unknown>;
      return { precision, recall, f1, tp, fp, fn, ttdHours, ttdExchanges, playbooks };
    };
    const scored = JSON.parse(readFileSync(out, 'utf8')) as { detectors: object[] };
    assert.deepEqual(scored.detectors.map(pick), whole.detectors.map(pick));
    }));

  it('scores a prefix of the traffic over the accounts it holds, not over every account of the truth', async () =>
    withDemo(4, 'full.jsonl.gz', async (dir, full, truthFile) => {
    // The first tenth of the lines: a part of the accounts, as the first million lines of a large scenario.
    const lines = gunzipSync(readFileSync(full)).toString('utf8').split('\n').filter((l) => l.length > 0);
    const head = lines.slice(0, Math.floor(lines.length / 10));
    const traffic = join(dir, 'head.jsonl.gz');
    writeFileSync(traffic, gzipSync(head.join('\n') + '\n'));
    const seen = new Set(head.map((l) => (JSON.parse(l) as { account_id: string }).account_id));
    const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as { accounts: Record<string, { malicious: boolean }> };
    const all = Object.keys(truth.accounts).length;
    assert.ok(seen.size < all, 'the prefix holds a part of the accounts');
    const report = await memoryScan(traffic);
    const reportFile = join(dir, 'report.json');
    writeFileSync(reportFile, JSON.stringify(report));
    const out = join(dir, 'score.json');
    const r = run('--report', reportFile, '--traffic', traffic, '--truth', truthFile, '--out', out);
    assert.equal(r.status, 0, r.stderr);
    const score = JSON.parse(readFileSync(out, 'utf8')) as { maliciousAccounts: number; detectors: { name: string; tp: number; fn: number; populations: Record<string, { accounts: number }> }[] };
    const seenMalicious = [...seen].filter((a) => truth.accounts[a]?.malicious).length;
    assert.equal(score.maliciousAccounts, seenMalicious);
    const dw = score.detectors.find((d) => d.name === 'distillwatch')!;
    assert.equal(dw.tp + dw.fn, seenMalicious, 'recall over the malicious accounts seen');
    const honest = Object.values(dw.populations).reduce((n, g) => n + g.accounts, 0);
    assert.equal(honest + seenMalicious, seen.size, 'honest groups counted over the accounts seen');
    assert.match(r.stdout, new RegExp(`^scored over the ${seen.size} of ${all} truth accounts seen in the traffic \\(${all - seen.size} not seen`));
    }));

  it('scores from the store the scan wrote as from the traffic file itself', async () =>
    withDemo(5, 't.jsonl.gz', async (dir, traffic, truthFile) => {
    const db = join(dir, 'scan.duckdb');
    const store = await openStore(db);
    let report;
    try {
      report = (await scan({ inputs: [traffic], store })).report!;
    } finally {
      await store.close();
    }
    const reportFile = join(dir, 'report.json');
    writeFileSync(reportFile, JSON.stringify(report));
    const scores = ['--traffic', '--store'].map((how) => {
      const out = join(dir, `score${how}.json`);
      const r = run('--report', reportFile, how, how === '--store' ? db : traffic, '--truth', truthFile, '--out', out);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(readFileSync(out, 'utf8')) as { detectors: { name: string; tp: number }[]; ttdSamples: unknown };
    });
    assert.ok(scores[0]!.detectors.every((d) => d.name !== 'distillwatch' || d.tp > 0), 'the demo has campaign members caught');
    assert.deepEqual(scores[1]!.detectors, scores[0]!.detectors, 'every detector and baseline, times to detect included');
    assert.deepEqual(scores[1]!.ttdSamples, scores[0]!.ttdSamples);
    }));

  it('names a missing or foreign input in one line and exits 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-score-'));
    try {
      const notReport = join(dir, 'x.json');
      writeFileSync(notReport, '{"hello": 1}');
      for (const [args, expected] of [
        [['--traffic', 't', '--truth', 'u'], /--report is required/],
        [['--report', join(dir, 'none.json'), '--traffic', 't', '--truth', 'u'], /cannot read the report .*none\.json: ENOENT/],
        [['--report', notReport, '--traffic', 't', '--truth', 'u'], /is not a scan's report\.json/],
        [['--report', notReport, '--truth', 'u'], /one of --traffic FILE or --store URL/],
      ] as const) {
        const r = run(...args);
        assert.equal(r.status, 2);
        assert.match(r.stderr, expected);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
