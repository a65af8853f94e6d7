import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInPrompts } from '../traffic/prompts.js';
import { deriveKey, masterKeyFrom, UNATTRIBUTED } from '../watermark/keys.js';
import { markText } from '../watermark/mark.js';
import { sampleAnswer } from '../watermark/_answers.js';
import { runCli } from './_test-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-prove-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'prove command test master key 0123456789';
const keyFile = join(dir, 'wm.key');
writeFileSync(keyFile, SECRET);
const master = masterKeyFrom(SECRET);
const prompts = builtInPrompts();
const answers = (n: number, salt: number) => Array.from({ length: n }, (_, i) => sampleAnswer(prompts.item('chat', i + salt).text, salt + i));

function jsonl(name: string, texts: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, texts.map((text) => JSON.stringify({ text })).join('\n') + '\n');
  return p;
}

async function run(args: string[]): Promise<{ code: number | null; out: string }> {
  const c = runCli(args);
  const code = await c.exited;
  return { code, out: c.output() };
}

test('prove --json: p < 1e-6 on 200 watermarked answers, p > 0.01 on 200 unwatermarked ones, same key', async () => {
  const key = deriveKey(master, UNATTRIBUTED);
  const marked = jsonl('marked.jsonl', answers(200, 0).map((t) => markText(key, t)));
  const plain = jsonl('plain.jsonl', answers(200, 777));
  const yes = await run(['prove', '--key-file', keyFile, '--texts', marked, '--json']);
  assert.equal(yes.code, 0, yes.out);
  const y = JSON.parse(yes.out);
  assert.ok(y.p_value < 1e-6, yes.out);
  assert.ok(y.scored >= 40, yes.out);
  assert.equal(y.correction, 'none (one key tried)');
  const no = await run(['prove', '--key-file', keyFile, '--texts', plain, '--json']);
  assert.equal(no.code, 0, no.out);
  const n = JSON.parse(no.out);
  assert.ok(n.p_value > 0.01, no.out);
  assert.ok(n.scored >= 40, no.out);
});

test('prove tries each campaign key, names the one that marked the texts and says its correction', async () => {
  const key = deriveKey(master, { kind: 'campaign', campaignId: 'cmp_2' });
  const marked = jsonl('cmp2.jsonl', answers(200, 50).map((t) => markText(key, t)));
  const r = await run(['prove', '--key-file', keyFile, '--texts', marked, '--campaigns', 'cmp_1,cmp_2,cmp_3']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Bonferroni over 4 keys\), smallest for the campaign cmp_2 key/);
  assert.match(r.out, /^campaign cmp_2 +\d+ +\d+ +\d\.\de-\d+$/m);
});

test('prove with bad input says what and where in one line and exits 2', async () => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"text": "fine"}\n{"text": 3}\n');
  const r = await run(['prove', '--key-file', keyFile, '--texts', bad]);
  assert.equal(r.code, 2);
  assert.equal(r.out, `distillwatch: Cannot read line 2 of "${bad}": "text" is missing or not a string\n`);
  const short = join(dir, 'short.key');
  writeFileSync(short, 'abc');
  const k = await run(['prove', '--key-file', short, '--texts', bad]);
  assert.equal(k.code, 2);
  assert.equal(k.out, `distillwatch: Cannot use the watermark key file "${short}": it holds 3 characters, at least 32 are needed\n`);
  const none = await run(['prove', '--key-file', keyFile]);
  assert.equal(none.code, 2);
  assert.match(none.out, /^distillwatch: prove needs --texts/);
});

test('prove --probes proposes prompts from the flagged campaign\'s prompt families in the store', async () => {
  const traffic = join(dir, 't.jsonl.gz');
  const db = join(dir, 's.duckdb');
  const sim = await run(['simulate', '--scenario', 'sweep', '--scale', '0.2', '--out', traffic, '--truth', join(dir, 'truth.json')]);
  assert.equal(sim.code, 0, sim.out);
  const scan = await run(['scan', traffic, '--db', db, '--no-progress', '--no-summary', '-o', join(dir, 'r.json')]);
  assert.equal(scan.code, 0, scan.out);
  const r = await run(['prove', '--probes', '--db', db, '--per-family', '2', '--families', '4']);
  assert.equal(r.code, 0, r.out);
  const probes = r.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(probes.length >= 4 && probes.length <= 8, r.out);
  for (const p of probes) {
    assert.equal(typeof p.prompt, 'string');
    assert.ok(p.prompt.length > 0);
    assert.match(p.campaign, /^cmp_\d+$/);
  }
  assert.ok(new Set(probes.map((p) => p.family)).size >= 2, 'several families');
  const unknown = await run(['prove', '--probes', '--db', db, '--campaigns', 'cmp_99']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.out, /no campaign "cmp_99"/);
});
