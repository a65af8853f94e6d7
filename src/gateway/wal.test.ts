import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame } from './record-frame.js';
import type { FinishedRequest } from './record.js';
import { WriteAheadLog } from './wal.js';

const finished = (n: number): FinishedRequest => ({
  id: `gw_${n}`,
  api: 'openai',
  accountId: 'acct_a',
  apiKeyId: 'key_a',
  body: Buffer.from([0xff, 0, n, 0x0a]),
  response: { kind: 'bytes', value: Buffer.from(`answer ${n}`) },
  status: 200,
  startedAt: 1764000000000 + n,
  latencyMs: 1.5,
  action: 'allow',
});

test('the log replays its binary frames after a crash, sets a cut-off tail aside, and still reads a segment of JSON lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-wal-'));
  try {
    // A segment of the log's first form (JSON lines, base64 bodies), as an older version left it.
    const old = finished(1);
    const line = JSON.stringify({ lsn: 1, f: { ...old, body: Buffer.from(old.body).toString('base64'), response: { kind: 'bytes', value: Buffer.from('answer 1').toString('base64') } } });
    writeFileSync(join(dir, 'wal-r1-0000000000000001.log'), line + '\n');

    const first = await WriteAheadLog.open({ dir, replicaId: 'r1' }, 0);
    assert.deepEqual(first.recovery.records.map((f) => f.id), ['gw_1']);
    // One appended by id (an analysis thread's gateway), two as frames settled by lsn (a thin one).
    first.wal.append(finished(2));
    const lsn3 = first.wal.appendFrame(encodeFrame(finished(3)), null);
    const lsn4 = first.wal.appendFrame(encodeFrame(finished(4)), null);
    await first.wal.commit();
    first.wal.settleLsns([lsn3]);
    assert.equal(first.wal.lowWater, 0, 'gw_1 and gw_2 are not settled yet');
    assert.equal(first.wal.unsettled, 3);
    // kill -9 in the middle of the next group's write: half a frame on disk.
    const active = readdirSync(dir).filter((n) => n.endsWith('.log')).sort().at(-1)!;
    const torn = encodeFrame(finished(5)).subarray(0, 30);
    appendFileSync(join(dir, active), torn);

    const again = await WriteAheadLog.open({ dir, replicaId: 'r1' }, 0);
    // Settled records are not in the log's memory, but a crash before the segment went replays
    // them too: the store keeps one copy. Every record comes back whole, raw bytes included.
    const back = again.recovery.records;
    assert.deepEqual(back.map((f) => f.id), ['gw_1', 'gw_2', 'gw_3', 'gw_4']);
    for (const f of back) {
      const n = Number(f.id.slice(3));
      assert.deepEqual(Buffer.from(f.body), Buffer.from(finished(n).body), f.id);
      assert.deepEqual(f.response?.kind === 'bytes' ? Buffer.from(f.response.value).toString() : null, `answer ${n}`);
    }
    assert.equal(again.recovery.setAside, 1);
    assert.deepEqual(readFileSync(join(dir, `${active}.bad`)), torn);
    assert.ok(lsn4 > lsn3 && again.wal.lsnOfId('gw_4') === lsn4, 'a replayed record keeps its lsn');
    await again.wal.close();
    await first.wal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a record settled before its group is due is never written; one still unsettled is written and fsynced by then', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-wal-'));
  try {
    const { wal } = await WriteAheadLog.open({ dir, replicaId: 'r1', commitIntervalMs: 20 }, 0);
    const taken = wal.appendFrame(encodeFrame(finished(1)), null);
    wal.appendFrame(encodeFrame(finished(2)), null);
    // Redis took the first before the group was due: a crash of this process can no longer lose it.
    wal.settleLsns([taken]);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(wal.committed, 1, 'the unsettled record written within the interval, without any commit() call');
    assert.equal(wal.unwritten, 1, 'the settled one left out');
    // What a kill -9 now would leave on disk: only the record nobody else holds.
    const again = await WriteAheadLog.open({ dir, replicaId: 'r1' }, 0);
    assert.deepEqual(again.recovery.records.map((f) => f.id), ['gw_2']);
    await again.wal.close();
    await wal.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
