/**
 * Test helpers: a stub model API on loopback that speaks both dialects, a gateway wired to
 * it, and a real redis-server (failing loudly, naming the package, when it cannot start).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createServer as createNetServer } from 'node:net';
import { after, before } from 'node:test';
import { pino } from 'pino';
import { parseConfig, type GatewayConfig } from './config.js';
import { startGateway, type RunningGateway, type StartOptions } from './start.js';
import type { ExchangeFeatures } from '../core/features.js';
import type { Store } from '../store/store.js';

export interface StubUpstream {
  url: string;
  port: number;
  /** Requests whose connection closed before the stub finished answering. */
  aborted: number;
  requests: number;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readJson(req: IncomingMessage): Promise<any> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        resolve({});
      }
    });
  });
}

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}

async function openaiAnswer(body: any, res: ServerResponse, stub: StubUpstream): Promise<void> {
  const model = String(body.model ?? '');
  const base = { id: 'chatcmpl-stub', created: 1_700_000_000, model };
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0;
  if (!body.stream) {
    const message: any = wantsTool
      ? { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: body.tools[0].function.name, arguments: '{"city":"Paris"}' } }] }
      : { role: 'assistant', content: 'Hello from the stub', reasoning_content: 'step one, step two' };
    const out = { ...base, object: 'chat.completion', choices: [{ index: 0, message, finish_reason: wantsTool ? 'tool_calls' : 'stop' }], usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
    return;
  }
  sse(res);
  const chunk = (delta: any, finish: string | null = null) => `data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  if (wantsTool) {
    res.write(chunk({ role: 'assistant', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: body.tools[0].function.name, arguments: '' } }] }));
    res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }));
    res.write(chunk({ tool_calls: [{ index: 0, function: { arguments: '"Paris"}' } }] }));
    res.write(chunk({}, 'tool_calls'));
  } else {
    const pieces = streamPieces(model);
    res.write(chunk({ role: 'assistant', content: '' }));
    if (model === 'thinker') for (const r of ['step one,', ' step two']) res.write(chunk({ reasoning_content: r }));
    for (const p of pieces) {
      if (res.destroyed) return;
      res.write(chunk({ content: p }));
      if (model === 'slow-stream') await sleep(30);
    }
    res.write(chunk({}, 'stop'));
  }
  res.end('data: [DONE]\n\n');
  void stub;
}

/** How a stub stream cuts its answer: by words, or (`split-words`) across words. */
function streamPieces(model: string): string[] {
  if (model === 'slow-stream') return Array.from({ length: 100 }, (_, i) => `word${i} `);
  if (model === 'split-words') return ['Hel', 'lo fr', 'om the st', 'ub'];
  return ['Hello', ' from', ' the', ' stub'];
}

async function anthropicAnswer(body: any, res: ServerResponse): Promise<void> {
  const model = String(body.model ?? '');
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0;
  const content = wantsTool
    ? [{ type: 'tool_use', id: 'toolu_1', name: body.tools[0].name, input: { city: 'Paris' } }]
    : [{ type: 'thinking', thinking: 'step one, step two', signature: 'sig' }, { type: 'text', text: 'Hello from the stub' }];
  const message = { id: 'msg_stub', type: 'message', role: 'assistant', model, stop_sequence: null, usage: { input_tokens: 5, output_tokens: 4 } };
  if (!body.stream) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...message, content, stop_reason: wantsTool ? 'tool_use' : 'end_turn' }));
    return;
  }
  sse(res);
  const ev = (type: string, data: any) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  res.write(ev('message_start', { message: { ...message, content: [], stop_reason: null, usage: { input_tokens: 5, output_tokens: 1 } } }));
  if (wantsTool) {
    res.write(ev('content_block_start', { index: 0, content_block: { type: 'tool_use', id: 'toolu_1', name: body.tools[0].name, input: {} } }));
    res.write(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '{"city":' } }));
    res.write(ev('content_block_delta', { index: 0, delta: { type: 'input_json_delta', partial_json: '"Paris"}' } }));
    res.write(ev('content_block_stop', { index: 0 }));
  } else {
    const pieces = streamPieces(model);
    let index = 0;
    if (model === 'thinker') {
      res.write(ev('content_block_start', { index, content_block: { type: 'thinking', thinking: '', signature: '' } }));
      res.write(ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: 'step one, step two' } }));
      res.write(ev('content_block_delta', { index, delta: { type: 'signature_delta', signature: 'sig' } }));
      res.write(ev('content_block_stop', { index }));
      index++;
    }
    res.write(ev('content_block_start', { index, content_block: { type: 'text', text: '' } }));
    for (const p of pieces) {
      if (res.destroyed) return;
      res.write(ev('content_block_delta', { index, delta: { type: 'text_delta', text: p } }));
      if (model === 'slow-stream') await sleep(30);
    }
    res.write(ev('content_block_stop', { index }));
  }
  res.write(ev('message_delta', { delta: { stop_reason: wantsTool ? 'tool_use' : 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }));
  res.end(ev('message_stop', {}));
}

/**
 * A stub model API. The model name picks the behaviour: `fail-500`, `fail-429`, `hang`
 * (never answers), `slow-stream` (a long stream, 30 ms between pieces), `thinker` (streams
 * its reasoning before the answer, asked or not), `split-words` (streams pieces that cut
 * words in two); anything else answers.
 */
export async function startStubUpstream(): Promise<StubUpstream> {
  const stub: StubUpstream = { url: '', port: 0, aborted: 0, requests: 0, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    stub.requests++;
    res.on('close', () => {
      if (!res.writableFinished) stub.aborted++;
    });
    const body = await readJson(req);
    const model = String(body.model ?? '');
    const anthropic = req.url?.startsWith('/v1/messages') ?? false;
    if (model === 'fail-500' || model === 'fail-429') {
      const status = model === 'fail-500' ? 500 : 429;
      const err = anthropic
        ? { type: 'error', error: { type: status === 500 ? 'api_error' : 'rate_limit_error', message: 'stub says no' } }
        : { error: { message: 'stub says no', type: status === 500 ? 'server_error' : 'rate_limit_error', param: null, code: null } };
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(err));
      return;
    }
    if (model === 'hang') return;
    if (anthropic) await anthropicAnswer(body, res);
    else await openaiAnswer(body, res, stub);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  stub.port = (server.address() as AddressInfo).port;
  stub.url = `http://127.0.0.1:${stub.port}`;
  stub.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return stub;
}

/**
 * A stub model API and a temporary folder shared by the tests of one file: the stub is
 * started before them, both are removed after. `stub` may be read from a test on.
 */
export function useStubUpstreamAndTempDir(prefix: string): { readonly dir: string; readonly stub: StubUpstream } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  let stub: StubUpstream | null = null;
  before(async () => {
    stub = await startStubUpstream();
  });
  after(async () => {
    await stub?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    dir,
    get stub(): StubUpstream {
      if (stub === null) throw new Error('Cannot use the stub upstream: it starts before the first test');
      return stub;
    },
  };
}

export const TEST_KEYS: Record<string, string> = { 'sk-alice-0001': 'acct_alice', 'sk-bob-0002': 'acct_bob', 'sk-mallory-0003': 'acct_mallory' };
export const ADMIN_TOKEN = 'admin-secret-token';

/** Spool folders made for tests, removed when the test process ends. */
const spoolDirs: string[] = [];
process.once('exit', () => {
  for (const d of spoolDirs) rmSync(d, { recursive: true, force: true });
});

export function testConfig(upstream: string, extra: Record<string, unknown> = {}): GatewayConfig {
  const spoolDir = mkdtempSync(join(tmpdir(), 'dw-spool-'));
  spoolDirs.push(spoolDir);
  const r = parseConfig({ upstream, listen: { host: '127.0.0.1', port: 0 }, adminListen: { host: '127.0.0.1', port: 0 }, keys: TEST_KEYS, spoolDir, linkIntervalMs: 200, ...extra });
  if (!r.ok) throw new Error(r.error);
  return r.config;
}

/** Every exchange a store holds, in its replay order. */
export async function storedRows(store: Store): Promise<ExchangeFeatures[]> {
  const out: ExchangeFeatures[] = [];
  for await (const batch of store.replay(1000)) out.push(...batch);
  return out;
}

/** A gateway on a free port with quiet logs. */
export function startTestGateway(config: GatewayConfig, opts: Partial<StartOptions> = {}): Promise<RunningGateway> {
  return startGateway({ config, adminToken: ADMIN_TOKEN, logger: pino({ level: 'silent' }), store: null, ...opts });
}

/**
 * A port that was free a moment ago. Another process can take it before it is used: only
 * for programs that cannot bind port 0 themselves, and then with a retry (see startRedis).
 */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** The program's path on PATH, or null (looked up without a shell, which PATH may lack). */
export function onPath(program: string, path = process.env['PATH'] ?? ''): string | null {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // not in this folder
    }
  }
  return null;
}

/**
 * Waits until `cond` holds, checking again after each `pollMs`; fails naming `what` after
 * `timeoutMs`. For conditions with no event to wait on; the limit is a safety net far
 * beyond the expected wait, never a measure of speed.
 */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, pollMs = 10): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await cond())) {
    if (performance.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/** Resolves with everything read once `pattern` appears in the process's output; rejects if it exits first. */
export function waitForOutput(child: ChildProcess, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const done = (err: Error | null): void => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(out);
    };
    const onData = (c: Buffer): void => {
      out += c.toString();
      if (pattern.test(out)) done(null);
    };
    const onExit = (code: number | null): void => done(new Error(`The process exited (code ${code}) before printing ${pattern}: ${out.slice(-500)}`));
    const timer = setTimeout(() => done(new Error(`Timed out after ${timeoutMs} ms waiting for ${pattern}: ${out.slice(-500)}`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
  });
}

export interface RedisServer {
  url: string;
  port: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** The line a test run prints, and the error a Redis test fails with, when there is no redis-server. */
export const REDIS_MISSING = 'redis-server not found: install the Debian package redis-server';

/**
 * Starts a throwaway redis-server on loopback. Throws (never skips) when it cannot.
 * redis-server cannot listen on port 0 and tell which port it got, so it is given a port
 * that was free and started again on another when something took that one meanwhile
 * (`firstPort` is the first one tried, for the test of that). `port` starts it on that port
 * only: a Redis restarted, empty, where replicas expect it.
 */
export async function startRedis(opts: { port?: number; firstPort?: number } = {}): Promise<RedisServer> {
  if (!onPath('redis-server')) throw new Error(REDIS_MISSING);
  if (opts.port !== undefined) {
    const r = await tryStartRedis(opts.port);
    if (r.ok) return r.server;
    throw new Error(r.error);
  }
  for (let attempt = 1; ; attempt++) {
    const r = await tryStartRedis(attempt === 1 && opts.firstPort !== undefined ? opts.firstPort : await freePort());
    if (r.ok) return r.server;
    if (!r.portTaken || attempt === 5) throw new Error(r.error);
  }
}

type RedisStart = { ok: true; server: RedisServer } | { ok: false; portTaken: boolean; error: string };

async function tryStartRedis(port: number): Promise<RedisStart> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'local'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    await waitForOutput(child, /Ready to accept connections/, 15_000);
  } catch (e) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    const msg = (e as Error).message;
    return { ok: false, portTaken: /Address already in use/.test(msg), error: `Cannot start Redis on port ${port}: ${msg}` };
  }
  // Its log is not needed any more, but the pipe must keep draining or redis-server blocks.
  child.stdout!.resume();
  child.stderr!.resume();
  return {
    ok: true,
    server: {
      url: `redis://127.0.0.1:${port}`,
      port,
      process: child,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await new Promise((r) => child.once('exit', r));
        }
        rmSync(dir, { recursive: true, force: true });
      },
    },
  };
}

export { sleep };
