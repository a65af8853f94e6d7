import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanReport } from '../core/report.js';
import { EventTimeTicker } from '../detect/ticker.js';
import { buildReport } from '../report/build.js';
import { UNREAD_BY_ENGINE } from '../store/column-batch.js';
import { openDuckDbStore } from '../store/duckdb/store.js';
import { writeSimulation } from '../traffic/simulate.js';
import { newDetectionEngine } from './early-engine.js';
import { EngineThread } from './engine-thread.js';
import { detect, ingest, scan, startEarlyDetect } from './scan.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-early-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** What a scan concludes: verdicts, flag times, campaigns and their evidence (not when the report was written). */
function conclusions(r: ScanReport): string {
  return JSON.stringify({ accounts: r.accounts, campaigns: r.campaigns });
}

/** The report of a replay of an open store. */
async function detectReport(store: Awaited<ReturnType<typeof openDuckDbStore>>): Promise<ScanReport> {
  return (await detect({ store })).report;
}

/** The report of a replay of the store `db` (a fresh engine, whatever fed it during the ingest). */
async function replayed(db: string): Promise<ScanReport> {
  const store = await openDuckDbStore(db);
  try {
    return (await detect({ store })).report;
  } finally {
    await store.close();
  }
}

describe('detection along the ingest', () => {
  const traffic = join(dir, 'traffic.jsonl');

  before(async () => {
    await writeSimulation({ scenario: 'demo', seed: 3, out: traffic, truthOut: join(dir, 'truth.json') });
  });

  it('reports exactly what a replay of the store reports, without replaying it', async () => {
    const db = join(dir, 'a.duckdb');
    const store = await openDuckDbStore(db);
    let report: ScanReport | null;
    try {
      const r = await scan({ inputs: [traffic], store });
      assert.equal(r.replayed, null, 'the engine fed along the ingest was used');
      report = r.report;
    } finally {
      await store.close();
    }
    assert.ok(report && report.campaigns.length >= 1, 'the demo traffic has campaigns');
    assert.equal(conclusions(report), conclusions(await replayed(db)));
  });

  it('puts rows that arrive a little out of order back in time order', async () => {
    // Lines swapped in pairs: a log merged from two servers, seconds apart.
    const lines = readFileSync(traffic, 'utf8').trim().split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) [lines[i], lines[i + 1]] = [lines[i + 1]!, lines[i]!];
    const swapped = join(dir, 'swapped.jsonl');
    writeFileSync(swapped, lines.join('\n') + '\n');
    const db = join(dir, 'b.duckdb');
    const store = await openDuckDbStore(db);
    let r;
    try {
      r = await scan({ inputs: [swapped], store });
    } finally {
      await store.close();
    }
    assert.equal(r.replayed, null);
    assert.equal(conclusions(r.report!), conclusions(await replayed(db)));
  });

  it('replays the store instead when the input goes back in time further than it holds rows', async () => {
    // The second half first: the first half's rows are days older than rows already analysed.
    const lines = readFileSync(traffic, 'utf8').trim().split('\n');
    const half = lines.length >> 1;
    const unsorted = join(dir, 'unsorted.jsonl');
    writeFileSync(unsorted, [...lines.slice(half), ...lines.slice(0, half)].join('\n') + '\n');
    const db = join(dir, 'c.duckdb');
    const store = await openDuckDbStore(db);
    let r;
    try {
      r = await scan({ inputs: [unsorted], store });
    } finally {
      await store.close();
    }
    assert.equal(r.replayed?.code, 'out_of_order');
    assert.equal(conclusions(r.report!), conclusions(await replayed(db)));
  });

  it('replays the store when the input repeats exchanges, which the store keeps once', async () => {
    const copy = join(dir, 'copy.jsonl');
    writeFileSync(copy, readFileSync(traffic));
    const db = join(dir, 'd.duckdb');
    const store = await openDuckDbStore(db);
    let r;
    try {
      r = await scan({ inputs: [traffic, copy], store });
    } finally {
      await store.close();
    }
    // The copy's rows are as old as rows already analysed, or counted twice: either way, a replay.
    assert.ok(r.replayed !== null);
    assert.ok(r.ingest.duplicates > 0);
    assert.equal(conclusions(r.report!), conclusions(await replayed(db)));
  });

  /** A scan of `inputs` into a fresh store `db`, the engine fed along on its own thread or on the scan's. */
  async function scanned(inputs: string[], db: string, engineThread: boolean) {
    const store = await openDuckDbStore(join(dir, db));
    try {
      return await scan({ inputs, store, engineThread });
    } finally {
      await store.close();
    }
  }

  it('reports the same on its own thread as on the scan\'s, flag times included', async () => {
    const [apart, together] = [await scanned([traffic], 'thread.duckdb', true), await scanned([traffic], 'here.duckdb', false)];
    assert.equal(apart.replayed, null);
    assert.equal(together.replayed, null);
    assert.ok(apart.report!.campaigns.length >= 1, 'the demo traffic has campaigns');
    assert.ok(apart.report!.accounts.some((a) => a.first_flagged_at !== undefined), 'some account was flagged, at a time');
    assert.equal(conclusions(apart.report!), conclusions(together.report!));
    assert.deepEqual(apart.report!.input, together.report!.input);
    assert.deepEqual(apart.report!.engine, together.report!.engine);
  });

  it('never reads the columns its thread is not handed', async () => {
    // A replay's rows whose left-out columns throw when read: an engine that came to read
    // one would fail here, not silently see null on its thread.
    const db = join(dir, 'unread.duckdb');
    const store = await openDuckDbStore(db);
    try {
      await scan({ inputs: [traffic], store, ingestOnly: true });
      const engine = newDetectionEngine(undefined, []);
      const ticker = new EventTimeTicker(engine, engine.params.linkIntervalMs);
      for await (const batch of store.replay()) {
        for (const row of batch) {
          for (const name of UNREAD_BY_ENGINE) {
            Object.defineProperty(row, name, {
              get: () => {
                throw new Error(`the engine read "${name}"`);
              },
            });
          }
          ticker.observe(row);
        }
      }
      ticker.finish();
      const input = { exchanges: 0, accounts: 0, bad_records: 0, files: [], sources: [] };
      const report = buildReport(engine, input);
      assert.ok(report.campaigns.length >= 1, 'the demo traffic has campaigns');
      assert.equal(conclusions(report), conclusions(await detectReport(store)));
    } finally {
      await store.close();
    }
  });

  it('reports the same on its own thread as on the scan\'s when the store must be replayed', async () => {
    const lines = readFileSync(traffic, 'utf8').trim().split('\n');
    const half = lines.length >> 1;
    const unsorted = join(dir, 'unsorted-both.jsonl');
    writeFileSync(unsorted, [...lines.slice(half), ...lines.slice(0, half)].join('\n') + '\n');
    const [apart, together] = [await scanned([unsorted], 'thread-miss.duckdb', true), await scanned([unsorted], 'here-miss.duckdb', false)];
    assert.equal(apart.replayed?.code, 'out_of_order');
    assert.deepEqual(apart.replayed, together.replayed);
    assert.equal(conclusions(apart.report!), conclusions(together.report!));
  });

  it('replays a store that already holds rows on the engine\'s own thread, with the report of the scan\'s', async () => {
    const db = join(dir, 'again.duckdb');
    const store = await openDuckDbStore(db);
    try {
      await ingest({ inputs: [traffic], store });
      const apart = await detect({ store, measureHeap: true });
      const here = await detect({ store, engineThread: false });
      // Only an engine on a thread of its own reports its thread's CPU time (Linux).
      if (process.platform === 'linux') assert.equal(typeof apart.engineThreadCpuSeconds, 'number', 'the replay ran on the engine\'s thread');
      assert.equal(here.engineThreadCpuSeconds, null);
      assert.equal(conclusions(apart.report), conclusions(here.report));
    } finally {
      await store.close();
    }
  });

  it('fails the scan with one line naming the engine\'s thread when that thread dies, and ends it', async () => {
    const store = await openDuckDbStore(join(dir, 'crash.duckdb'));
    // A heap far too small for the engine: the thread runs out of memory while the rows pour in.
    const thread = new EngineThread({ intel: [] }, { resourceLimits: { maxOldGenerationSizeMb: 2, maxYoungGenerationSizeMb: 1 } });
    try {
      await assert.rejects(
        async () => {
          await ingest({ inputs: [traffic], store, early: thread });
          await detect({ store, early: thread });
        },
        (e: Error) => {
          assert.match(e.message, /^The detection engine's thread (failed|exited)/);
          assert.equal(e.message.includes('\n'), false, e.message);
          return true;
        },
      );
    } finally {
      await thread.close();
      await store.close();
    }
    // Closed: nothing is left running that would keep this process alive.
    assert.equal(thread.running, false);
  });

  it('bounds the rows handed to its thread and not yet fed', async () => {
    const store = await openDuckDbStore(join(dir, 'bound.duckdb'));
    // The tightest bound: every batch is fed before the next is handed over.
    const maxBytesInFlight = 1;
    const thread = new EngineThread({ intel: [] }, { maxBytesInFlight });
    let largest = 0;
    try {
      const summary = await ingest({ inputs: [traffic], store, early: thread, featureWorkers: 1 });
      assert.ok(summary.read > 0);
      assert.ok(thread.batchesHanded > 1, `${thread.batchesHanded} batches handed over`);
      const r = await detect({ store, early: thread });
      assert.equal(r.replayed, null);
      // Its state is let go once the report is out, before the report is saved.
      assert.equal(thread.running, false, 'the engine\'s thread outlives its report');
      largest = thread.largestBatchBytes;
      assert.ok(thread.peakBytesInFlight > 0);
      // Past the bound the scan waits, so at most one batch beyond it is ever in flight.
      assert.ok(thread.peakBytesInFlight <= maxBytesInFlight + largest, `${thread.peakBytesInFlight} bytes in flight, bound ${maxBytesInFlight} + a batch of ${largest}`);
    } finally {
      await thread.close();
      await store.close();
    }
  });

  it('is not started on a store that already holds rows', async () => {
    const db = join(dir, 'e.duckdb');
    const store = await openDuckDbStore(db);
    try {
      await ingest({ inputs: [traffic], store });
      assert.equal(await startEarlyDetect(store), null);
    } finally {
      await store.close();
    }
  });
});
