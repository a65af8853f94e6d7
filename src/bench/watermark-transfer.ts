/**
 * Watermark benchmark: does the mark transfer to a model trained on marked answers?
 *
 * A campaign's accounts harvest answers through the real gateway (watermark on, applied to
 * flagged campaigns), from a stub model API that answers with prose built around each
 * prompt's words; an account in good standing asks the same prompts and gets them
 * unmarked. Small students (trigram language models) are trained on the harvest, on the
 * unmarked answers, and on mixes with 10% and 1% marked text; their sampled outputs are
 * tested with `prove` (the campaign's key among three, Bonferroni). Also: calibration over
 * many random keys (false positives at alpha 0.01 and 0.05), the cost of marking per
 * token, and the share of words it changes, on the answers and on real human text (the
 * prompt sets' own prose).
 *
 * Prompts come from DISTILLWATCH_DATASETS (a folder of public prompt sets) when set, else
 * from the simulator's built-in generator.
 *
 *   npm run bench:watermark -- [--prompts 1200] [--rounds 5] [--keys 1000]
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { pino } from 'pino';
import { parseConfig } from '../gateway/config.js';
import { startGateway } from '../gateway/start.js';
import { builtInPrompts, loadDatasets, type Prompt, type PromptSource } from '../traffic/prompts.js';
import { Rng } from '../traffic/rng.js';
import { deriveKey, masterKeyFrom, UNATTRIBUTED } from '../watermark/keys.js';
import { TextMarker } from '../watermark/mark.js';
import { prove } from '../watermark/prove.js';
import { collectContexts, scoreContexts } from '../watermark/statistic.js';
import { sampleAnswer } from '../watermark/_answers.js';
import { TrigramModel } from './ngram.js';
import { numberArg } from './numeric-arg.js';

const N_PROMPTS = numberArg('prompts', 1200);
const ROUNDS = numberArg('rounds', 5);
const N_KEYS = numberArg('keys', 1000);
const SUSPECT_SIZES = [50, 200, 1000];
const SHARES = [1, 0.1, 0.01, 0];
const OUTPUT_TOKENS = 120;
const CAMPAIGN = 'cmp_1';
const CAMPAIGNS_TRIED = ['cmp_1', 'cmp_2', 'cmp_3'];

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

async function prompts(): Promise<{ source: PromptSource; from: string }> {
  const dir = process.env['DISTILLWATCH_DATASETS'];
  if (dir && existsSync(dir)) return { source: await loadDatasets(dir), from: `prompt sets in DISTILLWATCH_DATASETS` };
  return { source: builtInPrompts(), from: 'the simulator\'s built-in prompts (set DISTILLWATCH_DATASETS for public prompt sets)' };
}

/** How the teacher answers a prompt. */
type Teacher = (prompt: string) => string;

/** The teacher as a model API: both dialects, streamed by words when asked. */
async function startTeacher(answer: Teacher): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const prompt = String(body.messages.at(-1).content);
      const text = answer(prompt);
      const anthropic = req.url?.startsWith('/v1/messages') ?? false;
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (anthropic) res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 10, output_tokens: 100 } }));
        else res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 10, completion_tokens: 100, total_tokens: 110 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const pieces = text.match(/\S+\s*/g) ?? [];
      if (anthropic) {
        const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
        res.write(ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 10, output_tokens: 1 } } }));
        res.write(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
        for (const p of pieces) res.write(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } }));
        res.write(ev('content_block_stop', { index: 0 }));
        res.write(ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 100 } }));
        res.end(ev('message_stop', {}));
      } else {
        const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        for (const p of pieces) res.write(chunk({ content: p }));
        res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
      }
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Asks every prompt through the gateway with one API key: both SDKs, streamed and not, a few at a time. */
async function harvest(gatewayUrl: string, apiKey: string, items: Prompt[]): Promise<string[]> {
  const openai = new OpenAI({ apiKey, baseURL: gatewayUrl + '/v1', maxRetries: 2 });
  const anthropic = new Anthropic({ apiKey, baseURL: gatewayUrl, maxRetries: 2 });
  const out: string[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      const messages = [{ role: 'user' as const, content: items[i]!.text }];
      const stream = i % 2 === 1;
      if (i % 4 < 2) {
        if (!stream) out[i] = (await openai.chat.completions.create({ model: 'teacher', messages })).choices[0]?.message.content ?? '';
        else {
          let t = '';
          for await (const ch of await openai.chat.completions.create({ model: 'teacher', messages, stream: true })) t += ch.choices[0]?.delta?.content ?? '';
          out[i] = t;
        }
      } else if (!stream) {
        const r = await anthropic.messages.create({ model: 'teacher', max_tokens: 1024, messages });
        out[i] = r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
      } else {
        let t = '';
        for await (const e of await anthropic.messages.create({ model: 'teacher', max_tokens: 1024, messages, stream: true })) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') t += e.delta.text;
        out[i] = t;
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return out;
}

function fmtP(p: number): string {
  return p >= 0.001 ? p.toFixed(3) : p === 0 ? '<1e-300' : p.toExponential(0);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function main(): Promise<void> {
  const started = Date.now();
  const { source, from } = await prompts();
  const out: string[] = [`Watermark transfer benchmark: ${N_PROMPTS} prompts from ${from}`, ''];
  const templated: Teacher = (prompt) => sampleAnswer(prompt, hash(prompt));
  out.push('== Teacher writing explanatory prose around the prompt\'s words (lexicon-rich, as model answers are) ==');
  out.push(...(await transfer(source, templated)));
  // Real human prose as the answers: the lexicon's words are as rare as people make them.
  const prose = Array.from({ length: source.size('chat') }, (_, i) => source.item('chat', i).text).filter((t) => (t.match(/\S+/g) ?? []).length >= 60);
  if (source.kind === 'datasets' && prose.length >= 100) {
    out.push('', `== Teacher answering with human prose (${prose.length} chat prompts of 60 words or more, one per prompt by hash) ==`);
    out.push(...(await transfer(source, (prompt) => prose[hash(prompt) % prose.length]!)));
  } else {
    out.push('', '(no human-prose teacher: it needs the public prompt sets, DISTILLWATCH_DATASETS)');
  }
  out.push('', `done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(out.join('\n') + '\n');
}

async function transfer(source: PromptSource, answer: Teacher): Promise<string[]> {
  const rng = new Rng(2026);
  const items: Prompt[] = Array.from({ length: N_PROMPTS }, (_, i) => source.item((['chat', 'instructions', 'coding', 'math'] as const)[i % 4]!, Math.floor(i / 4) * 7 + rng.int(0, 6)));
  const dir = mkdtempSync(join(tmpdir(), 'dw-bench-wm-'));
  const secret = 'bench master key ' + 'x'.repeat(32);
  const keyFile = join(dir, 'watermark.key');
  writeFileSync(keyFile, secret);
  const master = masterKeyFrom(secret);
  const campaignKey = deriveKey(master, { kind: 'campaign', campaignId: CAMPAIGN });

  const teacher = await startTeacher(answer);
  const keys: Record<string, string> = { 'sk-honest': 'acct_honest' };
  for (let i = 0; i < 4; i++) keys[`sk-harvest-${i}`] = `acct_harvest_${i}`;
  const config = parseConfig({ upstream: teacher.url, listen: { host: '127.0.0.1', port: 0 }, adminListen: { host: '127.0.0.1', port: 0 }, keys, spoolDir: join(dir, 'spool'), watermark: { keyFile, apply: 'flagged' }, policy: { campaignAction: 'flag' } });
  if (!config.ok) throw new Error(config.error);
  const gw = await startGateway({ config: config.config, adminToken: 'bench', logger: pino({ level: 'silent' }), store: null });
  let marked: string[];
  let plain: string[];
  try {
    // The campaign, as the engine would have flagged it: its accounts' answers are marked with its key.
    for (let i = 0; i < 4; i++) await gw.state.setRisk(`acct_harvest_${i}`, 0.6, CAMPAIGN);
    const quarter = Math.ceil(items.length / 4);
    const parts = await Promise.all([0, 1, 2, 3].map((i) => harvest(gw.url, `sk-harvest-${i}`, items.slice(i * quarter, (i + 1) * quarter))));
    marked = parts.flat();
    plain = await harvest(gw.url, 'sk-honest', items);
  } finally {
    await gw.close();
    await teacher.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const teacherText = items.map((p) => answer(p.text));
  const wrongPlain = plain.filter((t, i) => t !== teacherText[i]).length;
  const markedOk = marked.filter((t, i) => t === new TextMarker(campaignKey).mark(teacherText[i]!)).length;

  // Cost and change: marking the answers, and real human prose (the longer chat prompts).
  const words = (t: string) => (t.match(/\S+/g) ?? []).length;
  const costOf = (texts: string[]) => {
    let changed = 0;
    let total = 0;
    for (let r = 0; r < 2; r++) for (const t of texts) new TextMarker(campaignKey).mark(t); // warm-up
    const t0 = process.hrtime.bigint();
    for (const t of texts) {
      const m = new TextMarker(campaignKey);
      m.mark(t);
      changed += m.changed;
      total += words(t);
    }
    const ns = Number(process.hrtime.bigint() - t0);
    const lexicon = collectContexts(texts).occurrences;
    return { nsPerWord: ns / total, changedShare: changed / total, lexiconShare: lexicon / total, words: total };
  };
  const human = Array.from({ length: Math.min(source.size('chat'), 2000) }, (_, i) => source.item('chat', i).text).filter((t) => words(t) >= 20);
  const onAnswers = costOf(teacherText);
  const onHuman = costOf(human);
  // Changes on human prose, for a reader to judge whether meaning is kept.
  const examples: string[] = [];
  for (const t of human) {
    const before = t.split(/(\s+)/);
    const after = new TextMarker(campaignKey).mark(t).split(/(\s+)/);
    for (let i = 0; i < before.length && examples.length < 8; i++) {
      if (before[i] === after[i]) continue;
      const around = (ws: string[]) => ws.slice(Math.max(0, i - 6), i + 7).join('').replace(/\s+/g, ' ');
      examples.push(`    "${around(before)}" -> "${around(after)}"`);
      i += 40;
    }
    if (examples.length >= 8) break;
  }

  // Students and their suspects.
  const rows: string[] = [];
  const power: Record<string, { detected: number; p: number[]; scored: number[] }> = {};
  let plainOutputs: string[] = [];
  let markedOutputs: string[] = [];
  for (const share of SHARES) {
    const k = Math.round(share * items.length);
    const corpus = [...marked.slice(0, k), ...plain.slice(k)];
    const student = new TrigramModel().train(corpus);
    for (const m of SUSPECT_SIZES) {
      const cell: { detected: number; p: number[]; scored: number[] } = { detected: 0, p: [], scored: [] };
      power[`${share}:${m}`] = cell;
      for (let round = 0; round < ROUNDS; round++) {
        const r = new Rng(1000 * round + m + Math.round(share * 100));
        const outputs = Array.from({ length: m }, () => student.sample(r, OUTPUT_TOKENS));
        if (share === 0 && m === 1000 && round === 0) plainOutputs = outputs;
        if (share === 1 && m === 1000 && round === 0) markedOutputs = outputs;
        const res = prove(master, outputs, CAMPAIGNS_TRIED);
        cell.p.push(res.pValue);
        cell.scored.push(res.scored);
        if (res.pValue < 0.01 && res.best.name === `campaign ${CAMPAIGN}`) cell.detected++;
      }
    }
  }

  // Calibration: random keys against a student that never saw them.
  const calib = (outputs: string[]) => {
    const table = collectContexts(outputs);
    const r = new Rng(77);
    const ps: number[] = [];
    for (let i = 0; i < N_KEYS; i++) ps.push(scoreContexts(table, deriveKey(masterKeyFrom(`random key ${i} ${r.next()} ${'y'.repeat(32)}`), UNATTRIBUTED)).pValue);
    const at = (a: number) => ps.filter((p) => p <= a).length / ps.length;
    return { a01: at(0.01), a05: at(0.05), a50: at(0.5), scored: scoreContexts(table, campaignKey).scored };
  };
  const calPlain = calib(plainOutputs);
  const calMarked = calib(markedOutputs);

  const pct = (x: number) => (100 * x).toFixed(x < 0.01 ? 2 : 1) + '%';
  rows.push(`harvest through the gateway (OpenAI and Anthropic SDKs, streamed and not): ${markedOk}/${marked.length} answers marked exactly as the campaign key marks the teacher's text; the good-standing account's ${plain.length} answers unmarked (${wrongPlain} differ from the teacher's)`);
  rows.push('');
  rows.push('Cost and change of marking (one core):');
  rows.push(`  teacher answers     ${onAnswers.words} words: ${onAnswers.nsPerWord.toFixed(0)} ns per word, lexicon words ${pct(onAnswers.lexiconShare)} of words, words changed ${pct(onAnswers.changedShare)}`);
  if (human.length > 0) rows.push(`  human prose (chat prompts of 20 words or more, ${human.length} texts) ${onHuman.words} words: ${onHuman.nsPerWord.toFixed(0)} ns per word, lexicon words ${pct(onHuman.lexiconShare)}, words changed ${pct(onHuman.changedShare)}`);
  else rows.push('  human prose: none (the built-in prompts are short; set DISTILLWATCH_DATASETS)');
  if (examples.length > 0) rows.push('  changes in human prose, for meaning:', ...examples);
  rows.push('');
  rows.push(`Detection (p < 0.01 and the campaign's key named, Bonferroni over ${CAMPAIGNS_TRIED.length + 1} keys), ${ROUNDS} rounds of ${OUTPUT_TOKENS}-token outputs each; median p and median contexts scored:`);
  rows.push(`  ${'marked share of training text'.padEnd(30)}${SUSPECT_SIZES.map((m) => `${m} outputs`.padEnd(30)).join('')}`);
  for (const share of SHARES) {
    const label = share === 0 ? '0% (student on unmarked answers)' : pct(share);
    rows.push(`  ${label.padEnd(30)}${SUSPECT_SIZES.map((m) => {
      const c = power[`${share}:${m}`]!;
      return `${c.detected}/${ROUNDS}  p ${fmtP(median(c.p))}  n ${median(c.scored)}`.padEnd(30);
    }).join('')}`);
  }
  rows.push('');
  rows.push(`Calibration over ${N_KEYS} random keys (a key the student never saw is the null):`);
  rows.push(`  student on unmarked answers, 1000 outputs (${calPlain.scored} contexts): p <= 0.01 for ${pct(calPlain.a01)}, p <= 0.05 for ${pct(calPlain.a05)}, p <= 0.5 for ${pct(calPlain.a50)}`);
  rows.push(`  student on marked answers, 1000 outputs, other keys (${calMarked.scored} contexts): p <= 0.01 for ${pct(calMarked.a01)}, p <= 0.05 for ${pct(calMarked.a05)}, p <= 0.5 for ${pct(calMarked.a50)}`);
  return rows;
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:watermark failed: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
