/**
 * Test helper, run as its own process with `--expose-gc`: builds an engine of `accounts`
 * accounts of `exchanges` exchanges each, every string made fresh per exchange (as a scan
 * decodes a row and drops it), and prints the live heap it added next to the engine's own
 * estimate (`DetectionEngine.stateBytes`) as one line of JSON.
 *
 *   node --expose-gc dist/detect/_state-bytes-probe.js 2000 50
 */
import { sig64 } from '../signals/hash.js';
import { feat } from './_test-features.js';
import { DetectionEngine } from './engine.js';

const T0 = Date.parse('2026-05-01T00:00:00Z');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  process.stderr.write('state-bytes probe: run with --expose-gc\n');
  process.exit(2);
}
const accounts = Number(process.argv[2] ?? 2000);
const exchanges = Number(process.argv[3] ?? 50);

gc();
const before = process.memoryUsage().heapUsed;
const engine = new DetectionEngine();
// Accounts interleaved in event time, one exchange per account per minute.
for (let i = 0; i < exchanges; i++) {
  for (let a = 0; a < accounts; a++) {
    const n = a * exchanges + i;
    engine.observe(
      feat({
        account_id: `acct-${a}`,
        ts: T0 + i * 60_000 + a,
        ip: `10.${a >> 8 & 255}.${a & 255}.${i % 3}`,
        subnet: `10.${a >> 8 & 255}.${a & 255}.0/24`,
        user_agent: `client/${a % 7}.${i % 2}`,
        prompt_hash: sig64(`prompt ${n}`),
        phrase_sigs: `${sig64(`own ${a} ${i % 5}`)} ${sig64(`item ${n}`)}`,
        conversation_id: `conv-${n}`,
        harness_sig: `h-${a % 50}`,
        template_prefix: `prefix ${a} ${i % 4}`,
        template_suffix: '',
      }),
    );
  }
}
engine.finish();
gc();
const heap = process.memoryUsage().heapUsed - before;
process.stdout.write(JSON.stringify({ heap, estimate: engine.stateBytes() }) + '\n');
