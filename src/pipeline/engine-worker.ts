/** The detection engine's thread during a scan (engine-thread.ts): rows in, in input order; the report out. */
import { parentPort, workerData } from 'node:worker_threads';
import { EarlyEngineHere, type EngineSetup } from './early-engine.js';
import type { FromEngine, ToEngine } from './engine-thread.js';
import { thisThreadCpuSeconds } from './thread-cpu.js';

const port = parentPort;
if (port === null) throw new Error('engine-worker must run as a worker thread');
const setup = workerData as EngineSetup;
const engine = new EarlyEngineHere(setup);
port.on('message', (m: ToEngine) => {
  if (m.kind === 'rows') {
    engine.offer(m.rows);
    port.postMessage({ kind: 'fed', seq: m.seq, active: engine.active } satisfies FromEngine);
  } else {
    const outcome = engine.finishNow(m.stored, m.input);
    if (outcome.ok && setup.measureHeap) outcome.engineThreadCpuSeconds = thisThreadCpuSeconds();
    port.postMessage({ kind: 'done', outcome } satisfies FromEngine);
  }
});
