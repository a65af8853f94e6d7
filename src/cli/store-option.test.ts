// `--store URL` on the commands that open a store: the same scan into DuckDB and into
// ClickHouse (chdb) finds the same campaigns and verdicts; a URL that names no store is one
// line and exit code 2, before anything is written.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ScanReport } from '../core/report.js';
import { writeSimulation } from '../traffic/simulate.js';

const CLI = fileURLToPath(new URL('./main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dw-store-url-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const readReport = (p: string): ScanReport => JSON.parse(readFileSync(p, 'utf8')) as ScanReport;

/** What a scan decided, without when the report was written. */
function decided(r: ScanReport) {
  return {
    input: { exchanges: r.input.exchanges, accounts: r.input.accounts, bad_records: r.input.bad_records },
    campaigns: r.campaigns.map((c) => ({ ...c, accounts: [...c.accounts].sort() })),
    accounts: [...r.accounts].sort((a, b) => (a.account_id < b.account_id ? -1 : 1)),
  };
}

describe('scan --store', () => {
  const traffic = join(dir, 'traffic.jsonl');
  before(async () => {
    await writeSimulation({ scenario: 'demo', seed: 5, out: traffic, truthOut: join(dir, 'truth.json') });
  });

  it('finds the same campaigns and verdicts in ClickHouse (chdb) as in DuckDB on the same traffic', async () => {
    const duck = await cli(['scan', traffic, '--store', `duckdb://${join(dir, 'a.duckdb')}`, '--out', join(dir, 'duck.json'), '--no-progress', '--no-summary']);
    assert.equal(duck.status, 0, duck.stderr);
    const ch = await cli(['scan', traffic, '--store', `chdb://${join(dir, 'chdb')}`, '--out', join(dir, 'ch.json'), '--no-progress', '--no-summary']);
    assert.equal(ch.status, 0, ch.stderr);
    const a = readReport(join(dir, 'duck.json'));
    const b = readReport(join(dir, 'ch.json'));
    assert.ok(a.campaigns.length >= 1, 'the demo traffic holds a campaign');
    assert.deepEqual(decided(b), decided(a));
    // The report is in the store too, and read back through it.
    const rep = await cli(['report', '--store', `chdb://${join(dir, 'chdb')}`, '--out', join(dir, 'again.json')]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.deepEqual(decided(readReport(join(dir, 'again.json'))), decided(a));
    // A second scan of the same file into the same store counts nothing twice.
    const again = await cli(['scan', traffic, '--store', `chdb://${join(dir, 'chdb')}`, '--out', join(dir, 'ch2.json'), '--no-progress', '--no-summary']);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(decided(readReport(join(dir, 'ch2.json'))).input, decided(a).input);
  });

  it('refuses a store URL it cannot use in one line naming it, exit code 2, writing nothing', async () => {
    const out = join(dir, 'bad.json');
    const cases: [string[], RegExp][] = [
      [['scan', traffic, '--store', 'mysql://localhost/db', '--out', out], /^distillwatch: --store: Cannot use the store URL "mysql:\/\/localhost\/db": unknown kind "mysql" \(known: duckdb:\/\/, chdb:\/\/, clickhouse:\/\/\)\n$/],
      [['scan', traffic, '--store', 'clickhouse://admin:s3cret@db.example:8123/a/b', '--out', out], /^distillwatch: --store: Cannot use the store URL "clickhouse:\/\/admin:\*\*\*@db\.example:8123\/a\/b": the path names one database\n$/],
      [['scan', traffic, '--store', 'chdb:///tmp/x?database=no-dashes', '--out', out], /^distillwatch: --store: Cannot use the store URL "chdb:\/\/\/tmp\/x\?database=no-dashes": database "no-dashes" is not a name of letters, digits and underscores\n$/],
      [['scan', traffic, '--store', 'duckdb:', '--out', out], /^distillwatch: --store: Cannot use the store URL "duckdb:": expected duckdb:\/\/ then a path/],
      [['scan', traffic, '--store', `duckdb://${join(dir, 'x.duckdb')}`, '--db', join(dir, 'y.duckdb'), '--out', out], /^distillwatch: Cannot use both --store and --db/],
      [['report', '--store', `chdb://${join(dir, 'never')}`], /^distillwatch: Cannot open the store "chdb:\/\/.*never": no such folder\n$/],
      [['dossier', 'cmp_1', '--store', 'nope://x', '--out', join(dir, 'd.html')], /^distillwatch: --store: Cannot use the store URL "nope:\/\/x": unknown kind "nope"/],
      [['intel', 'export', '--store', 'nope://x', '--out', join(dir, 'b.json')], /^distillwatch: --store: Cannot use the store URL "nope:\/\/x"/],
    ];
    for (const [args, line] of cases) {
      const r = await cli(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, line);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      // The password of a URL is never printed.
      assert.ok(!r.stderr.includes('s3cret'));
    }
    assert.equal(existsSync(out), false);
    assert.equal(existsSync(join(dir, 'x.duckdb')), false);
  });
});
