import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScanReport } from '../core/report.js';
import { writeSimulation } from '../traffic/simulate.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dw-scan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 26 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

function readReport(p: string): ScanReport {
  return JSON.parse(readFileSync(p, 'utf8')) as ScanReport;
}

/** Campaign memberships and account verdicts, without the times at which the report was written. */
function verdicts(r: ScanReport): string[] {
  return r.accounts.map((a) => `${a.account_id}:${a.verdict}:${a.first_flagged_at ?? ''}`).sort();
}

describe('scan', () => {
  const traffic = join(dir, 'traffic.jsonl');
  const truth = join(dir, 'truth.json');
  let lines = 0;

  before(async () => {
    const c = await writeSimulation({ scenario: 'demo', seed: 3, out: traffic, truthOut: truth });
    lines = c.exchanges;
  });

  it('writes a report in the contract shape and prints a summary', () => {
    const out = join(dir, 'r1.json');
    const r = cli(['scan', traffic, '--out', out, '--db', join(dir, 'a.duckdb'), '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /DistillWatch scan/);
    assert.match(r.stdout, /Campaign cmp_/);
    const rep = readReport(out);
    assert.equal(rep.input.exchanges, lines);
    assert.ok(rep.campaigns.length >= 1);
    for (const c of rep.campaigns) {
      for (const k of ['id', 'confidence', 'accounts', 'exchanges', 'first_seen', 'last_seen', 'capabilities', 'tactics', 'indicators', 'explanation'] as const) assert.ok(k in c, `campaign has ${k}`);
      for (const k of ['ips', 'asns', 'payment_fingerprints', 'templates'] as const) assert.ok(Array.isArray(c.indicators[k]));
      // Every simulated exchange carries its ASN: a campaign's networks must be listed for sharing.
      assert.ok(c.indicators.asns.length > 0 && c.indicators.asns.every((a) => Number.isInteger(a)), `${c.id} lists its ASNs`);
    }
    for (const a of rep.accounts) {
      assert.ok(['distillation', 'suspicious', 'benign'].includes(a.verdict));
      assert.ok(a.reasons.length > 0, `${a.account_id} says why`);
      if (a.verdict === 'distillation') assert.ok(a.first_flagged_at && !Number.isNaN(Date.parse(a.first_flagged_at)));
    }
  });

  it('labels each reason with its time and keeps them consistent with the campaign, with readable indicators', async () => {
    // The demo's own seed: its synchronized cluster was once linked with a bystander.
    const demo = join(dir, 'demo-7.jsonl');
    await writeSimulation({ scenario: 'demo', seed: 7, out: demo, truthOut: join(dir, 'demo-7-truth.json') });
    const out = join(dir, 'r-labels.json');
    const r = cli(['scan', demo, '--out', out, '--db', join(dir, 'labels.duckdb'), '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    const rep = readReport(out);
    const byId = new Map(rep.campaigns.map((c) => [c.id, c]));
    let checked = 0;
    for (const a of rep.accounts.filter((x) => x.campaign_id && x.verdict === 'distillation')) {
      const c = byId.get(a.campaign_id!)!;
      assert.match(a.reasons[0]!, /^when flagged \(\d{4}-\d\d-\d\dT\d\d:\d\dZ\): /, a.reasons[0]);
      for (const reason of a.reasons.filter((x) => x.startsWith(`campaign ${c.id} now: `))) {
        const prompts = /of the group's (\d+) prompts/.exec(reason);
        if (prompts) assert.equal(Number(prompts[1]), c.exchanges, `${reason} vs the campaign's ${c.exchanges} exchanges`);
        const accounts = /\(\d+ of (\d+) accounts\)/.exec(reason);
        if (accounts) assert.equal(Number(accounts[1]), c.accounts.length, `${reason} vs the campaign's ${c.accounts.length} accounts`);
        checked++;
      }
    }
    assert.ok(checked > 0, 'campaign reasons were checked');
    for (const c of rep.campaigns) assert.match(c.explanation, /First flagged at \S+; confidence now \d\.\d\d\./);
    assert.match(r.stdout, /Campaign cmp_\d+ {2}confidence now \d\.\d\d/);
    assert.match(r.stdout, /(system prompt|client harness|prompt template) [0-9a-f]{8}, shared by \d+ accounts/);
    assert.doesNotMatch(r.stdout, /indicators .*(system:)?[0-9a-f]{16}/, 'no raw 16-character hashes in the summary');
  });

  it('holds at every linking run the communities a from-scratch run finds, on simulated traffic', () => {
    // DISTILLWATCH_VERIFY_LINKING makes every linking run also cluster everything from
    // scratch and stop with an error on the first difference.
    const out = join(dir, 'r-verified.json');
    const r = cli(['scan', traffic, '--out', out, '--db', join(dir, 'verify.duckdb'), '--no-progress'], { DISTILLWATCH_VERIFY_LINKING: '1' });
    assert.equal(r.status, 0, r.stderr);
    const plain = join(dir, 'r-plain.json');
    assert.equal(cli(['scan', traffic, '--out', plain, '--db', join(dir, 'verify.duckdb'), '--no-progress']).status, 0);
    assert.deepEqual(verdicts(readReport(out)), verdicts(readReport(plain)));
    assert.ok(readReport(out).campaigns.length >= 1);
  });

  it('ingests the same input again without counting anything twice', () => {
    const db = join(dir, 'b.duckdb');
    const first = cli(['scan', traffic, '--out', join(dir, 'r2.json'), '--db', db, '--no-progress', '--no-summary']);
    assert.equal(first.status, 0, first.stderr);
    // A copy under another name is another file: every id in it is already stored.
    const copy = join(dir, 'copy.jsonl');
    writeFileSync(copy, readFileSync(traffic));
    const second = cli(['scan', traffic, copy, '--out', join(dir, 'r3.json'), '--db', db, '--no-progress', '--no-summary']);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /already ingested/);
    assert.match(second.stderr, new RegExp(`${lines} records already stored were ignored`));
    assert.equal(readReport(join(dir, 'r3.json')).input.exchanges, lines);
    assert.deepEqual(verdicts(readReport(join(dir, 'r3.json'))), verdicts(readReport(join(dir, 'r2.json'))));
  });

  it('resumes a killed scan without loss or double counting', () => {
    const db = join(dir, 'c.duckdb');
    const killed = cli(['scan', traffic, '--out', join(dir, 'r4.json'), '--db', db, '--no-progress', '--batch-size', '2000'], { DISTILLWATCH_FAILPOINT_KILL_AFTER_BATCHES: '3' });
    assert.equal(killed.signal, 'SIGKILL', 'the failpoint killed the scan mid-ingest');
    const resumed = cli(['scan', traffic, '--out', join(dir, 'r4.json'), '--db', db, '--no-progress', '--no-summary', '--batch-size', '2000']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resumed ".*traffic\.jsonl" at line 6001/);
    const clean = cli(['scan', traffic, '--out', join(dir, 'r5.json'), '--db', join(dir, 'd.duckdb'), '--no-progress', '--no-summary']);
    assert.equal(clean.status, 0, clean.stderr);
    const a = readReport(join(dir, 'r4.json'));
    const b = readReport(join(dir, 'r5.json'));
    assert.equal(a.input.exchanges, lines);
    assert.deepEqual(verdicts(a), verdicts(b));
  });

  it('sets bad records aside with file, line and reason, and goes on', () => {
    const messy = join(dir, 'messy.jsonl');
    const good = readFileSync(traffic, 'utf8').split('\n').slice(0, 200).join('\n') + '\n';
    writeFileSync(messy, good);
    appendFileSync(messy, '{"id": "x1", "ts": "2026-04-22T00:00:00Z", "acc\n');
    appendFileSync(messy, JSON.stringify({ id: 'x2', ts: 'yesterday', account_id: 'a', model: 'm', request: { messages: [{ role: 'user', content: 'hi' }] } }) + '\n');
    appendFileSync(messy, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d, 0x0a]));
    const quarantine = join(dir, 'q.jsonl');
    const r = cli(['scan', messy, '--out', join(dir, 'r6.json'), '--db', join(dir, 'e.duckdb'), '--no-progress', '--no-summary', '--quarantine', quarantine]);
    assert.equal(r.status, 0, r.stderr);
    const rep = readReport(join(dir, 'r6.json'));
    assert.equal(rep.input.exchanges, 200);
    assert.equal(rep.input.bad_records, 3);
    const bad = readFileSync(quarantine, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { file: string; line: number; reason: string });
    assert.deepEqual(bad.map((b) => b.line), [201, 202, 203]);
    assert.match(bad[1]!.reason, /line 202 .*"ts"/);
    assert.match(bad[2]!.reason, /UTF-8/);
  });

  it('names a missing input and exits with an error', () => {
    const r = cli(['scan', join(dir, 'nope.jsonl'), '--db', join(dir, 'f.duckdb'), '--no-progress']);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /Cannot read input ".*nope\.jsonl": no such file/);
  });

  it('reports a store it cannot open in one line that names it, without a stack trace', () => {
    const db = join(dir, 'no-such-folder', 'x.duckdb');
    const r = cli(['scan', traffic, '--db', db, '--no-progress']);
    assert.equal(r.status, 1);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /Cannot open the store ".*no-such-folder.*x\.duckdb": its folder does not exist/);
  });
});

describe('scan inputs and outputs', () => {
  const exchange = (n: number): string =>
    JSON.stringify({ id: `ex_io_${n}`, ts: new Date(Date.parse('2026-05-01T00:00:00Z') + n * 60_000).toISOString(), account_id: `acct_io_${n % 3}`, model: 'm', api: 'openai', request: { messages: [{ role: 'user', content: `Question ${n}` }] }, response: { content: 'ok' }, status: 200 });
  const file = (name: string, content: string): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };

  it('a directory as input is a one-line error, exit 2', () => {
    const r = cli(['scan', dir, '--out', join(dir, 'd.json'), '--db', join(dir, 'io-d.duckdb'), '--no-progress']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^distillwatch: Cannot read input ".*": it is a directory/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  });

  it('--out and the quarantine beside it in folders that do not exist yet are made', () => {
    const input = file('bad-and-good.jsonl', exchange(1) + '\n{"truncated\n' + exchange(2) + '\n');
    const out = join(dir, 'new', 'deeper', 'report.json');
    const r = cli(['scan', input, '--out', out, '--db', join(dir, 'io-o.duckdb'), '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readReport(out).input.exchanges, 2);
    assert.equal(readFileSync(join(dir, 'new', 'deeper', 'quarantine.jsonl'), 'utf8').trim().split('\n').length, 1);
  });

  it('exits 2 with one line when no record could be read, and says "no campaigns found" for a clean empty input', () => {
    const binary = file('binary.dat', Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 37) % 256)).toString('latin1'));
    const bad = cli(['scan', binary, '--out', join(dir, 'b.json'), '--db', join(dir, 'io-b.duckdb'), '--no-progress']);
    assert.equal(bad.status, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /distillwatch: No exchange could be read: all \d+ records were bad/);
    // Read again into the same store: still nothing readable, still an error.
    const again = cli(['scan', binary, '--out', join(dir, 'b.json'), '--db', join(dir, 'io-b.duckdb'), '--no-progress']);
    assert.equal(again.status, 2, again.stderr);
    const wrongFormat = cli(['scan', file('canon.jsonl', exchange(1) + '\n'), '--format', 'otel', '--out', join(dir, 'w.json'), '--db', join(dir, 'io-w.duckdb'), '--no-progress']);
    assert.equal(wrongFormat.status, 2, wrongFormat.stderr);

    const empty = cli(['scan', file('empty.jsonl', ''), '--out', join(dir, 'e.json'), '--db', join(dir, 'io-e.duckdb'), '--no-progress']);
    assert.equal(empty.status, 0, empty.stderr);
    assert.match(empty.stdout, /No campaigns found\./);
    assert.doesNotMatch(empty.stdout, /\n\n\n/);
  });

  it('a report names every input in its store, earlier scans included, and --fresh empties the store and the quarantine', () => {
    const db = join(dir, 'io-mixed.duckdb');
    const out = join(dir, 'mixed', 'report.json');
    const first = file('first.jsonl', [1, 2, 3, 4, 5, 6].map(exchange).join('\n') + '\n{oops\n');
    const second = file('second.jsonl', exchange(7) + '\n{oops\n');
    assert.equal(cli(['scan', first, '--out', out, '--db', db, '--no-progress']).status, 0);
    const r = cli(['scan', second, '--out', out, '--db', db, '--no-progress']);
    assert.equal(r.status, 0, r.stderr);
    const rep = readReport(out);
    assert.equal(rep.input.exchanges, 7);
    assert.deepEqual(rep.input.sources?.map((s) => [s.path, s.lines, s.this_scan]), [
      [first, 7, false],
      [second, 2, true],
    ]);
    assert.match(r.stdout, /first\.jsonl \(7 lines, earlier scan\)/);
    assert.match(r.stderr, /the report also covers 1 input of earlier scans/);
    const quarantine = join(dir, 'mixed', 'quarantine.jsonl');
    assert.equal(readFileSync(quarantine, 'utf8').trim().split('\n').length, 2);

    const fresh = cli(['scan', second, '--out', out, '--db', db, '--fresh', '--no-progress']);
    assert.equal(fresh.status, 0, fresh.stderr);
    const only = readReport(out);
    assert.equal(only.input.exchanges, 1);
    assert.deepEqual(only.input.files, [second]);
    assert.equal(readFileSync(quarantine, 'utf8').trim().split('\n').length, 1, 'the quarantine holds this scan\'s bad records only');
  });
});

describe('report', () => {
  it('prints the latest scan saved in a store and writes its report.json; a missing store is one line, exit 2', () => {
    const input = join(dir, 'for-report.jsonl');
    writeFileSync(input, JSON.stringify({ id: 'ex_rep_1', ts: '2026-05-01T00:00:00Z', account_id: 'acct_rep', model: 'm', api: 'openai', request: { messages: [{ role: 'user', content: 'hi' }] }, response: { content: 'ok' }, status: 200 }) + '\n');
    const db = join(dir, 'rep.duckdb');
    const scanned = cli(['scan', input, '--out', join(dir, 'rep-scan.json'), '--db', db, '--no-progress']);
    assert.equal(scanned.status, 0, scanned.stderr);
    const out = join(dir, 'rep-again.json');
    const r = cli(['report', '--db', db, '--out', out]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /DistillWatch scan\n {2}1 exchanges from 1 accounts/);
    assert.deepEqual(readReport(out), readReport(join(dir, 'rep-scan.json')));
    const missing = cli(['report', '--db', join(dir, 'nope.duckdb')]);
    assert.equal(missing.status, 2);
    assert.equal(missing.stderr, `distillwatch: Cannot open the store "${join(dir, 'nope.duckdb')}": no such file\n`);
  });

  it('simulate --help lists the scenarios', () => {
    const r = cli(['simulate', '--help']);
    assert.match(r.stdout, /hydra-28m/);
    assert.match(r.stdout, /benign-only/);
  });
});
