/**
 * The dashboard in a real Chromium (Debian's, driven by playwright-core) over `serve` on a
 * store scanned from simulated traffic, with a real redis-server and a real gateway: what an
 * analyst sees matches report.json, a campaign's graph and timeline are drawn, and a
 * dismissal made with the page's buttons is audited and reaches the gateway. Each page's
 * screenshot is saved under test-output/dashboard/.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import { pino } from 'pino';
import { chromium, type Browser, type Page } from 'playwright-core';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import type { ScanReport } from '../core/report.js';
import { writeSimulation } from '../traffic/simulate.js';
import { startServer, type RunningServer } from './start.js';
import type { TokenHolder } from '../gateway/admin/auth.js';
import { startRedis, startStubUpstream, startTestGateway, testConfig, waitFor, type RedisServer, type StubUpstream } from '../gateway/_test-helpers.js';
import type { RunningGateway } from '../gateway/start.js';

const CHROMIUM = process.env.DISTILLWATCH_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ANALYST: TokenHolder = { name: 'ana', role: 'analyst', token: 'analyst-token-0123456789' };
const SHOTS = resolve('test-output', 'dashboard');
const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'dw-dash-'));
let store: Store;
let report: ScanReport;
let redis: RedisServer;
let stub: StubUpstream;
let server: RunningServer;
let gateway: RunningGateway;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const open = async (hash: string, testId: string) => {
  await page.goto(`${server.url}/${hash}`);
  await page.waitForSelector(`[data-testid=${testId}]`, { timeout: 20_000 });
};

before(async () => {
  // Fails at once, naming the package, rather than timing out on a launch that cannot work.
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install the Debian package chromium (the dashboard tests drive it)`);
  mkdirSync(SHOTS, { recursive: true });
  const traffic = join(dir, 'traffic.jsonl');
  await writeSimulation({ scenario: 'demo', seed: 5, out: traffic, truthOut: join(dir, 'truth.json') });
  const db = join(dir, 'dash.duckdb');
  const scanned = spawnSync(process.execPath, [CLI, 'scan', traffic, '--db', db, '--out', join(dir, 'report.json')], { encoding: 'utf8', timeout: 600_000 });
  assert.equal(scanned.status, 0, scanned.stderr);
  report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as ScanReport;
  assert.ok(report.campaigns.length >= 2, 'the demo has campaigns');
  store = await openDuckDbStore(db);
  redis = await startRedis();
  stub = await startStubUpstream();
  server = await startServer({ store, listen: { host: '127.0.0.1', port: 0 }, holders: [ANALYST], redisUrl: redis.url, logger: pino({ level: 'silent' }) });
  // launch() gives the browser a fresh profile of its own (playwright refuses --user-data-dir here).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
});
after(async () => {
  await browser?.close();
  await gateway?.close();
  await server?.close();
  await store?.close();
  await stub?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard in Chromium', () => {
  it('asks for a token, then takes one from the fragment and keeps it for the tab only', async () => {
    await page.goto(server.url + '/');
    await page.waitForSelector('input[name=token]');
    await shot('token');
    await open(`#token=${ANALYST.token}`, 'overview');
    assert.equal(new URL(page.url()).hash, '#/', 'the token is wiped from the address bar');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('distillwatch.token')), ANALYST.token);
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing kept beyond the tab');
  });

  it('lists the campaigns of report.json on the overview, with its charts', async () => {
    await open('#/', 'campaign-list');
    const rows = await page.$$eval('[data-testid=campaign-list] tbody tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    const expected = [...report.campaigns].sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
    assert.deepEqual(
      rows.map((r) => r.slice(0, 4)),
      expected.map((c) => [c.id, c.confidence.toFixed(2), c.accounts.length.toLocaleString('en-US'), c.exchanges.toLocaleString('en-US')]),
    );
    assert.equal(await page.textContent('[data-testid=queue-length]'), String((await reviewLength())));
    assert.equal(await page.locator('[data-testid=overview-hourly] polyline').count(), 1, 'exchanges over time drawn');
    assert.equal(await page.locator('[data-testid=overview-hourly] .marker').count(), report.campaigns.filter((c) => c.first_flagged_at).length, 'a mark per flagged campaign');
    assert.equal(await page.locator('[data-testid=overview-campaigns] circle').count(), report.campaigns.length);
    await shot('overview');
  });

  it("draws a campaign's graph with its members, and its timeline with the flag times", async () => {
    const c = report.campaigns[0]!;
    await open(`#/campaign/${c.id}`, 'campaign');
    const canvas = page.locator('canvas[data-drawn]');
    await canvas.waitFor({ timeout: 20_000 });
    assert.equal(Number(await canvas.getAttribute('data-accounts')), c.accounts.length, 'every member drawn');
    assert.ok(Number(await canvas.getAttribute('data-drawn')) > c.accounts.length, 'and the indicators they share');
    // Not an empty canvas: count the pixels painted in the members' verdict colours.
    const painted = await page.evaluate(() => {
      const cv = document.querySelector('canvas[data-drawn]') as HTMLCanvasElement;
      const d = cv.getContext('2d')!.getImageData(0, 0, cv.width, cv.height).data;
      let red = 0;
      let any = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i + 3]! > 0) any++;
        if (d[i]! > 180 && d[i + 1]! < 70 && d[i + 2]! < 70 && d[i + 3]! > 200) red++;
      }
      return { red, any };
    });
    assert.ok(painted.red > c.accounts.length * 20, `members drawn in the distillation colour (${painted.red} pixels)`);
    assert.ok(painted.any > painted.red, 'edges and indicators drawn too');
    const timeline = page.locator('[data-testid=timeline]');
    assert.ok((await timeline.locator('rect').count()) > 0, 'activity bars drawn');
    const flags = report.accounts.filter((a) => c.accounts.includes(a.account_id) && a.first_flagged_at).length + (c.first_flagged_at ? 1 : 0);
    assert.equal(await timeline.locator('.marker').count(), flags, 'a mark per flag time');
    assert.equal(await page.locator('[data-testid=members] tbody tr').count(), c.accounts.length);
    assert.equal(await page.textContent('[data-testid=explanation]'), c.explanation);
    await shot('campaign');
  });

  it("downloads the campaign's dossier as HTML and as PDF with the page's buttons", async () => {
    const c = report.campaigns[0]!;
    await open(`#/campaign/${c.id}`, 'dossier');
    const [html] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('[data-testid=dossier] button.dossier-html')]);
    assert.equal(html.suggestedFilename(), `dossier-${c.id}.html`);
    const text = readFileSync((await html.path())!, 'utf8');
    assert.match(text, /^<!doctype html>/i);
    assert.ok(text.includes(c.id), 'the dossier names its campaign');
    const [pdf] = await Promise.all([page.waitForEvent('download', { timeout: 90_000 }), page.click('[data-testid=dossier] button.dossier-pdf')]);
    assert.equal(pdf.suggestedFilename(), `dossier-${c.id}.pdf`);
    assert.equal(readFileSync((await pdf.path())!).subarray(0, 5).toString('latin1'), '%PDF-');
    await page.waitForSelector(`[data-testid=dossier] .status:has-text("Downloaded dossier-${c.id}.pdf")`);
  });

  it('opens an account and an indicator from the campaign', async () => {
    const c = report.campaigns[0]!;
    const member = c.accounts[0]!;
    await page.click(`[data-testid=members] a[href="#/account/${member}"]`);
    await page.waitForSelector('[data-testid=account]');
    await page.locator('canvas[data-drawn]').waitFor();
    const findings = report.accounts.find((a) => a.account_id === member)!.reasons;
    assert.deepEqual(await page.$$eval('[data-testid=findings] li', (lis) => lis.map((l) => l.textContent)), findings);
    await shot('account');
    await open(`#/campaign/${c.id}`, 'indicators');
    await page.click('[data-testid=indicators] a');
    await page.waitForSelector('[data-testid=holders]');
    const holders = await page.$$eval('[data-testid=holders] tbody tr td:first-child', (tds) => tds.map((t) => t.textContent ?? ''));
    assert.ok(holders.some((h) => c.accounts.includes(h)), 'the indicator page lists the members holding it');
    await shot('indicator');
  });

  it('records a dismissal from the review queue, shows it in the audit, and the gateway stops refusing the account', async () => {
    const c = report.campaigns[1]!;
    const member = c.accounts[0]!;
    gateway = await startTestGateway(testConfig(stub.url, { redisUrl: redis.url, replicaId: 'g1', keys: { 'sk-member-0001': member } }));
    const client = new OpenAI({ apiKey: 'sk-member-0001', baseURL: gateway.url + '/v1', maxRetries: 0 });
    const served = () => client.chat.completions.create({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }).then(() => true, () => false);
    // An earlier block, made with the account page's button, has the gateway refusing the account.
    await open(`#/account/${member}`, 'account');
    await page.click('[data-testid=account] .decide button.block');
    await page.waitForSelector('[data-testid=account] .decide .status:has-text("Recorded: block")');
    await waitFor(async () => !(await served()), 'the gateway to refuse the blocked account', 10_000, 50);

    await open('#/queue', 'queue');
    const row = page.locator(`[data-queue-item="${c.id}"]`);
    await row.locator('select[aria-label="dismiss reason"]').selectOption('research_partner');
    await row.locator('input[aria-label=note]').fill('a partner lab, under contract');
    await shot('queue');
    await row.locator('button.dismiss').click();
    await page.locator(`[data-queue-item="${c.id}"]`).waitFor({ state: 'detached', timeout: 10_000 });

    await open('#/audit', 'audit');
    const first = await page.$$eval('[data-testid=audit] tbody tr:first-child td', (tds) => tds.map((t) => t.textContent ?? ''));
    assert.equal(first[1], 'ana');
    assert.equal(first[3], 'decision.dismiss');
    assert.equal(first[4], `campaign ${c.id}`);
    assert.match(first[5]!, /research_partner: a partner lab, under contract/);
    await shot('audit');
    await waitFor(served, 'the gateway to serve the account the dismissal allowed', 10_000, 50);
  });

  it('ran every page without a script error', () => {
    assert.deepEqual(pageErrors, []);
  });
});

async function reviewLength(): Promise<number> {
  const r = await fetch(`${server.url}/api/v1/review-queue`, { headers: { authorization: `Bearer ${ANALYST.token}` } });
  return ((await r.json()) as { total: number }).total;
}
