/**
 * What importing a partner's bundle buys (a script, not a test): the simulator's ban-evasion
 * operator replaces a banned pool with a fresh one that keeps the harness. Provider A sees
 * the traffic before the ban, flags the first pool and exports a bundle; provider B sees only
 * the traffic after it. B scans it twice, without and with A's bundle imported, and the table
 * shows how soon the successor pool is flagged each way, how many of its exchanges were
 * served before that, and how many honest accounts were flagged.
 *
 *   node dist/bench/intel-share.js [--scale 0.3] [--seeds 1,2,3,4,5]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { ScanReport } from '../core/report.js';
import type { IntelIndicatorRecord } from '../store/store.js';
import { exportBundle } from '../intel/export.js';
import { readBundle } from '../intel/import.js';
import { scan } from '../pipeline/scan.js';
import { openDuckDbStore } from '../store/duckdb/store.js';
import { prepareSimulation } from '../traffic/simulate.js';

const { values } = parseArgs({ options: { scale: { type: 'string', default: '0.3' }, seeds: { type: 'string', default: '1,2,3,4,5' } } });
const scale = Number(values.scale);
const seeds = values.seeds.split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'dw-intel-bench-'));

async function scanInto(name: string, input: string, intel: readonly IntelIndicatorRecord[] = []): Promise<ScanReport> {
  const store = await openDuckDbStore(join(dir, `${name}.duckdb`));
  try {
    if (intel.length > 0) await store.importIntel(intel);
    const r = await scan({ inputs: [input], store });
    return r.report!;
  } finally {
    await store.close();
  }
}

interface Row {
  seed: number;
  pool: number;
  way: string;
  caught: number;
  hours: number;
  servedBefore: number;
  honestFlagged: number;
}

const rows: Row[] = [];
try {
  for (const seed of seeds) {
    const sim = await prepareSimulation({ scenario: 'ban-evasion', seed, scale });
    const ban = Date.parse(sim.truth.bans[0]!.at);
    const early: string[] = [];
    const late: { line: string; account: string; ts: number }[] = [];
    for (const ex of sim.exchanges) {
      const ts = Date.parse(ex.ts);
      if (ts < ban) early.push(JSON.stringify(ex));
      else late.push({ line: JSON.stringify(ex), account: ex.account_id, ts });
    }
    const a = join(dir, `a${seed}.jsonl`);
    const b = join(dir, `b${seed}.jsonl`);
    writeFileSync(a, early.join('\n') + '\n');
    writeFileSync(b, late.map((x) => x.line).join('\n') + '\n');
    const successor = late.filter((x) => sim.truth.accounts[x.account]?.playbook === 'ban_evasion');
    const pool = new Set(successor.map((x) => x.account));
    const poolStart = Math.min(...successor.map((x) => x.ts));
    const exported = exportBundle(await scanInto(`a${seed}`, a), { producer: 'Provider A' });
    if (!exported.ok) throw new Error(`seed ${seed}: provider A has nothing to share: ${exported.error}`);
    const read = readBundle(JSON.stringify(exported.bundle), 'bundle');
    if (!read.ok) throw new Error(read.error);
    for (const [way, intel] of [['without import', []], ['with import', read.value.records]] as const) {
      const r = await scanInto(`b${seed}-${way.replace(' ', '-')}`, b, intel);
      const flags = r.accounts.filter((x) => pool.has(x.account_id) && x.first_flagged_at).map((x) => Date.parse(x.first_flagged_at!));
      const first = flags.length > 0 ? Math.min(...flags) : Infinity;
      rows.push({
        seed,
        pool: pool.size,
        way,
        caught: flags.length,
        hours: (first - poolStart) / 3_600_000,
        servedBefore: successor.filter((x) => x.ts < first).length,
        honestFlagged: r.accounts.filter((x) => x.first_flagged_at && !sim.truth.accounts[x.account_id]?.malicious).length,
      });
    }
    process.stderr.write(`seed ${seed} done\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const pad = (s: string | number, n: number) => String(s).padStart(n);
process.stdout.write(`ban-evasion at scale ${scale}: the successor pool at provider B, without and with provider A's bundle\n`);
process.stdout.write(`${'seed'.padEnd(5)} ${'import'.padEnd(15)} ${pad('caught', 8)} ${pad('hours to 1st flag', 18)} ${pad('exchanges served before', 24)} ${pad('honest flagged', 15)}\n`);
for (const r of rows) {
  process.stdout.write(`${String(r.seed).padEnd(5)} ${r.way.padEnd(15)} ${pad(`${r.caught}/${r.pool}`, 8)} ${pad(r.hours.toFixed(2), 18)} ${pad(r.servedBefore, 24)} ${pad(r.honestFlagged, 15)}\n`);
}
