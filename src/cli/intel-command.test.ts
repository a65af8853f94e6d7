import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ScanReport } from '../core/report.js';
import type { StixBundle } from '../intel/export.js';
import { stixValidator } from '../intel/_test-stix-schemas.js';
import { prepareSimulation } from '../traffic/simulate.js';
import type { Truth } from '../traffic/actors.js';
import { runCli } from './_test-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-intel-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string) => join(dir, name);

async function cli(args: string[]): Promise<string> {
  const run = runCli(args);
  const code = await run.exited;
  assert.equal(code, 0, `distillwatch ${args.join(' ')}: ${run.output()}`);
  return run.output();
}

const scan = (input: string, db: string, out: string) => cli(['scan', input, '--db', db, '--out', out, '--no-progress', '--no-summary']);
const readReport = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as ScanReport;

/**
 * One operator's two pools: the ban-evasion playbook replaces a banned pool with a fresh one
 * on new networks and cards that keeps the harness. Provider A saw the first pool, provider B
 * sees only the traffic after the ban, the successor pool among its own honest users.
 */
describe('intel export and import between two providers', () => {
  let truth: Truth;
  let successors: Set<string>;
  before(async () => {
    const sim = await prepareSimulation({ scenario: 'ban-evasion', seed: 3, scale: 0.3 });
    const ban = Date.parse(sim.truth.bans[0]!.at);
    const early: string[] = [];
    const late: string[] = [];
    for (const ex of sim.exchanges) (Date.parse(ex.ts) < ban ? early : late).push(JSON.stringify(ex));
    truth = sim.truth;
    writeFileSync(at('a.jsonl'), early.join('\n') + '\n');
    writeFileSync(at('b.jsonl'), late.join('\n') + '\n');
    successors = new Set(late.map((l) => (JSON.parse(l) as { account_id: string }).account_id).filter((a) => truth.accounts[a]?.playbook === 'ban_evasion'));
    await scan(at('a.jsonl'), at('a.duckdb'), at('a.json'));
  });

  it('exports a bundle that validates against the OASIS schemas, the same on a re-export', async () => {
    await cli(['intel', 'export', '--db', at('a.duckdb'), '--out', at('bundle.json'), '--tlp', 'green', '--producer', 'Lab A']);
    await cli(['intel', 'export', '--db', at('a.duckdb'), '--out', at('again.json'), '--tlp', 'green', '--producer', 'Lab A']);
    assert.equal(readFileSync(at('again.json'), 'utf8'), readFileSync(at('bundle.json'), 'utf8'));
    const bundle = JSON.parse(readFileSync(at('bundle.json'), 'utf8')) as StixBundle;
    const v = stixValidator();
    assert.deepEqual(v.errors({ ...bundle, objects: bundle.objects.filter((o) => o.type !== 'extension-definition') }), []);
    for (const o of bundle.objects) assert.deepEqual(v.errors(o), [], o.id);
    assert.ok(bundle.objects.some((o) => o.type === 'indicator' && String(o['pattern']).startsWith("[distillation-mark:kind = 'harness'")));
  });

  it("flags the operator's later pool sooner at a provider that imported the bundle, and names the bundle", async () => {
    const bundle = JSON.parse(readFileSync(at('bundle.json'), 'utf8')) as StixBundle;
    await scan(at('b.jsonl'), at('b.duckdb'), at('b.json'));
    const imported = await cli(['intel', 'import', at('bundle.json'), '--db', at('b2.duckdb')]);
    assert.match(imported, new RegExp(`imported ${bundle.id} from .*bundle\\.json: \\d+ of \\d+ indicators \\(\\d+ matchable\\), \\d+ new records, 0 already stored`));
    await scan(at('b.jsonl'), at('b2.duckdb'), at('b2.json'));
    const plain = readReport(at('b.json'));
    const informed = readReport(at('b2.json'));
    const flagTimes = (r: ScanReport) => r.accounts.filter((a) => successors.has(a.account_id) && a.first_flagged_at).map((a) => Date.parse(a.first_flagged_at!));
    const iso = (t: number) => new Date(t).toISOString();
    const flaggedBenign = (r: ScanReport) => r.accounts.filter((a) => a.first_flagged_at && !truth.accounts[a.account_id]?.malicious).map((a) => a.account_id);
    // The whole pool is caught in both; with the import it is stopped sooner. Its first flag can
    // fall on the same hourly linking run either way (the pool's own content evidence is enough
    // there), so what the import must change is when the last of its accounts is flagged.
    const plainTimes = flagTimes(plain);
    const informedTimes = flagTimes(informed);
    assert.equal(plainTimes.length, successors.size, 'every account of the pool caught without the import too');
    assert.equal(informedTimes.length, successors.size);
    assert.ok(Math.min(...informedTimes) <= Math.min(...plainTimes), `first flag with the import ${iso(Math.min(...informedTimes))}, without ${iso(Math.min(...plainTimes))}`);
    assert.ok(Math.max(...informedTimes) < Math.max(...plainTimes), `whole pool flagged with the import ${iso(Math.max(...informedTimes))}, without ${iso(Math.max(...plainTimes))}`);
    assert.deepEqual(flaggedBenign(informed), flaggedBenign(plain));
    const c = informed.campaigns.find((x) => x.accounts.some((a) => successors.has(a)))!;
    assert.equal(c.intel_bundles?.[0]?.bundle_id, bundle.id);
    assert.equal(c.intel_bundles?.[0]?.producer, 'Lab A');
    assert.equal(plain.campaigns.some((x) => x.intel_bundles), false);
  });

  it('counts a bundle imported twice once', async () => {
    const again = await cli(['intel', 'import', at('bundle.json'), '--db', at('b2.duckdb')]);
    assert.match(again, / 0 new records, \d+ already stored/);
  });

  it('ends with one line and exit code 2 on a missing store, an unknown campaign or a file that is not a bundle, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['intel', 'export', '--db', at('none.duckdb'), '--out', at('x.json')], /^distillwatch: Cannot open the store ".*none\.duckdb": no such file\n$/],
      [['intel', 'export', '--db', at('a.duckdb'), '--out', at('x.json'), '--campaign', 'cmp_99'], /^distillwatch: Cannot export campaign "cmp_99": the latest scan has only "cmp_1"\n$/],
      [['intel', 'import', at('a.jsonl'), '--db', at('c.duckdb')], /^distillwatch: Cannot read ".*a\.jsonl": not JSON \(.*\)\n$/],
      [['intel', 'import', at('missing.json'), '--db', at('c.duckdb')], /^distillwatch: Cannot read ".*missing\.json": no such file\n$/],
    ];
    for (const [args, message] of cases) {
      const run = runCli(args);
      assert.equal(await run.exited, 2, run.output());
      assert.match(run.output(), message);
    }
    assert.equal(existsSync(at('x.json')), false);
    assert.equal(existsSync(at('c.duckdb')), false);
  });
});
