import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WordHolder } from '../gateway/word-holder.js';
import { Rng } from '../traffic/rng.js';
import { builtInPrompts } from '../traffic/prompts.js';
import { deriveKey, masterKeyFrom, UNATTRIBUTED, type WatermarkKey } from './keys.js';
import { LEXICON, lookupForm } from './lexicon.js';
import { markText, TextMarker } from './mark.js';
import { binomialUpperTail, collectContexts, scoreContexts } from './statistic.js';
import { prove } from './prove.js';
import { sampleAnswer } from './_answers.js';

const master = masterKeyFrom('test master key: 0123456789abcdef0123456789abcdef');
const key = deriveKey(master, UNATTRIBUTED);
const other = deriveKey(master, { kind: 'campaign', campaignId: 'cmp_1' });

const prompts = builtInPrompts();
/** `n` answers to the simulator's built-in chat and instruction prompts. */
function answers(n: number, salt = 0): string[] {
  return Array.from({ length: n }, (_, i) => sampleAnswer(prompts.item(i % 2 ? 'chat' : 'instructions', i + salt).text, 1000 + i + salt));
}

/** A text cut into deltas at random places, as a stream could bring it. */
function randomDeltas(text: string, rng: Rng): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const n = rng.int(1, 12);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Marked as the gateway marks a stream: deltas through the word holder, pieces through one marker. */
function markStreamed(k: WatermarkKey, deltas: string[]): string {
  const holder = new WordHolder();
  const marker = new TextMarker(k);
  let out = '';
  for (const d of deltas) {
    const piece = holder.push(0, d);
    if (piece.length > 0) out += marker.mark(piece);
  }
  const rest = holder.end(0);
  return out + (rest.length > 0 ? marker.mark(rest) : '');
}

test('lexicon pairs are disjoint: each word reads back to one pair', () => {
  assert.ok(LEXICON.length >= 120, `${LEXICON.length} pairs`);
  for (const p of LEXICON) for (const [i, f] of p.forms.entries()) assert.deepEqual(lookupForm(f), { pair: p, index: i });
});

test('marking is deterministic, keyed, and changes only lexicon words, keeping capitals and punctuation', () => {
  const text = 'Colour is often grey.\nUsually, we ANALYZE the behaviour quickly; it is nearly done.';
  const a = markText(key, text);
  assert.equal(a, markText(key, text), 'same key, same text');
  const words = text.split(/(\s+)/);
  const marked = a.split(/(\s+)/);
  assert.equal(marked.length, words.length, 'whitespace kept as it was');
  for (const [i, w] of words.entries()) {
    if (w === marked[i]) continue;
    const core = (s: string) => s.replace(/[^A-Za-z]/g, '');
    assert.equal(w.replace(/[A-Za-z]+/, ''), marked[i]!.replace(/[A-Za-z]+/, ''), 'punctuation kept');
    assert.equal(lookupForm(core(w).toLowerCase())?.pair, lookupForm(core(marked[i]!).toLowerCase())?.pair, `${w} -> ${marked[i]} is within one pair`);
    const c = core(w);
    const m = core(marked[i]!);
    assert.equal(c === c.toUpperCase(), m === m.toUpperCase(), 'capitals kept');
  }
  const many = answers(50).join('\n\n');
  assert.notEqual(markText(key, many), markText(other, many), 'another key chooses other forms');
});

test('a streamed answer is marked as the whole answer is, however its deltas are cut', () => {
  const rng = new Rng(7);
  const texts = [...answers(40), 'x'.repeat(450) + ' often usually ' + 'y'.repeat(230) + '\n    indented often code\nthen often', 'For example,\n\n```\nfor example often\n```\nfor example often'];
  for (const text of texts) {
    const whole = markText(key, text);
    for (let round = 0; round < 5; round++) assert.equal(markStreamed(key, randomDeltas(text, rng)), whole);
  }
});

test('code blocks, inline code, JSON and quotations are left as written', () => {
  const code = '```ts\nconst color = often(usually);\n// analyze the behavior\n```';
  const json = '{"color": "gray", "often": ["usually", "analyze"]}';
  for (const k of [key, other, deriveKey(master, { kind: 'campaign', campaignId: 'cmp_2' })]) {
    assert.equal(markText(k, json), json, 'an answer that is JSON');
    assert.equal(markText(k, `  ${json}\n`), `  ${json}\n`);
    const prose = 'The colour is often grey and we usually analyse it quickly.';
    const text = `${prose}\n\n${code}\n\nInline \`often usually\` and ${json} and "often usually" stay.\n\n    indented often usually code\n`;
    const marked = markText(k, text);
    assert.ok(marked.includes(code), 'fenced code kept');
    assert.ok(marked.includes('`often usually`'), 'inline code kept');
    assert.ok(marked.includes(json), 'JSON inside prose kept');
    assert.ok(marked.includes('"often usually"'), 'quotation kept');
    assert.ok(marked.includes('    indented often usually code\n'), 'indented code kept');
  }
  // The prose around them is marked: some key among a few changes it.
  const prose = 'The colour is often grey and we usually analyse it quickly.';
  assert.ok([1, 2, 3, 4, 5].some((i) => markText(deriveKey(master, { kind: 'campaign', campaignId: `c${i}` }), prose) !== prose));
});

test('"a huge" never becomes "a enormous": pairs whose forms take different articles are left after a or an', () => {
  for (let i = 0; i < 20; i++) {
    const k = deriveKey(master, { kind: 'campaign', campaignId: `a${i}` });
    assert.equal(markText(k, 'It is a huge task and an enormous one.'), 'It is a huge task and an enormous one.');
  }
});

test('the binomial tail is exact at small n and stays finite far out', () => {
  assert.equal(binomialUpperTail(3, 0), 1);
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12 * b, `${a} is not ${b}`);
  close(binomialUpperTail(3, 3), 1 / 8);
  close(binomialUpperTail(4, 2), 11 / 16);
  close(binomialUpperTail(10, 8), 56 / 1024);
  assert.equal(binomialUpperTail(4, 5), 0);
  const far = binomialUpperTail(2000, 1300);
  assert.ok(far > 0 && far < 1e-30, `${far}`);
});

test('prove: 200 watermarked answers give p < 1e-6, 200 unwatermarked ones p > 0.01, with the same key', () => {
  const plain = answers(200);
  const marked = plain.map((t) => markText(key, t));
  const yes = prove(master, marked, []);
  const no = prove(master, answers(200, 5000), []);
  assert.ok(yes.pValue < 1e-6, `watermarked p ${yes.pValue}`);
  assert.ok(yes.scored >= 40, `scored ${yes.scored}`);
  assert.ok(no.pValue > 0.01, `unwatermarked p ${no.pValue}`);
  assert.ok(no.scored >= 40, `scored ${no.scored}`);
});

test('prove names the campaign whose key marked the texts and corrects for the keys tried', () => {
  const campaignKey = deriveKey(master, { kind: 'campaign', campaignId: 'cmp_7' });
  const marked = answers(200).map((t) => markText(campaignKey, t));
  const r = prove(master, marked, ['cmp_3', 'cmp_7', 'cmp_9']);
  assert.equal(r.keys.length, 4);
  assert.equal(r.best.name, 'campaign cmp_7');
  assert.equal(r.correction, 'Bonferroni over 4 keys');
  assert.equal(r.pValue, Math.min(1, r.best.pValue * 4));
  assert.ok(r.pValue < 1e-6);
});

test('repeated text is scored once: copies of one answer add no evidence', () => {
  const one = markText(key, answers(1)[0]!);
  const once = scoreContexts(collectContexts([one]), key);
  const many = scoreContexts(collectContexts(Array.from({ length: 100 }, () => one)), key);
  assert.deepEqual(many, once);
});

test('calibration: over 400 random keys, unwatermarked text tests positive at alpha 0.01 about 1% of the time', () => {
  const table = collectContexts(answers(200, 9000));
  const rng = new Rng(11);
  const ps: number[] = [];
  for (let i = 0; i < 400; i++) ps.push(scoreContexts(table, deriveKey(masterKeyFrom(`random key ${rng.next()} ${i} padding to be long enough`), UNATTRIBUTED)).pValue);
  const share = (a: number) => ps.filter((p) => p <= a).length / ps.length;
  // The binomial test is discrete, so at most alpha; and not far below it (uniform enough).
  assert.ok(share(0.01) <= 0.025, `share below 0.01: ${share(0.01)}`);
  assert.ok(share(0.1) >= 0.05 && share(0.1) <= 0.15, `share below 0.1: ${share(0.1)}`);
  assert.ok(share(0.5) >= 0.4 && share(0.5) <= 0.6, `share below 0.5: ${share(0.5)}`);
});
