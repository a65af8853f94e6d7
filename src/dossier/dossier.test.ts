import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { pino } from 'pino';
import { openDuckDbStore } from '../store/duckdb/store.js';
import type { Store } from '../store/store.js';
import type { CampaignReport, ScanReport } from '../core/report.js';
import { scan } from '../pipeline/scan.js';
import { writeSimulation } from '../traffic/simulate.js';
import { startServer, type RunningServer } from '../server/start.js';
import type { TokenHolder } from '../gateway/admin/auth.js';
import { runCli } from '../cli/_test-cli.js';
import { MASKED_PREVIEW_CHARS, redactPreview } from './redact.js';
import { utc } from './html.js';
import { chromiumPath } from './pdf.js';
import { graphSvg } from './graph-chart.js';

const HOLDERS: TokenHolder[] = [
  { name: 'vera', role: 'viewer', token: 'viewer-token-0123456789' },
  { name: 'ana', role: 'analyst', token: 'analyst-token-0123456789' },
];
const auth = (name: 'vera' | 'ana') => ({ authorization: `Bearer ${HOLDERS.find((h) => h.name === name)!.token}` });

const dir = mkdtempSync(join(tmpdir(), 'dw-dossier-'));
const db = join(dir, 'demo.duckdb');
const traffic = join(dir, 'traffic.jsonl');
let report: ScanReport;
let campaign: CampaignReport;
/** The full text of the last prompt of every exchange of the campaign's members, as the traffic carried it. */
let memberPrompts: string[];

function needProgram(program: string, debian: string): void {
  // Fails at once, naming the package, rather than skipping: the dossier's PDF is a deliverable.
  const found = spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
  assert.ok(found, `${program} not found: install the Debian package ${debian}`);
}

/** `data-figure` values of the HTML, by key. */
function figures(html: string): Record<string, string> {
  return Object.fromEntries([...html.matchAll(/data-figure="([\w-]+)">([^<]*)</g)].map((m) => [m[1]!, m[2]!]));
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

before(async () => {
  await writeSimulation({ scenario: 'demo', seed: 3, out: traffic, truthOut: join(dir, 'truth.json') });
  const store = await openDuckDbStore(db);
  try {
    report = (await scan({ inputs: [traffic], store, featureWorkers: 0 })).report!;
  } finally {
    await store.close();
  }
  campaign = [...report.campaigns].sort((a, b) => b.accounts.length - a.accounts.length)[0]!;
  assert.ok(campaign, 'the demo has a campaign');
  writeFileSync(join(dir, 'report.json'), JSON.stringify(report));
  const members = new Set(campaign.accounts);
  memberPrompts = readFileSync(traffic, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { account_id: string; request: { messages: { role: string; content: unknown }[] } })
    .filter((x) => members.has(x.account_id))
    // The store keeps a preview of each exchange's last user message.
    .map((x) => x.request.messages.filter((m) => m.role === 'user').at(-1)?.content)
    .filter((c): c is string => typeof c === 'string');
  assert.ok(memberPrompts.length > 0);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the dossier through the API', () => {
  let store: Store;
  let server: RunningServer;
  before(async () => {
    store = await openDuckDbStore(db);
    server = await startServer({ store, listen: { host: '127.0.0.1', port: 0 }, holders: HOLDERS, logger: pino({ level: 'silent' }) });
  });
  after(async () => {
    await server?.close();
    await store?.close();
  });

  it('serves the HTML and the PDF to a viewer, states the decision made through the API with its time, and answers 401, 404 and 400', async () => {
    const made = await request(`${server.url}/api/v1/decisions`, {
      method: 'POST',
      headers: { ...auth('ana'), 'content-type': 'application/json' },
      body: JSON.stringify({ target: { kind: 'campaign', id: campaign.id }, kind: 'confirm', note: 'reviewed the shared harness' }),
    });
    const decision = ((await made.body.json()) as { decision: { at: string } }).decision;
    assert.equal(made.statusCode, 200);

    const html = await request(`${server.url}/api/v1/campaigns/${campaign.id}/dossier`, { headers: auth('vera') });
    assert.equal(html.statusCode, 200);
    assert.match(String(html.headers['content-type']), /^text\/html/);
    const body = await html.body.text();
    assert.equal(figures(body)['exchanges'], campaign.exchanges.toLocaleString('en-US'));
    const decisions = body.slice(body.indexOf('id="decisions"'));
    assert.ok(decisions.includes(utc(decision.at)) && decisions.includes('confirm') && decisions.includes('ana') && decisions.includes('reviewed the shared harness'), 'the decision, who made it and when');

    needProgram(chromiumPath(), 'chromium');
    const pdf = await request(`${server.url}/api/v1/campaigns/${campaign.id}/dossier?format=pdf&redact=omit`, { headers: auth('vera') });
    assert.equal(pdf.statusCode, 200);
    assert.equal(pdf.headers['content-type'], 'application/pdf');
    assert.equal(Buffer.from(await pdf.body.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');

    const none = await request(`${server.url}/api/v1/campaigns/${campaign.id}/dossier`);
    await none.body.dump();
    assert.equal(none.statusCode, 401);
    const unknown = await request(`${server.url}/api/v1/campaigns/cmp_none/dossier`, { headers: auth('vera') });
    assert.equal(unknown.statusCode, 404);
    assert.match(((await unknown.body.json()) as { error: { message: string } }).error.message, /cmp_none/);
    const bad = await request(`${server.url}/api/v1/campaigns/${campaign.id}/dossier?format=docx`, { headers: auth('vera') });
    assert.equal(bad.statusCode, 400);
    assert.match(((await bad.body.json()) as { error: { message: string } }).error.message, /"format"/);
  });
});

describe('distillwatch dossier', () => {
  it('writes a self-contained HTML dossier whose figures match report.json, with masked previews only', async () => {
    const out = join(dir, 'dossier.html');
    const run = runCli(['dossier', campaign.id, '--db', db, '--out', out]);
    assert.equal(await run.exited, 0, run.output());
    const html = readFileSync(out, 'utf8');
    const f = figures(html);
    assert.equal(f['accounts'], campaign.accounts.length.toLocaleString('en-US'));
    assert.equal(f['exchanges'], campaign.exchanges.toLocaleString('en-US'));
    assert.equal(f['first-seen'], utc(campaign.first_seen));
    assert.equal(f['last-seen'], utc(campaign.last_seen));
    assert.equal(f['confidence'], campaign.confidence.toFixed(3));
    const caps = new Set([...html.matchAll(/data-capability="(\w+)"/g)].map((m) => m[1]));
    assert.deepEqual(caps, new Set(Object.keys(campaign.capabilities)));
    // Self-contained: nothing fetched (the SVG namespace is a name, not a request).
    assert.doesNotMatch(html, /\b(?:src|href)\s*=|url\(|@import|<script|<link/i);
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
    // Drawn: the timeline's bars and the graph's members and indicators.
    assert.ok((html.match(/<circle [^>]*class="member"/g) ?? []).length === campaign.accounts.length, 'every member in the graph');
    assert.ok((html.match(/class="indicator"/g) ?? []).length > 0, 'indicators in the graph');
    assert.ok(/class="chart timeline"[\s\S]*?<rect /.test(html), 'bars in the timeline');
    assert.match(html, /exchanges per hour/);
    assert.match(html, /time \(UTC\)/);

    const previews = [...html.matchAll(/<span class="preview">([^<]*)<\/span>/g)].map((m) => unescape(m[1]!));
    assert.ok(previews.length > 0, 'sample exchanges show their masked previews');
    // Each preview is the masked form of what the store keeps (its first 200 characters)...
    const masked = new Set(memberPrompts.map((p) => redactPreview(p.slice(0, 200), 'mask')));
    for (const p of previews) {
      assert.ok(p.length <= MASKED_PREVIEW_CHARS + 1, `a preview of ${p.length} characters`);
      assert.ok(masked.has(p), `"${p}" is a masked preview of a member's prompt`);
    }
    // ...and no prompt text appears anywhere else in the document.
    const rest = squash(unescape(html.replace(/<span class="preview">[^<]*<\/span>/g, '')));
    for (const p of new Set(memberPrompts.map(squash).filter((p) => p.length >= 30))) assert.ok(!rest.includes(p.slice(0, 30)), `prompt text "${p.slice(0, 30)}" outside the previews`);
  });

  it('omits every prompt with --redact omit', async () => {
    const out = join(dir, 'omit.html');
    const run = runCli(['dossier', campaign.id, '--db', db, '--out', out, '--redact', 'omit']);
    assert.equal(await run.exited, 0, run.output());
    const text = squash(unescape(readFileSync(out, 'utf8')));
    assert.doesNotMatch(text, /class="preview"/);
    const distinct = [...new Set(memberPrompts.map(squash).filter((p) => p.length >= 30))];
    assert.ok(distinct.length > 0);
    for (const p of distinct) assert.ok(!text.includes(p.slice(0, 30)), `prompt text "${p.slice(0, 30)}" in an omitted dossier`);
  });

  it('prints the dossier to PDF, whose text states the figures of report.json', async () => {
    needProgram(chromiumPath(), 'chromium');
    needProgram('pdftotext', 'poppler-utils');
    const out = join(dir, 'dossier.pdf');
    const run = runCli(['dossier', campaign.id, '--db', db, '--out', out]);
    assert.equal(await run.exited, 0, run.output());
    assert.equal(readFileSync(out).subarray(0, 5).toString(), '%PDF-');
    const t = spawnSync('pdftotext', [out, '-'], { encoding: 'utf8' });
    assert.equal(t.status, 0, t.stderr);
    const text = squash(t.stdout);
    assert.ok(text.includes(`${campaign.accounts.length.toLocaleString('en-US')} accounts made ${campaign.exchanges.toLocaleString('en-US')} exchanges between ${utc(campaign.first_seen)} and ${utc(campaign.last_seen)}`), text.slice(0, 600));
    for (const cap of Object.keys(campaign.capabilities)) assert.ok(text.includes(cap.replaceAll('_', ' ')), cap);
    assert.ok(text.includes(`Distillation campaign ${campaign.id}: evidence dossier`));
  });

  it('refuses an unknown campaign, an unknown store and an unknown format in one line with exit code 2, writing nothing', async () => {
    const out = join(dir, 'none.html');
    const cases: [string[], RegExp][] = [
      [['dossier', 'cmp_none', '--db', db, '--out', out], /^distillwatch: No campaign "cmp_none" in the latest scan of the store ".*demo\.duckdb" \(campaigns: .+\)\n$/],
      [['dossier', campaign.id, '--db', join(dir, 'missing.duckdb'), '--out', out], /^distillwatch: Cannot open the store ".*missing\.duckdb": no such file\n$/],
      [['dossier', campaign.id, '--db', db, '--out', join(dir, 'x.docx')], /^distillwatch: Cannot tell the format of --out ".*x\.docx": name it \.html or \.pdf\n$/],
      [['dossier', campaign.id, '--db', db, '--out', out, '--redact', 'some'], /^distillwatch: --redact: "some" is not one of mask, omit, none\n$/],
      [['dossier', campaign.id, '--db', db, '--out', join(dir, 'none.pdf')], /^distillwatch: Cannot make a PDF: no Chromium at "\/nonexistent\/chromium" \(install the Debian package chromium, or set DISTILLWATCH_CHROMIUM\)\n$/],
    ];
    for (const [args, line] of cases) {
      const run = runCli(args, { env: { DISTILLWATCH_CHROMIUM: '/nonexistent/chromium' } });
      assert.equal(await run.exited, 2, run.output());
      assert.match(run.output(), line);
    }
    assert.throws(() => readFileSync(out), /ENOENT/);
    assert.throws(() => readFileSync(join(dir, 'none.pdf')), /ENOENT/);
    assert.throws(() => readFileSync(join(dir, 'none.pdf.partial')), /ENOENT/);
  });
});

describe('redactPreview', () => {
  it('masks addresses, links, keys and long numbers and shortens the preview when masking', () => {
    const p = 'Mail bob@example.com, see https://x.example/a?b=1 from 10.1.2.3 with sk-abcdef0123456789XYZ, call +1 415 555 0100. ' + 'x'.repeat(200);
    const m = redactPreview(p, 'mask')!;
    assert.equal(m.slice(0, 90), 'Mail [email], see [url] from [ip] with [secret], call [number]. ' + 'x'.repeat(26));
    assert.equal(m.length, MASKED_PREVIEW_CHARS + 1);
    assert.ok(m.endsWith('…'));
    assert.equal(redactPreview(p, 'omit'), null);
    assert.equal(redactPreview(p, 'none'), p);
    assert.equal(redactPreview(null, 'none'), null);
  });
});

describe('graphSvg', () => {
  it('draws the same picture whatever order the members and their holdings come in', () => {
    const members = Array.from({ length: 30 }, (_, k) => ({ account_id: `acct_${String(k).padStart(2, '0')}`, verdict: k % 3 === 0 ? ('suspicious' as const) : ('distillation' as const) }));
    const indicators = [
      { kind: 'harness', value: 'h1', members: members.slice(0, 20).map((m) => m.account_id), outsiders: 0 },
      { kind: 'ip', value: '203.0.113.7', members: members.slice(10).map((m) => m.account_id), outsiders: 2 },
    ];
    const a = graphSvg(members, indicators);
    const b = graphSvg([...members].reverse(), indicators.map((i) => ({ ...i, members: [...i.members].reverse() })));
    assert.equal(a, b);
    assert.equal((a.match(/class="member"/g) ?? []).length, 30);
    assert.equal((a.match(/class="indicator"/g) ?? []).length, 2);
    assert.equal((a.match(/<line /g) ?? []).length, 40, 'an edge per holding');
    assert.doesNotMatch(a, /NaN/);
  });
});
