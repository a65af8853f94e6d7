/**
 * The CPU of a thin gateway's hand-over encoding alone, in one process: each request of the
 * latency bench's shape (gateway-latency.ts: the same body, the stub's answer, the client's
 * name and a loopback address) encoded as its frame, its lsn written in, and each group of
 * `--group` frames joined as one stream entry, as the log and the stream do; then the
 * entries read back as a worker reads them. Prints CPU µs per request (user + system, from
 * `process.cpuUsage()`) and the bytes per request, for `--runs` runs.
 *
 *   node dist/bench/gateway-encode.js [--requests 100000] [--group 20] [--runs 5]
 *
 * Run beside another build's copy of this script to compare encodings on a busy machine:
 * CPU time is hardly moved by other work, wall time is.
 */
import type { FinishedRequest } from '../gateway/record.js';
import { encodeFrame, setFrameLsn } from '../gateway/record-frame.js';
import { entryRequests, FRAMES_FIELD } from '../live/codec.js';
import { numberArg } from './numeric-arg.js';

const REQUESTS = numberArg('requests', 100_000);
const GROUP = numberArg('group', 20);
const RUNS = numberArg('runs', 5);

const BODY = Buffer.from(JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'Say ok' }] }));
const ANSWER = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model: 'm',
    choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 },
  }),
);

function request(n: number): FinishedRequest {
  return {
    id: `gw_3f2a9c1e_${n}`,
    api: 'openai',
    accountId: 'acct_bench',
    apiKeyId: 'key_5e1f0a2b9c3d',
    // Copies, as each request's own buffers off the wire.
    body: Buffer.from(BODY),
    response: { kind: 'bytes', value: Buffer.from(ANSWER) },
    status: 200,
    startedAt: 1764000000000 + n,
    latencyMs: 1.234 + (n % 100) / 1000,
    action: 'allow',
    userAgent: 'undici',
    remoteAddress: '127.0.0.1',
  };
}

const cpuUs = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

/** One run: µs of CPU per request to encode, and to read back, and the bytes per request. */
function run(): { encode: number; decode: number; bytes: number } {
  const requests = Array.from({ length: REQUESTS }, (_, i) => request(i));
  const entries: Buffer[] = [];
  let bytes = 0;
  const a = cpuUs();
  let group: Buffer[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const frame = encodeFrame(requests[i]!);
    setFrameLsn(frame, i + 1);
    group.push(frame);
    if (group.length === GROUP) {
      entries.push(Buffer.concat(group));
      group = [];
    }
  }
  if (group.length > 0) entries.push(Buffer.concat(group));
  const b = cpuUs();
  const field = Buffer.from(FRAMES_FIELD);
  let read = 0;
  for (const e of entries) {
    bytes += e.byteLength;
    read += entryRequests([field, e])?.length ?? 0;
  }
  const c = cpuUs();
  if (read !== REQUESTS) throw new Error(`read back ${read} of ${REQUESTS} requests`);
  return { encode: (b - a) / REQUESTS, decode: (c - b) / REQUESTS, bytes: bytes / REQUESTS };
}

run(); // warm-up: the code optimised before it is timed
process.stdout.write(`${REQUESTS} requests a run, ${GROUP} a stream entry; CPU µs per request (user + system)\nrun  encode µs  read back µs  bytes/request\n`);
for (let i = 0; i < RUNS; i++) {
  const r = run();
  process.stdout.write(`${String(i + 1).padStart(3)} ${r.encode.toFixed(2).padStart(10)} ${r.decode.toFixed(2).padStart(13)} ${r.bytes.toFixed(0).padStart(14)}\n`);
}
