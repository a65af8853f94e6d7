/**
 * The gateway benchmark's load generator, run as a process of its own so that the client's
 * own work (scheduling, parsing responses, timing) never shares an event loop with the
 * bench's bookkeeping, and every target is driven by an identical fresh client.
 *
 * One run against one origin: an open loop at a fixed rate (warm-up discarded) for latency,
 * then a closed loop of `concurrency` clients for throughput. Prints one JSON line of
 * `LoadFigures` on stdout; a request that fails is counted, never retried.
 *
 *   node dist/bench/gateway-load.js '{"origin":"http://127.0.0.1:8080","rate":2000,"seconds":5,"warmup":2,"concurrency":64}'
 */
import { pathToFileURL } from 'node:url';
import { Pool } from 'undici';

export interface LoadPlan {
  origin: string;
  /** Requests per second of the open loop. */
  rate: number;
  /** Length of the measured open loop and of the closed loop. */
  seconds: number;
  /** Open loop at `rate` before the measured one, discarded. */
  warmup: number;
  /** Clients of the closed loop, each with its own connection. */
  concurrency: number;
}

export interface LoadFigures {
  p50: number;
  p99: number;
  /** Achieved rate of the open loop, requests per second. */
  rate: number;
  errors: number;
  /** Closed loop, requests per second. */
  throughput: number;
  /** Requests answered over the whole run (warm-up, open and closed loop): what the target's CPU time is divided by. */
  requests: number;
  /** The load generator's own CPU time over the run, microseconds (user and system). */
  cpuUs: number;
}

const REQUEST_BODY = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Say ok' }] });
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-0001' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cpuOf = (u: NodeJS.CpuUsage): number => u.user + u.system;

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export async function runLoad(plan: LoadPlan): Promise<LoadFigures> {
  const cpuAtStart = process.cpuUsage();
  const pool = new Pool(plan.origin, { connections: plan.concurrency * 2, keepAliveTimeout: 60_000 });
  const once = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await pool.request({ path: '/v1/chat/completions', method: 'POST', headers: HEADERS, body: REQUEST_BODY });
    await r.body.dump();
    if (r.statusCode !== 200) throw new Error(String(r.statusCode));
    return performance.now() - t0;
  };
  // Open loop: each request leaves at its due time whatever the earlier ones do, so a
  // stalled target shows as latency (as a client at that load would see it), not as a
  // lower rate.
  const openLoop = async (seconds: number): Promise<{ latencies: number[]; errors: number; rate: number }> => {
    const latencies: number[] = [];
    let errors = 0;
    const total = Math.round(plan.rate * seconds);
    const start = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / plan.rate;
      const wait = due - performance.now();
      if (wait > 1) await sleep(wait);
      inflight.push(once().then((ms) => void latencies.push(ms), () => void errors++));
    }
    await Promise.all(inflight);
    return { latencies, errors, rate: total / ((performance.now() - start) / 1000) };
  };
  try {
    // The first second of load compiles the hot paths and opens the connections, and
    // would otherwise dominate the tail.
    const warm = await openLoop(plan.warmup);
    const { latencies, rate, errors: measuredErrors } = await openLoop(plan.seconds);
    let errors = warm.errors + measuredErrors;
    latencies.sort((a, b) => a - b);
    let done = 0;
    const until = performance.now() + plan.seconds * 1000;
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (performance.now() < until) {
          try {
            await once();
            done++;
          } catch {
            errors++;
          }
        }
      }),
    );
    const requests = warm.latencies.length + latencies.length + done;
    return { p50: pct(latencies, 50), p99: pct(latencies, 99), rate, errors, throughput: done / plan.seconds, requests, cpuUs: cpuOf(process.cpuUsage(cpuAtStart)) };
  } finally {
    await pool.close();
  }
}

function planOf(text: string | undefined): LoadPlan {
  const v = JSON.parse(text ?? '') as Partial<LoadPlan>;
  for (const k of ['rate', 'seconds', 'warmup', 'concurrency'] as const) {
    if (typeof v[k] !== 'number' || !(v[k] >= 0)) throw new Error(`"${k}" is not a number >= 0`);
  }
  if (typeof v.origin !== 'string') throw new Error('"origin" is not a URL');
  return v as LoadPlan;
}

// Run as a process (not imported): the plan as one JSON argument.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let plan: LoadPlan;
  try {
    plan = planOf(process.argv[2]);
  } catch (e) {
    process.stderr.write(`Cannot read the load plan: ${(e as Error).message}\n`);
    process.exit(2);
  }
  runLoad(plan).then(
    (f) => {
      process.stdout.write(JSON.stringify(f) + '\n');
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`Load against ${plan.origin} failed: ${(e as Error).message}\n`);
      process.exit(1);
    },
  );
}
