/**
 * The thin gateway's hand-over, alone: the CPU a finished request costs between its response
 * and Redis (its frame, the write-ahead log, the stream's batches and their answers), against a
 * redis-server started here on loopback, at a fixed request rate. A script, not a test.
 *
 * `bench:gateway` measures the thin gateway whole, under a closed loop on a machine it shares
 * with the load generator, the stub upstream and Redis; its throughput ratio moves by tens of
 * points between rounds of one build. This measures the part that sets the thin gateway apart
 * from a bare Node proxy, in CPU time per request (user + system, per thread from /proc), which
 * a shared machine moves far less. Each variant is run against the same pace with the hand-over
 * left out (the requests are made and dropped), and the difference is the hand-over's.
 *
 *   npm run bench:handover -- [--rate 14000] [--requests 100000] [--rounds 3]
 *
 * Variants: the gateway as configured by default (write-ahead log, commit interval 5 ms, the
 * stream flushed at the commit interval), with the stream flushed at half of it (the default
 * before), and without the write-ahead log (flushed every 10 ms, or every 2.5).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis, type RedisServer } from '../gateway/_test-helpers.js';
import { WriteAheadLog } from '../gateway/wal.js';
import type { FinishedRequest } from '../gateway/record.js';
import { ExchangeStream } from '../live/exchange-stream.js';
import { numberArg } from './numeric-arg.js';
import { statCpuSeconds } from '../pipeline/thread-cpu.js';

const RATE = numberArg('rate', 14_000);
const REQUESTS = numberArg('requests', 100_000);
const ROUNDS = Math.max(1, Math.round(numberArg('rounds', 3)));
if (!(RATE >= 1000) || !(REQUESTS >= 1000)) throw new Error('--rate and --requests must be 1000 or more');
/** Requests handed over per millisecond: the rate, as a loaded replica's event loop sees it. */
const PER_MS = Math.round(RATE / 1000);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A chat completion's request and answer, as the gateway bench's load generator and stub send them. */
const BODY = Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Say ok' }] }));
const ANSWER = Buffer.from(
  JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } }),
);

let seq = 0;
/** A finished request as the gateway's `record` makes it (one account, as in the gateway bench). */
function finished(): FinishedRequest {
  return { id: `gw_bench_${(seq++).toString(36)}`, api: 'openai', accountId: 'acct_bench', apiKeyId: 'key_bench', body: BODY, response: { kind: 'bytes', value: ANSWER }, status: 200, startedAt: Date.now(), latencyMs: 1.2, action: 'allow', userAgent: 'undici', remoteAddress: '127.0.0.1' };
}

/** CPU time of each thread of a process so far, microseconds, by thread id (a thread that ended meanwhile is left out). */
function threadCpu(pid: number | 'self'): Map<string, number> {
  const out = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const s = statCpuSeconds(`/proc/${pid}/task/${t}/stat`);
    if (s !== null) out.set(t, s * 1e6);
  }
  return out;
}

const sum = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

interface Variant {
  name: string;
  wal: boolean;
  flushMs?: number;
}

const VARIANTS: Variant[] = [
  { name: 'as deployed (log, flush 5 ms)', wal: true },
  { name: 'log, flush 2.5 ms', wal: true, flushMs: 2.5 },
  { name: 'no log, flush 2.5 ms', wal: false, flushMs: 2.5 },
  { name: 'no log, flush 10 ms', wal: false },
];

interface Figures {
  main: number;
  others: number;
  redis: number;
}

/** One run: `REQUESTS` at the pace, handed over (or, `handOver` false, made and dropped); CPU per request by part. */
async function run(redis: RedisServer, v: Variant, handOver: boolean): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'distillwatch-handover-'));
  const wal = v.wal ? (await WriteAheadLog.open({ dir, replicaId: 'bench', commitIntervalMs: 5, redisAnswerMs: 50, onHealth: () => {} }, 0)).wal : null;
  const stream = new ExchangeStream({ redisUrl: redis.url, partitions: 8, maxLen: 10_000_000, wal, ...(v.flushMs === undefined ? {} : { flushMs: v.flushMs }) });
  try {
    // Warm-up: the code compiled, the connection up.
    for (let i = 0; i < 20_000; i++) {
      stream.submit(finished());
      if (i % 64 === 63) await sleep(0);
    }
    await stream.drain();
    const pid = redis.process.pid!;
    const [main0, r0] = [threadCpu('self'), sum(threadCpu(pid))];
    for (let i = 0; i < REQUESTS; ) {
      for (let k = 0; k < PER_MS && i < REQUESTS; k++, i++) {
        const f = finished();
        if (handOver) stream.submit(f);
      }
      await sleep(1);
    }
    await stream.drain();
    const [main1, r1] = [threadCpu('self'), sum(threadCpu(pid))];
    const mainTid = String(process.pid);
    const delta = (t: string): number => (main1.get(t) ?? 0) - (main0.get(t) ?? 0);
    let others = 0;
    for (const t of main1.keys()) if (t !== mainTid) others += delta(t);
    return { main: delta(mainTid) / REQUESTS, others: others / REQUESTS, redis: (r1 - r0) / REQUESTS };
  } finally {
    await stream.close();
    await wal?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const redis = await startRedis();
  try {
    process.stdout.write(`${REQUESTS} requests a round at ${PER_MS} a millisecond (${PER_MS * 1000}/s), ${ROUNDS} rounds, medians; CPU µs per request\n`);
    process.stdout.write('variant                            hand-over: main thread  other threads  redis   (pace alone: main, other)\n');
    for (const v of VARIANTS) {
      const withIt: Figures[] = [];
      const without: Figures[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        withIt.push(await run(redis, v, true));
        without.push(await run(redis, v, false));
      }
      const m = (f: Figures[], k: keyof Figures) => median(f.map((x) => x[k]));
      const main = m(withIt, 'main') - m(without, 'main');
      const others = m(withIt, 'others') - m(without, 'others');
      process.stdout.write(
        `${v.name.padEnd(34)} ${main.toFixed(1).padStart(20)} ${others.toFixed(1).padStart(14)} ${m(withIt, 'redis').toFixed(1).padStart(6)}   (${m(without, 'main').toFixed(1)}, ${m(without, 'others').toFixed(1)})\n`,
      );
    }
  } finally {
    await redis.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:handover: ${(e as Error).message}\n`);
  process.exit(1);
});
