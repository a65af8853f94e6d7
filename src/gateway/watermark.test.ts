import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { Rng } from '../traffic/rng.js';
import { deriveKey, masterKeyFrom, UNATTRIBUTED } from '../watermark/keys.js';
import { markText } from '../watermark/mark.js';
import { sampleAnswer } from '../watermark/_answers.js';
import { startTestGateway, testConfig } from './_test-helpers.js';
import { WatermarkKeyError } from './watermark.js';

const SECRET = 'gateway test master key 0123456789abcdef';
const master = masterKeyFrom(SECRET);
const dir = mkdtempSync(join(tmpdir(), 'dw-wm-'));
const keyFile = join(dir, 'watermark.key');
writeFileSync(keyFile, SECRET + '\n');

const CODE_AND_JSON = 'It is often simple:\n\n```js\nconst colour = "often"; // usually analyze\n```\n\nand {"color": "gray", "often": true} stays; so does `usually`.';
const JSON_ANSWER = '{"answer": "often", "color": "gray", "list": ["usually", "analyze the behavior"]}';

/** The answer the stub gives to a prompt: a JSON or code answer when asked, otherwise prose. */
function answerTo(prompt: string): string {
  if (prompt === 'json') return JSON_ANSWER;
  if (prompt === 'code') return CODE_AND_JSON;
  return sampleAnswer(prompt, prompt.length);
}

/** Cuts a text at random places (the model name carries the seed): words and whitespace cut anywhere. */
function deltas(text: string, seed: number): string[] {
  const rng = new Rng(seed);
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = rng.int(1, 9);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

/** A model API that answers the user's text with `answerTo`, streamed in the cuts the model name (`cut-<seed>`) says. */
let upstream: Server;
let upstreamUrl = '';
before(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const prompt = String(body.messages.at(-1).content);
      const text = answerTo(prompt);
      const seed = Number(String(body.model).replace('cut-', '')) || 1;
      const anthropic = req.url?.startsWith('/v1/messages') ?? false;
      if (!body.stream) {
        res.writeHead(200, { 'content-type': 'application/json' });
        if (anthropic) res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: body.model, content: [{ type: 'text', text }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 5, output_tokens: 50 } }));
        else res.end(JSON.stringify({ id: 'c1', object: 'chat.completion', created: 1, model: body.model, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 50, total_tokens: 55 } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (anthropic) {
        const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
        res.write(ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: body.model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 1 } } }));
        res.write(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }));
        for (const d of deltas(text, seed)) res.write(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: d } }));
        res.write(ev('content_block_stop', { index: 0 }));
        res.write(ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 50 } }));
        res.end(ev('message_stop', {}));
      } else {
        const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
        res.write(chunk({ role: 'assistant', content: '' }));
        for (const d of deltas(text, seed)) res.write(chunk({ content: d }));
        res.write(chunk({}, 'stop'));
        res.end('data: [DONE]\n\n');
      }
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
after(async () => {
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

const PROMPTS = ['Explain how a bakery should plan its weekly schedule and budget', 'Compare two approaches to caching data in a web application', 'Write a short story about a garden and a podcast host'];

async function viaOpenAI(url: string, prompt: string, stream: boolean, seed = 1): Promise<string> {
  const c = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: url + '/v1', maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: prompt }];
  if (!stream) return (await c.chat.completions.create({ model: `cut-${seed}`, messages })).choices[0]?.message.content ?? '';
  let text = '';
  for await (const ch of await c.chat.completions.create({ model: `cut-${seed}`, messages, stream: true })) text += ch.choices[0]?.delta?.content ?? '';
  return text;
}

async function viaAnthropic(url: string, prompt: string, stream: boolean, seed = 1): Promise<string> {
  const c = new Anthropic({ apiKey: 'sk-alice-0001', baseURL: url, maxRetries: 0 });
  const messages = [{ role: 'user' as const, content: prompt }];
  if (!stream) {
    const r = await c.messages.create({ model: `cut-${seed}`, max_tokens: 500, messages });
    return r.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
  }
  let text = '';
  for await (const e of await c.messages.create({ model: `cut-${seed}`, max_tokens: 500, messages, stream: true })) if (e.type === 'content_block_delta' && e.delta.type === 'text_delta') text += e.delta.text;
  return text;
}

test('with apply "all", both APIs mark every answer with the key, streamed in any cuts exactly as unstreamed', async () => {
  const gw = await startTestGateway(testConfig(upstreamUrl, { watermark: { keyFile, apply: 'all' } }));
  try {
    const key = deriveKey(master, UNATTRIBUTED);
    let changed = 0;
    for (const prompt of PROMPTS) {
      const expected = markText(key, answerTo(prompt));
      if (expected !== answerTo(prompt)) changed++;
      for (const ask of [viaOpenAI, viaAnthropic]) {
        assert.equal(await ask(gw.url, prompt, false), expected, `${ask.name} unstreamed`);
        for (const seed of [1, 2, 3, 4]) assert.equal(await ask(gw.url, prompt, true, seed), expected, `${ask.name} streamed, cuts ${seed}`);
      }
    }
    assert.ok(changed >= 2, 'the key changed the answers');
  } finally {
    await gw.close();
  }
});

test('code blocks and JSON in answers come through the marking gateway as written', async () => {
  const gw = await startTestGateway(testConfig(upstreamUrl, { watermark: { keyFile, apply: 'all' } }));
  try {
    for (const ask of [viaOpenAI, viaAnthropic]) {
      for (const stream of [false, true]) {
        assert.equal(await ask(gw.url, 'json', stream, 5), JSON_ANSWER, `${ask.name} JSON answer, stream ${stream}`);
        const code = await ask(gw.url, 'code', stream, 6);
        assert.ok(code.includes('```js\nconst colour = "often"; // usually analyze\n```'), `${ask.name} code block, stream ${stream}: ${code}`);
        assert.ok(code.includes('{"color": "gray", "often": true}') && code.includes('`usually`'));
      }
    }
  } finally {
    await gw.close();
  }
});

test('with apply "flagged", an account in good standing is not marked, a flagged campaign member is, with its campaign key', async () => {
  const gw = await startTestGateway(testConfig(upstreamUrl, { watermark: { keyFile, apply: 'flagged' }, policy: { campaignAction: 'flag' } }));
  try {
    const prompt = PROMPTS[0]!;
    assert.equal(await viaOpenAI(gw.url, prompt, true), answerTo(prompt), 'good standing: as the model wrote it');
    await gw.state.setRisk('acct_alice', 0.6, 'cmp_4');
    const campaignKey = deriveKey(master, { kind: 'campaign', campaignId: 'cmp_4' });
    assert.equal(await viaOpenAI(gw.url, prompt, true), markText(campaignKey, answerTo(prompt)));
    assert.equal(await viaAnthropic(gw.url, prompt, false), markText(campaignKey, answerTo(prompt)));
    assert.notEqual(markText(campaignKey, answerTo(prompt)), markText(deriveKey(master, UNATTRIBUTED), answerTo(prompt)), 'the campaign has a key of its own');
  } finally {
    await gw.close();
  }
});

test('a watermark key file that cannot be read stops the start with a one-line error naming it', async () => {
  await assert.rejects(startTestGateway(testConfig(upstreamUrl, { watermark: { keyFile: join(dir, 'missing.key'), apply: 'all' } })), (e: Error) => e instanceof WatermarkKeyError && e.message === `Cannot read the watermark key file "${join(dir, 'missing.key')}": no such file`);
  const short = join(dir, 'short.key');
  writeFileSync(short, 'too short');
  await assert.rejects(startTestGateway(testConfig(upstreamUrl, { watermark: { keyFile: short, apply: 'all' } })), /holds 9 characters, at least 32 are needed/);
});
