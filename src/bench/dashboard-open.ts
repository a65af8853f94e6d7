/**
 * Dashboard opening benchmark (a script, not a test): simulates at least N exchanges (1M by
 * default), scans them into a DuckDB store, starts `serve` on it, and times in Debian's
 * Chromium how long the overview, a campaign page and an account page take to open
 * (navigation until the campaign list; the graph and the timeline; the findings and the ego
 * graph are drawn), cold (first open after start) and warm (median of the next five). Also
 * times each API call those pages make, and prints the machine's load, which these figures
 * depend on.
 *
 * A scan writes the rollup these pages read (investigate/rollup.ts); a store scanned by an
 * older version gets one written here first, as its next scan would.
 *
 *   node dist/bench/dashboard-open.js [--exchanges 1000000] [--dir DIR] [--keep]
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { detect, ingest } from '../pipeline/scan.js';
import { openDuckDbStore } from '../store/duckdb/store.js';
import { writeMediumTraffic } from './medium-traffic.js';
import { startServer } from '../server/start.js';
import { writeRollup } from '../investigate/rollup.js';
import { cpus, loadavg } from 'node:os';

const CHROMIUM = process.env.DISTILLWATCH_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const TOKEN = 'bench-token-0123456789';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { exchanges: { type: 'string', default: '1000000' }, dir: { type: 'string' }, keep: { type: 'boolean', default: false } } });
  const target = Number(values.exchanges);
  if (!Number.isInteger(target) || target < 1000) {
    process.stderr.write(`Cannot run the benchmark: "--exchanges" must be a whole number of 1000 or more, not "${values.exchanges}"\n`);
    process.exit(2);
  }
  if (!existsSync(CHROMIUM)) {
    process.stderr.write(`Cannot run the benchmark: Chromium not found at ${CHROMIUM}: install the Debian package chromium\n`);
    process.exit(2);
  }
  const dir = values.dir ?? mkdtempSync(join(tmpdir(), 'dw-bench-dash-'));
  mkdirSync(dir, { recursive: true });
  const db = join(dir, `dashboard-${target}.duckdb`);
  if (!existsSync(db)) {
    const file = join(dir, `medium-${target}.jsonl`);
    await writeMediumTraffic(file, dir, target);
    process.stderr.write(`scanning into ${db}\n`);
    const s = await openDuckDbStore(db);
    await ingest({ inputs: [file], store: s });
    await detect({ store: s });
    await s.close();
    rmSync(file, { force: true });
  }

  const store = await openDuckDbStore(db);
  const latest = await store.latestReport();
  if (latest !== null && (await store.rolledTotals(latest.generated_at)) === null) {
    const t = performance.now();
    await writeRollup(store, latest);
    process.stderr.write(`rollup written in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
  }
  const counts = await store.counts();
  const server = await startServer({ store, listen: { host: '127.0.0.1', port: 0 }, holders: [{ name: 'bench', role: 'viewer', token: TOKEN }], logger: pino({ level: 'silent' }) });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const report = await store.latestReport();
    const campaign = report?.campaigns[0]?.id;
    if (!campaign) throw new Error('the scan found no campaign to open');
    // The campaign's riskiest member: the page an analyst opens next.
    const member = report!.accounts.filter((a) => a.campaign_id === campaign).sort((a, b) => b.risk - a.risk || a.account_id.localeCompare(b.account_id))[0]!.account_id;
    const openOnce = async (): Promise<{ overview: number; campaign: number; account: number }> => {
      const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
      let t = performance.now();
      await page.goto(`${server.url}/#token=${TOKEN}`);
      await page.waitForSelector('[data-testid=campaign-list]', { timeout: 60_000 });
      const overview = performance.now() - t;
      t = performance.now();
      await page.goto(`${server.url}/#/campaign/${campaign}`);
      await page.waitForSelector('canvas[data-drawn]', { timeout: 60_000 });
      await page.waitForSelector('[data-testid=timeline] svg', { timeout: 60_000 });
      const c = performance.now() - t;
      t = performance.now();
      await page.goto(`${server.url}/#/account/${member}`);
      await page.waitForSelector('[data-testid=findings] li', { timeout: 60_000 });
      await page.waitForSelector('[data-testid=account] canvas[data-drawn]', { timeout: 60_000 });
      const account = performance.now() - t;
      await page.close();
      return { overview, campaign: c, account };
    };
    const cold = await openOnce();
    const warm = [] as { overview: number; campaign: number; account: number }[];
    for (let i = 0; i < 5; i++) warm.push(await openOnce());
    const api = async (path: string) => {
      const t = performance.now();
      const r = await fetch(server.url + '/api/v1' + path, { headers: { authorization: `Bearer ${TOKEN}` } });
      await r.arrayBuffer();
      return performance.now() - t;
    };
    const paths = ['/overview', `/campaigns/${campaign}`, `/campaigns/${campaign}/timeline`, `/campaigns/${campaign}/graph`, `/accounts/${member}`, '/review-queue'];
    const perCall: string[] = [];
    for (const p of paths) {
      const times = [];
      for (let i = 0; i < 5; i++) times.push(await api(p));
      perCall.push(`  GET /api/v1${p}: median ${median(times).toFixed(0)} ms`);
    }
    const ms = (x: number) => `${(x / 1000).toFixed(2)} s`;
    process.stdout.write(
      [
        `store: ${counts.exchanges} exchanges, ${counts.accounts} accounts, ${report!.campaigns.length} campaigns (campaign opened: ${campaign}, ${report!.campaigns[0]!.accounts.length} members)`,
        `overview opens (navigation until the campaign list is drawn): cold ${ms(cold.overview)}, warm median ${ms(median(warm.map((w) => w.overview)))}`,
        `campaign page opens (until graph and timeline are drawn): cold ${ms(cold.campaign)}, warm median ${ms(median(warm.map((w) => w.campaign)))}`,
        `account page opens (${member}, until its findings and ego graph are drawn): cold ${ms(cold.account)}, warm median ${ms(median(warm.map((w) => w.account)))}`,
        `load average at the end (1, 5, 15 min): ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${cpus().length} cores`,
        'API calls (warm, 5 each):',
        ...perCall,
      ].join('\n') + '\n',
    );
  } finally {
    await browser.close();
    await server.close();
    await store.close();
    if (!values.keep && !values.dir) rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  process.stderr.write(`dashboard benchmark failed: ${e.message}\n`);
  process.exit(1);
});
