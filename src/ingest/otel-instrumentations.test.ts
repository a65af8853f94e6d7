/**
 * The OpenTelemetry adapter against what real GenAI instrumentations emit. Each
 * instrumentation runs in a child process (this file, started with DW_OTEL_APP set): an
 * application with a server span that carries the end user, client address and user agent
 * makes 20 calls for 4 end users through the official SDK to a local stub of the model API;
 * its spans and log records are written with the OTLP JSON serializer in four shapes, which
 * are then read back. A release of an instrumentation that moves its attributes fails here.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { readExchanges } from './read.js';

const INSTRUMENTATIONS = ['otel-contrib-openai', 'traceloop-openai', 'traceloop-anthropic', 'openinference-openai'] as const;
type Instrumentation = (typeof INSTRUMENTATIONS)[number];
const SHAPES = ['per-span-lines', 'one-document', 'collector-file', 'otlp-http-bodies'] as const;
const USERS = ['acct_a', 'acct_b', 'acct_c', 'acct_d'];
const CALLS = 20;

const ipOf = (user: string): string => `203.0.113.${USERS.indexOf(user) + 10}`;
const uaOf = (user: string): string => `shop-app/1.0 (${user})`;
const promptOf = (i: number): string => `Question number ${i}`;
const answerOf = (prompt: string): string => `Answer to ${prompt}`;

/** A stub of the OpenAI and Anthropic APIs, answering in their shapes. */
function stubModelApi(req: IncomingMessage, res: ServerResponse): void {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => {
    const r = JSON.parse(body) as { model: string; messages: Array<{ content: string }> };
    const prompt = r.messages[r.messages.length - 1]!.content;
    res.setHeader('content-type', 'application/json');
    if (req.url?.includes('/messages')) {
      res.end(JSON.stringify({ id: 'msg_1', type: 'message', role: 'assistant', model: r.model, content: [{ type: 'text', text: answerOf(prompt) }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 11, output_tokens: 7 } }));
    } else {
      res.end(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1776845703, model: r.model, choices: [{ index: 0, message: { role: 'assistant', content: answerOf(prompt) }, finish_reason: 'stop' }], usage: { prompt_tokens: 11, completion_tokens: 7, total_tokens: 18 } }));
    }
  });
}

/* eslint-disable @typescript-eslint/no-explicit-any -- the instrumentations are loaded with require, untyped */
async function runApp(which: Instrumentation, dir: string): Promise<void> {
  const require = createRequire(import.meta.url);
  const api = require('@opentelemetry/api');
  const { NodeTracerProvider } = require('@opentelemetry/sdk-trace-node');
  const { InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
  const { LoggerProvider, SimpleLogRecordProcessor, InMemoryLogRecordExporter } = require('@opentelemetry/sdk-logs');
  const { MeterProvider } = require('@opentelemetry/sdk-metrics');
  const { JsonTraceSerializer, JsonLogsSerializer } = require('@opentelemetry/otlp-transformer');
  const spans = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  provider.register();
  const logExporter = new InMemoryLogRecordExporter();
  const loggerProvider = new LoggerProvider({ processors: [new SimpleLogRecordProcessor({ exporter: logExporter })] });
  api.logs.setGlobalLoggerProvider(loggerProvider);
  // instrumentation-openai crashes on streams without a MeterProvider.
  api.metrics.setGlobalMeterProvider(new MeterProvider());

  let inst: any;
  if (which === 'otel-contrib-openai') inst = new (require('@opentelemetry/instrumentation-openai').OpenAIInstrumentation)({ captureMessageContent: true });
  else if (which === 'traceloop-openai') inst = new (require('@traceloop/instrumentation-openai').OpenAIInstrumentation)();
  else if (which === 'traceloop-anthropic') inst = new (require('@traceloop/instrumentation-anthropic').AnthropicInstrumentation)();
  else inst = new (require('@arizeai/openinference-instrumentation-openai').OpenAIInstrumentation)();
  inst.setTracerProvider(provider);
  inst.setLoggerProvider?.(loggerProvider);

  const server = createServer(stubModelApi);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let call: (prompt: string) => Promise<unknown>;
  if (which === 'traceloop-anthropic') {
    // @traceloop/instrumentation-anthropic 0.27 patches the 0.x SDK only.
    const sdk = require('anthropic-sdk-0');
    inst.manuallyInstrument(sdk);
    const client = new sdk.Anthropic({ apiKey: 'test', baseURL: base });
    call = (p) => client.messages.create({ model: 'claude-test', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: p }] });
  } else {
    const sdk = require('openai'); // required after the instrumentation, which hooks require
    if (which !== 'otel-contrib-openai') inst.manuallyInstrument(which === 'traceloop-openai' ? sdk.OpenAI : sdk);
    const client = new sdk.OpenAI({ apiKey: 'test', baseURL: `${base}/v1` });
    call = (p) => client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: p }] });
  }
  const tracer = api.trace.getTracer('shop-app');
  for (let i = 0; i < CALLS; i++) {
    const user = USERS[i % USERS.length]!;
    const attributes = { 'enduser.id': user, 'client.address': ipOf(user), 'user_agent.original': uaOf(user), 'http.request.method': 'POST' };
    // What an instrumented HTTP server records around the handler that calls the model.
    await tracer.startActiveSpan('POST /ask', { kind: api.SpanKind.SERVER, attributes }, async (span: any) => {
      await call(promptOf(i));
      span.end();
    });
  }
  await provider.forceFlush();
  await loggerProvider.forceFlush();
  server.close();

  const finished: any[] = spans.getFinishedSpans();
  const logs: any[] = logExporter.getFinishedLogRecords();
  const decode = (b: Uint8Array): any => JSON.parse(new TextDecoder().decode(b));
  const traceDoc = (list: any[]): any => decode(JsonTraceSerializer.serializeRequest(list));
  const logDoc = (list: any[]): any => decode(JsonLogsSerializer.serializeRequest(list));
  const chunks = <T>(list: T[], n: number): T[][] => Array.from({ length: Math.ceil(list.length / n) }, (_, i) => list.slice(i * n, i * n + n));

  // One span (or log record) per line, each with its resource.
  const perSpan: string[] = [];
  for (const s of finished) {
    const rs = traceDoc([s]).resourceSpans[0];
    perSpan.push(JSON.stringify({ ...rs.scopeSpans[0].spans[0], resource: rs.resource }));
  }
  for (const l of logs) perSpan.push(JSON.stringify(logDoc([l]).resourceLogs[0].scopeLogs[0].logRecords[0]));
  writeFileSync(join(dir, 'per-span-lines.jsonl'), perSpan.join('\n') + '\n');
  // One pretty-printed document holding everything.
  writeFileSync(join(dir, 'one-document.json'), JSON.stringify({ ...traceDoc(finished), ...(logs.length > 0 ? logDoc(logs) : {}) }, null, 2) + '\n');
  // The Collector's file exporter: one export request per line, traces and logs in one file.
  const collector = [...chunks(finished, 7).map((c) => JSON.stringify(traceDoc(c))), ...chunks(logs, 9).map((c) => JSON.stringify(logDoc(c)))];
  writeFileSync(join(dir, 'collector-file.jsonl'), collector.join('\n') + '\n');
  // The OTLP/HTTP exporter's request bodies, as sent (the batch processor's default of 512).
  const bodies = [...chunks(finished, 512).map((c) => new TextDecoder().decode(JsonTraceSerializer.serializeRequest(c))), ...chunks(logs, 512).map((c) => new TextDecoder().decode(JsonLogsSerializer.serializeRequest(c)))];
  writeFileSync(join(dir, 'otlp-http-bodies.jsonl'), bodies.join('\n') + '\n');
}
/* eslint-enable @typescript-eslint/no-explicit-any */

const app = process.env.DW_OTEL_APP;
if (app !== undefined) {
  await runApp(app as Instrumentation, process.env.DW_OTEL_DIR!);
  process.exit(0);
} else {
  describe('OpenTelemetry instrumentations', () => {
    const root = mkdtempSync(join(tmpdir(), 'dw-otel-'));
    after(() => rmSync(root, { recursive: true, force: true }));
    for (const which of INSTRUMENTATIONS) {
      describe(which, () => {
        const dir = join(root, which);
        const ran = spawnSync(process.execPath, [fileURLToPath(import.meta.url)], {
          env: { ...process.env, DW_OTEL_APP: which, DW_OTEL_DIR: (mkdirSync(dir, { recursive: true }), dir) },
          encoding: 'utf8',
          timeout: 60_000,
        });
        for (const shape of SHAPES) {
          test(`${which} spans become 20 exchanges of 4 accounts when exported as ${shape}`, async () => {
            assert.equal(ran.status, 0, `the instrumented app failed: ${ran.stderr}`);
            const file = join(dir, shape === 'one-document' ? 'one-document.json' : `${shape}.jsonl`);
            const items = [];
            for await (const item of readExchanges(file, { format: 'otel' })) items.push(item);
            const bad = items.flatMap((i) => (i.kind === 'bad' ? [i.bad.reason] : []));
            assert.deepEqual(bad, []);
            const exchanges = items.flatMap((i) => (i.kind === 'exchange' ? [i.exchange as unknown as Record<string, any>] : []));
            assert.equal(exchanges.length, CALLS);
            const byPrompt = new Map(exchanges.map((e) => [e.request.messages[e.request.messages.length - 1].content, e]));
            for (let i = 0; i < CALLS; i++) {
              const user = USERS[i % USERS.length]!;
              const e = byPrompt.get(promptOf(i));
              assert.ok(e, `no exchange for call ${i}`);
              assert.equal(e.account_id, user);
              assert.deepEqual(e.client, { ip: ipOf(user), user_agent: uaOf(user) });
              assert.equal(e.model, which === 'traceloop-anthropic' ? 'claude-test' : 'gpt-test');
              assert.equal(e.request.system, 'Be brief.');
              assert.equal(e.response.text, answerOf(promptOf(i)));
              assert.equal(e.usage.input_tokens, 11);
              assert.equal(e.usage.output_tokens, 7);
            }
            assert.equal(new Set(exchanges.map((e) => e.id)).size, CALLS);
          });
        }
      });
    }
  });
}

