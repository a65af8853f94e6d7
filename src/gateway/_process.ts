/**
 * Test and benchmark helpers for faults a process must meet whole: a gateway run as the CLI
 * runs it (its own process, so that it can be killed with SIGKILL or stopped with SIGTERM),
 * a load of official-client requests that counts what was answered, and the count of what
 * the store holds afterwards.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { openDuckDbStore } from '../store/duckdb/store.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stderr (its JSON logs). */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
}

/**
 * Most time a gateway process gets to start listening. Its start is well under a second on an
 * idle machine; on a shared one whose run queue is tens of processes deep, loading the
 * modules alone was measured at 13 s and the start with a DuckDB store at 53 s.
 */
const START_MS = 120_000;

/** Starts `distillwatch gateway --config <dir>/gateway.json`; throws (the process killed) if it is not listening within START_MS. */
export async function startGatewayProcess(dir: string, config: Record<string, unknown>, env: Record<string, string> = {}): Promise<GatewayProcess> {
  const path = join(dir, 'gateway.json');
  writeFileSync(path, JSON.stringify(config));
  const child = spawn(process.execPath, [CLI, 'gateway', '--config', path, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, DISTILLWATCH_LOG_LEVEL: 'warn', ...env },
  });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => {
      // Not left running behind the failed test, holding its file open.
      child.kill('SIGKILL');
      reject(new Error(`Cannot start the gateway process: not listening within ${START_MS / 1000} s: ${err.slice(-400)}`));
    }, START_MS);
    const on = () => {
      const m = /gateway listening on (http:\/\/[^,\s]+)/.exec(err);
      if (m) {
        clearTimeout(t);
        child.stderr!.off('data', on);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', on);
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`Cannot start the gateway process: it exited with ${code}: ${err.slice(-400)}`));
    });
  });
  return { url, child, output: () => err, exited };
}

export interface Load {
  /** Models (one per request, unique) whose whole response the client received. */
  answered: Set<string>;
  /** Requests that ended in an error, by the error's message. */
  failed: Map<string, number>;
  /** Stops starting requests; resolves once those in flight are over. */
  stop(): Promise<void>;
}

/**
 * `clients` loops, each sending one request at a time through the official clients: OpenAI
 * and Anthropic, streamed and not, in turn. Each request names its own model
 * (`<tag>-<n>`), so that the store can be matched against what was answered.
 */
export function startLoad(url: string, tag: string, clients = 32, opts: { model?: (n: number) => string; onAnswer?: (n: number) => void } = {}): Load {
  const openai = new OpenAI({ apiKey: 'sk-alice-0001', baseURL: url + '/v1', maxRetries: 0 });
  const anthropic = new Anthropic({ apiKey: 'sk-bob-0002', baseURL: url, maxRetries: 0 });
  const answered = new Set<string>();
  const failed = new Map<string, number>();
  let n = 0;
  let stopping = false;
  const one = async (model: string, kind: number): Promise<void> => {
    const messages = [{ role: 'user' as const, content: `question ${model}` }];
    if (kind === 0) await openai.chat.completions.create({ model, messages });
    else if (kind === 1) for await (const _ of await openai.chat.completions.create({ model, messages, stream: true }));
    else if (kind === 2) await anthropic.messages.create({ model, max_tokens: 64, messages });
    else for await (const _ of await anthropic.messages.create({ model, max_tokens: 64, messages, stream: true }));
  };
  const loop = async () => {
    while (!stopping) {
      const i = n++;
      const model = opts.model ? opts.model(i) : `${tag}-${i}`;
      try {
        await one(model, i % 4);
        answered.add(model);
        opts.onAnswer?.(answered.size);
      } catch (e) {
        const m = (e as Error).message.slice(0, 80);
        failed.set(m, (failed.get(m) ?? 0) + 1);
        // A gateway that is gone: wait a little rather than spin on refused connections.
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const loops = Array.from({ length: clients }, loop);
  return {
    answered,
    failed,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/**
 * Starts a gateway process on `config`, kills it with SIGKILL once `killAfter` requests of a
 * `clients`-way load (models `<tag>-<n>`) were answered, then starts it again on the same
 * directory and stops it cleanly (SIGTERM), so that it hands on what its log held. Returns
 * the models answered before the kill.
 */
export async function killUnderLoadAndRestart(dir: string, config: Record<string, unknown>, tag: string, clients: number, killAfter = 600): Promise<Set<string>> {
  const gw = await startGatewayProcess(dir, config);
  let load!: Load;
  await new Promise<void>((resolve) => {
    load = startLoad(gw.url, tag, clients, {
      onAnswer: (n) => {
        if (n === killAfter) {
          gw.child.kill('SIGKILL');
          resolve();
        }
      },
    });
  });
  assert.equal(await gw.exited, 'SIGKILL');
  await load.stop();
  const again = await startGatewayProcess(dir, config);
  again.child.kill('SIGTERM');
  assert.equal(await again.exited, 0, again.output());
  return load.answered;
}

/** Stored rows whose model starts with `tag`: how many, and how many distinct models. */
export async function storedModels(storePath: string, tag: string): Promise<{ rows: number; models: Set<string> }> {
  const store = await openDuckDbStore(storePath);
  try {
    let rows = 0;
    const models = new Set<string>();
    for await (const b of store.replay(5000)) {
      for (const r of b) {
        if (!r.model.startsWith(tag)) continue;
        rows++;
        models.add(r.model);
      }
    }
    return { rows, models };
  } finally {
    await store.close();
  }
}

/** Lost: answered but not stored. Doubled: stored more than once (under two ids). */
export function tally(answered: Set<string>, stored: { rows: number; models: Set<string> }): { answered: number; stored: number; lost: number; doubled: number } {
  let lost = 0;
  for (const m of answered) if (!stored.models.has(m)) lost++;
  return { answered: answered.size, stored: stored.models.size, lost, doubled: stored.rows - stored.models.size };
}
