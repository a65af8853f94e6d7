import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { runStoreContract, sampleFeatures, sampleReport } from '../contract.js';
import { openDuckDbStore, SCHEMA_VERSION } from './store.js';
import { openStore } from '../open.js';
import { SCAN_DUCKDB_THREADS } from '../../pipeline/scan.js';
import { StoreError } from '../errors.js';
import type { Store } from '../store.js';

const dir = mkdtempSync(join(tmpdir(), 'distillwatch-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const freshPath = (): string => join(dir, `store-${++n}.duckdb`);

runStoreContract('DuckDB file', () => openDuckDbStore(freshPath()), {
  persistent: () => {
    const p = freshPath();
    return () => openDuckDbStore(p);
  },
});
runStoreContract('DuckDB in memory', () => openDuckDbStore(':memory:'));

const source = { key: 'k', path: 'a.jsonl' };

describe('DuckDB replay in event-time windows', () => {
  it('replays every exchange once, in (ts, id) order, when the store spans many windows', async () => {
    // Windows of about 7 rows over 300 rows whose times repeat (ties straddle the window
    // boundaries) and arrive out of order: every row must come back once, sorted.
    const store = await openDuckDbStore(freshPath(), { replayWindowRows: 7 });
    try {
      const base = Date.parse('2026-05-01T00:00:00Z');
      const rows = Array.from({ length: 300 }, (_, i) => sampleFeatures(i, { ts: base + ((i * 37) % 50) * 1000 }));
      await store.append(rows.slice(0, 150), [], { source, line: 150, done: false });
      await store.append(rows.slice(150), [], { source, line: 300, done: true });
      const seen: { id: string; ts: number }[] = [];
      for await (const batch of store.replay(11)) for (const r of batch) seen.push({ id: r.id, ts: r.ts });
      const expected = rows.map((r) => ({ id: r.id, ts: r.ts })).sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      assert.deepEqual(seen, expected);
    } finally {
      await store.close();
    }
  });

  it('replays a store whose exchanges all share one time', async () => {
    const store = await openDuckDbStore(freshPath(), { replayWindowRows: 2 });
    try {
      const ts = Date.parse('2026-05-01T00:00:00Z');
      await store.append([sampleFeatures(1, { ts }), sampleFeatures(2, { ts }), sampleFeatures(3, { ts })], [], { source, line: 3, done: true });
      const ids: string[] = [];
      for await (const batch of store.replay()) for (const r of batch) ids.push(r.id);
      assert.deepEqual(ids, [sampleFeatures(1).id, sampleFeatures(2).id, sampleFeatures(3).id].sort());
    } finally {
      await store.close();
    }
  });

  it('refuses a replay window that is not a whole number of rows', async () => {
    await assert.rejects(openDuckDbStore(':memory:', { replayWindowRows: 0 }), { code: 'cannot_open', message: /rows per replay window/ });
    await assert.rejects(openDuckDbStore(':memory:', { threads: 1.5 }), { code: 'cannot_open', message: /threads/ });
  });
});

const plain = (v: unknown): unknown => (typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(plain) : v);

/** Rows of a query on a store file, read with DuckDB directly as a dashboard would; BIGINTs as numbers. */
async function query(path: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(path);
  try {
    const conn = await instance.connect();
    try {
      return (await conn.runAndReadAll(sql)).getRowsJS().map((row) => row.map(plain));
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** Starts another process that opens `path` and holds it until killed. */
async function holdInAnotherProcess(path: string): Promise<() => Promise<void>> {
  const moduleUrl = new URL('./store.js', import.meta.url).href;
  const code = `import { openDuckDbStore } from ${JSON.stringify(moduleUrl)};
await openDuckDbStore(${JSON.stringify(path)});
process.stdout.write('ready\\n');
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`the holding process exited with ${code}: ${stderr}`)));
  });
  return async () => {
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill();
    await exited;
  };
}

async function rejectsWith(p: Promise<unknown>, code: StoreError['code'], message: string | RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${String(e)}`);
    assert.equal(e.code, code);
    if (typeof message === 'string') assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe('openDuckDbStore', () => {
  it('refuses a file another process holds, saying so in one line', async () => {
    const p = freshPath();
    const release = await holdInAnotherProcess(p);
    try {
      await rejectsWith(openDuckDbStore(p), 'in_use', new RegExp(`^Cannot open the store "${p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}": it is in use by another process \\(PID \\d+\\)$`));
      await rejectsWith(openDuckDbStore(p, { readOnly: true }), 'in_use', /it is in use by another process/);
    } finally {
      await release();
    }
    const s = await openDuckDbStore(p);
    await s.close();
  });

  it('refuses a second open of a file this process already has open', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    try {
      await rejectsWith(openDuckDbStore(join(dir, '.', `store-${n}.duckdb`)), 'in_use', `Cannot open the store "${join(dir, '.', `store-${n}.duckdb`)}": it is already open in this process`);
    } finally {
      await s.close();
    }
    const again = await openDuckDbStore(p);
    await again.close();
  });

  it('refuses a file that is not a DuckDB database', async () => {
    const p = join(dir, 'notes.duckdb');
    writeFileSync(p, 'these are notes, not a database\n'.repeat(200));
    await rejectsWith(openDuckDbStore(p), 'not_a_store', `Cannot open the store "${p}": it is not a DuckDB database`);
  });

  it('refuses a DuckDB database that is not a store', async () => {
    const p = freshPath();
    await query(p, 'CREATE TABLE exchanges (x INTEGER)');
    await rejectsWith(openDuckDbStore(p), 'not_a_store', `Cannot open the store "${p}": it is a DuckDB database but not a DistillWatch store`);
  });

  it('refuses a store written by a newer schema', async () => {
    const p = freshPath();
    await (await openDuckDbStore(p)).close();
    await query(p, `INSERT INTO schema_version (version) VALUES (${SCHEMA_VERSION + 1})`);
    await rejectsWith(openDuckDbStore(p), 'newer_schema', new RegExp(`written by a newer DistillWatch \\(schema ${SCHEMA_VERSION + 1}, this one knows up to ${SCHEMA_VERSION}\\)$`));
  });

  it('refuses a path that is empty, a folder, or in a folder that does not exist', async () => {
    const missing = join(dir, 'no-such-folder', 'x.duckdb');
    await rejectsWith(openDuckDbStore(missing), 'cannot_open', `Cannot open the store "${missing}": its folder does not exist`);
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    await rejectsWith(openDuckDbStore(folder), 'cannot_open', `Cannot open the store "${folder}": it is a folder`);
    await rejectsWith(openDuckDbStore(join(dir, 'absent.duckdb'), { readOnly: true }), 'cannot_open', /: no such file$/);
    await rejectsWith(openDuckDbStore(''), 'cannot_open', 'Cannot open the store "": no path given');
  });

  it('takes a memory budget in DuckDB size syntax and names one it cannot read', async () => {
    const p = freshPath();
    await rejectsWith(openDuckDbStore(p, { memoryLimit: 'banana' }), 'cannot_open', `Cannot open the store "${p}": memory budget "banana" is not a size such as 512MB or 4GB`);
    const store = await openDuckDbStore(p, { memoryLimit: '256MB' });
    await store.append([sampleFeatures(1)], [], { source, line: 1, done: true });
    assert.equal((await store.counts()).exchanges, 1);
    await store.close();
  });

  it('records the schema version once, however often the store is opened', async () => {
    const p = freshPath();
    for (let i = 0; i < 3; i++) await (await openDuckDbStore(p)).close();
    assert.deepEqual(await query(p, 'SELECT version FROM schema_version'), [[SCHEMA_VERSION]]);
  });

  it("takes DuckDB's thread count through openStore, and stores on the scan's one thread", async () => {
    await assert.rejects(openStore(':memory:', { duckdbThreads: 0 }), { code: 'cannot_open', message: /0 threads is not a whole number of at least 1/ });
    const store = await openStore(freshPath(), { duckdbThreads: SCAN_DUCKDB_THREADS });
    try {
      const out = await store.append([sampleFeatures(1), sampleFeatures(2)], [], { source, line: 2, done: true });
      assert.equal(out.inserted, 2);
      assert.equal((await store.counts()).exchanges, 2);
    } finally {
      await store.close();
    }
  });
});

describe('DuckDB store', () => {
  it('keeps no index on exchange ids, whose memory grew with the store, and still stores a re-ingested exchange once', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    const rows = Array.from({ length: 3000 }, (_, i) => sampleFeatures(i));
    try {
      assert.deepEqual(await s.append(rows, [], { source, line: 3000, done: false }), { inserted: 3000, duplicates: 0 });
      // Again, in another order and batch cut, with a new row: only that one is new.
      const again = [...rows.slice(1500), sampleFeatures(5000), ...rows.slice(0, 1500)];
      assert.deepEqual(await s.append(again, [], { source, line: 3001, done: true }), { inserted: 1, duplicates: 3000 });
      assert.equal((await s.counts()).exchanges, 3001);
    } finally {
      await s.close();
    }
    assert.deepEqual(await query(p, "SELECT count(*) FROM duckdb_constraints() WHERE table_name = 'exchanges' AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')"), [[0]]);
    assert.deepEqual(await query(p, "SELECT count(*) FROM duckdb_indexes() WHERE table_name = 'exchanges'"), [[0]]);
  });

  it('opened read-only reads a store and refuses writes', async () => {
    const p = freshPath();
    const w = await openDuckDbStore(p);
    await w.append([sampleFeatures(1), sampleFeatures(2)], [], { source, line: 2, done: true });
    await w.close();
    const r = await openDuckDbStore(p, { readOnly: true });
    try {
      assert.equal((await r.counts()).exchanges, 2);
      let replayed = 0;
      for await (const b of r.replay()) replayed += b.length;
      assert.equal(replayed, 2);
      await rejectsWith(r.append([sampleFeatures(3)], [], { source, line: 3, done: true }), 'read_only', `Cannot write to the store "${p}": it was opened read-only`);
      await rejectsWith(r.saveReport(sampleReport()), 'read_only', /opened read-only$/);
    } finally {
      await r.close();
    }
  });

  it('append names the exchange and the field of a value it cannot store', async () => {
    const s = await openDuckDbStore(':memory:');
    try {
      await rejectsWith(
        s.append([sampleFeatures(1), sampleFeatures(2, { elicitation: Number.NaN })], [], { source, line: 2, done: false }),
        'invalid_value',
        'Cannot store exchange "ex_0000002": "elicitation" is NaN, expected a finite number',
      );
      await rejectsWith(
        s.append([sampleFeatures(3, { ts: 1.5 })], [], { source, line: 3, done: false }),
        'invalid_value',
        'Cannot store exchange "ex_0000003": "ts" is 1.5, expected a whole number below 2^53',
      );
      await rejectsWith(
        s.append([sampleFeatures(4, { n_messages: '3' as unknown as number })], [], { source, line: 4, done: false }),
        'invalid_value',
        'Cannot store exchange "ex_0000004": "n_messages" is the string "3", expected a whole number below 2^31',
      );
      await rejectsWith(
        s.append([sampleFeatures(5, { account_id: undefined as unknown as string })], [], { source, line: 5, done: false }),
        'invalid_value',
        'Cannot store exchange "ex_0000005": "account_id" is missing, expected a string',
      );
      assert.deepEqual(await s.counts(), { exchanges: 0, accounts: 0, bad_records: 0 });
      assert.equal(await s.checkpoint(source), null);
    } finally {
      await s.close();
    }
  });

  it('saveReport keeps every scan report and only the latest campaigns and verdicts', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    await s.saveReport(sampleReport('2026-11-22T10:00:00.000Z'));
    const second = sampleReport('2026-11-23T10:00:00.000Z');
    second.campaigns = second.campaigns.slice(0, 1);
    second.accounts = second.accounts.slice(0, 2);
    await s.saveReport(second);
    await s.close();
    assert.deepEqual(await query(p, "SELECT id, strftime(generated_at AT TIME ZONE 'UTC', '%Y-%m-%d') FROM scan_reports ORDER BY id"), [
      [1, '2026-11-22'],
      [2, '2026-11-23'],
    ]);
    assert.deepEqual(
      await query(
        p,
        `SELECT scan_id, id, confidence, n_accounts, accounts, exchanges, epoch_ms(first_seen), epoch_ms(first_flagged_at), tactics,
                capabilities->>'coding', indicators->'asns'->>0, links->>'harness', explanation FROM campaigns`,
      ),
      [[2, 'cmp_01', 0.93, 3, ['acct_1', 'acct_2', 'acct_3'], 2400, Date.parse('2026-04-22T00:00:00.000Z'), Date.parse('2026-04-22T03:10:00.000Z'), ['hydra_proxy', 'cot_elicitation'], '0.6', '64500', '3', second.campaigns[0]!.explanation]],
    );
    assert.deepEqual(
      await query(p, 'SELECT scan_id, account_id, risk, verdict, campaign_id, epoch_ms(first_flagged_at), reasons->>0, exchanges FROM account_verdicts ORDER BY account_id'),
      [
        [2, 'acct_1', 0.97, 'distillation', 'cmp_01', Date.parse('2026-04-22T03:10:00.000Z'), 'harness shared with 2 accounts', 900],
        [2, 'acct_9', 0.5, 'suspicious', 'cmp_02', null, 'capability sweep', 300],
      ],
    );
  });

  it('stores the same rows whether a batch starts after every stored row or overlaps them', async () => {
    // Two appends of the same exchanges: in one store the second batch starts after the
    // first's latest time (appended straight), in the other it goes back over a hundred stored
    // exchanges (compared with them). Both batches repeat two ids with other values.
    const rows = Array.from({ length: 5000 }, (_, i) => sampleFeatures(i)).sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
    let cut = 2500;
    while (rows[cut]!.ts === rows[cut - 1]!.ts) cut++;
    const repeats = [{ ...rows[cut]!, account_id: 'acct_other' }, { ...rows[cut + 10]!, output_tokens: 1 }];
    const stores = { after: await openDuckDbStore(freshPath()), overlapping: await openDuckDbStore(freshPath()) };
    try {
      for (const s of Object.values(stores)) assert.deepEqual(await s.append(rows.slice(0, cut), [], { source, line: cut, done: false }), { inserted: cut, duplicates: 0 });
      assert.deepEqual(await stores.after.append([...rows.slice(cut), ...repeats], [], { source, line: 5002, done: true }), { inserted: 5000 - cut, duplicates: 2 });
      assert.deepEqual(await stores.overlapping.append([...rows.slice(cut - 100), ...repeats], [], { source, line: 5002, done: true }), { inserted: 5000 - cut, duplicates: 102 });
      const replayed = async (s: Store) => {
        const out = [];
        for await (const batch of s.replay()) out.push(...batch);
        return out;
      };
      assert.deepEqual(await replayed(stores.after), rows);
      assert.deepEqual(await replayed(stores.overlapping), rows);
      // A later batch that goes back in time after the straight appends is still compared.
      assert.deepEqual(await stores.after.append([rows[0]!, sampleFeatures(9999, { ts: rows[4999]!.ts + 1 })], [], { source, line: 5004, done: true }), { inserted: 1, duplicates: 1 });
    } finally {
      await stores.after.close();
      await stores.overlapping.close();
    }
  });

  it('stores whole numbers over their whole range, negatives and nulls among them, whether a batch follows the stored rows or overlaps them', async () => {
    // Filled into DuckDB's vectors as raw words (chunk-append.ts): every sign and word boundary,
    // across more than one chunk of 2,048 rows.
    const wide = [2 ** 53 - 1, -(2 ** 53 - 1), -1, 0, 1, 2 ** 32, -(2 ** 32), 2 ** 32 - 1, -(2 ** 32) - 1, 2 ** 31, -(2 ** 31) - 1, null];
    const narrow = [2 ** 31 - 1, -(2 ** 31), -1, 0, 65_536, -65_537];
    const rows = Array.from({ length: 5000 }, (_, i) =>
      sampleFeatures(i, {
        asn: wide[i % wide.length]!,
        input_tokens: wide[(i + 5) % wide.length]!,
        account_created_at: wide[(i + 7) % wide.length]!,
        n_messages: narrow[i % narrow.length]!,
        status: i % 7 === 0 ? null : narrow[(i + 1) % narrow.length]!,
        elicitation: [-0.25, 1e-300, -1e300, 0.5][i % 4]!,
      }),
    ).sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
    const stores = { after: await openDuckDbStore(freshPath()), overlapping: await openDuckDbStore(freshPath()) };
    try {
      for (const s of Object.values(stores)) assert.deepEqual(await s.append(rows.slice(0, 2500), [], { source, line: 2500, done: false }), { inserted: 2500, duplicates: 0 });
      // The first stores the rest straight after its rows; the second is handed them again with the stored ones, and compares.
      assert.deepEqual(await stores.after.append(rows.slice(2500), [], { source, line: 5000, done: true }), { inserted: 2500, duplicates: 0 });
      assert.deepEqual(await stores.overlapping.append(rows, [], { source, line: 5000, done: true }), { inserted: 2500, duplicates: 2500 });
      for (const s of Object.values(stores)) {
        const out = [];
        for await (const batch of s.replay()) out.push(...batch);
        assert.deepEqual(out, rows);
      }
    } finally {
      await stores.after.close();
      await stores.overlapping.close();
    }
  });

  it('folds appended rows into the file every row group, so that they do not pile up in memory and the WAL', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    const walBytes = (): number => (existsSync(p + '.wal') ? statSync(p + '.wal').size : 0);
    try {
      let wal = 0;
      for (let b = 0; b < 7; b++) {
        const rows = Array.from({ length: 20_000 }, (_, i) => sampleFeatures(b * 20_000 + i, { ts: 1_700_000_000_000 + b * 20_000 + i }));
        await s.append(rows, [], { source, line: (b + 1) * 20_000, done: false });
        if (b === 5) wal = walBytes();
      }
      // Six batches (120,000 rows) are all in the WAL; the seventh passes a row group and is folded in.
      assert.ok(wal > 20_000_000, `the WAL holds the first six batches (${wal} bytes)`);
      assert.ok(walBytes() < 1_000_000, `the WAL after a row group was folded in: ${walBytes()} bytes`);
      assert.equal((await s.counts()).exchanges, 140_000);
    } finally {
      await s.close();
    }
  });

  it('keeps no more than a few row groups of written blocks cached after a checkpoint, however many it stored', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    try {
      // Prompts of random text, so that the blocks written stay large once compressed.
      for (let b = 0; b < 7; b++) {
        const rows = Array.from({ length: 20_000 }, (_, i) =>
          sampleFeatures(b * 20_000 + i, { ts: 1_700_000_000_000 + b * 20_000 + i, prompt_preview: randomBytes(400).toString('hex') }),
        );
        await s.append(rows, [], { source, line: (b + 1) * 20_000, done: false });
      }
      const written = statSync(p).size;
      const cached = (await s.engineMemory!()).byTag['BASE_TABLE'] ?? 0;
      assert.ok(written > 64 * 2 ** 20, `the row group written is large enough to tell (${written} bytes)`);
      assert.ok(cached <= 32 * 2 ** 20, `DuckDB still caches ${cached} bytes of written blocks after the checkpoint (file: ${written} bytes)`);
    } finally {
      await s.close();
    }
  });

  it('folds the rows in at the next batch when a checkpoint was refused because a replay was under way', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    const walBytes = (): number => (existsSync(p + '.wal') ? statSync(p + '.wal').size : 0);
    const batch = (b: number, n: number) => Array.from({ length: n }, (_, i) => sampleFeatures(b * 20_000 + i, { ts: 1_700_000_000_000 + b * 20_000 + i }));
    try {
      await s.append(batch(0, 10), [], { source, line: 10, done: false });
      // A replay holds a transaction open on its own connection: DuckDB refuses a checkpoint meanwhile.
      const replay = s.replay(5)[Symbol.asyncIterator]();
      await replay.next();
      for (let b = 1; b <= 7; b++) await s.append(batch(b, 20_000), [], { source, line: b * 20_000, done: false });
      assert.ok(walBytes() > 20_000_000, `the checkpoint was refused during the replay (WAL ${walBytes()} bytes)`);
      // The replay read what was stored when it began (its snapshot); once read to its end, its transaction is over.
      let replayed = 5;
      for (let r = await replay.next(); !r.done; r = await replay.next()) replayed += r.value.length;
      assert.equal(replayed, 10);
      await s.append(batch(8, 10), [], { source, line: 160_010, done: true });
      assert.ok(walBytes() < 1_000_000, `the rows were folded in at the batch after the replay: WAL ${walBytes()} bytes`);
      assert.equal((await s.counts()).exchanges, 140_020);
    } finally {
      await s.close();
    }
  });

  it('stores each exchange once with the time it was ingested', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    const before = Date.now();
    await s.append([sampleFeatures(1), sampleFeatures(2)], [], { source, line: 2, done: true });
    await s.close();
    const rows = await query(p, 'SELECT count(*), count(DISTINCT id), min(epoch_ms(ingested_at)) FROM exchanges');
    assert.equal(rows[0]![0], 2);
    assert.equal(rows[0]![1], 2);
    assert.ok(Number(rows[0]![2]) >= before - 1000);
  });

  it('replay fails with a closed-store error when the store closes under it', async () => {
    const s: Store = await openDuckDbStore(':memory:');
    await s.append(
      Array.from({ length: 30_000 }, (_, i) => sampleFeatures(i)),
      [],
      { source, line: 1, done: true },
    );
    const it = s.replay(1000)[Symbol.asyncIterator]();
    await it.next();
    await s.close();
    await rejectsWith(
      (async () => {
        for (;;) if ((await it.next()).done) break;
      })(),
      'closed',
      /it was closed during the replay$/,
    );
  });
});

describe('DuckDB text columns', () => {
  // Short ASCII texts go into DuckDB's vectors inline and a chunk's repeats of a longer text
  // are copied from its first row (chunk-append.ts): every shape at and around those limits,
  // over several chunks of 2,048 rows, through both write paths, must come back as written.
  const shapes = ['', 'a', 'US', 'exactly12chr', 'thirteen_chrs', 'é', 'abcdefghijké', 'ab🚀', '🚀🚀🚀🚀🚀🚀', 'a'.repeat(11) + 'ü', 'a fairly long user agent/1.2.3 (Linux; x86_64)'];
  const textOf = (i: number, salt: number): string => (i % 7 === 3 ? `unique text ${i} of the test, long enough to leave the inline form` : shapes[(i * salt) % shapes.length]!);
  const rows = Array.from({ length: 5000 }, (_, i) =>
    sampleFeatures(i, {
      user_agent: i % 5 === 0 ? null : textOf(i, 3),
      ip: textOf(i, 5),
      org_id: i % 4 === 0 ? null : textOf(i, 7),
      email_domain: i % 6 === 0 ? null : textOf(i, 11),
      harness_sig: textOf(i, 13),
      phrase_sigs: i % 2 ? textOf(i, 17) : textOf(i + 1, 17),
    }),
  );
  const fields = ['id', 'user_agent', 'ip', 'org_id', 'email_domain', 'harness_sig', 'phrase_sigs', 'account_id', 'conversation_id'] as const;
  const pick = (r: (typeof rows)[number]) => fields.map((f) => r[f]);

  it('gives back short, long, repeated, non-ASCII and null texts as written', async () => {
    const s = await openDuckDbStore(freshPath());
    try {
      // Batches that follow the stored rows, then one that overlaps them (the other write path).
      await s.append(rows.slice(0, 3000), [], { source, line: 3000, done: false });
      await s.append([...rows.slice(3000), ...rows.slice(0, 100)], [], { source, line: 5100, done: true });
      const back = new Map<string, unknown[]>();
      for await (const b of s.replay(997)) for (const r of b) back.set(r.id, pick(r));
      assert.equal(back.size, rows.length);
      for (const r of rows) assert.deepEqual(back.get(r.id), pick(r), r.id);
    } finally {
      await s.close();
    }
  });
});

describe('DuckDB prompt previews, kept once each', () => {
  const preview = (k: number): string => `Solve problem ${k} step by step and show every step of your reasoning.`;
  /** 300 exchanges over 3 previews, every fifth with none. */
  const rows = Array.from({ length: 300 }, (_, i) => sampleFeatures(i, { prompt_preview: i % 5 === 0 ? null : preview(i % 3) }));
  const previewsById = async (s: Store): Promise<Map<string, string | null>> => {
    const out = new Map<string, string | null>();
    for await (const b of s.replay(37)) for (const r of b) out.set(r.id, r.prompt_preview);
    return out;
  };

  it('stores each text once and gives every exchange its own, in a replay and on its account page', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    try {
      // Two batches that follow the stored rows, then one that overlaps them (the other write path).
      await s.append(rows.slice(0, 100), [], { source, line: 100, done: false });
      await s.append(rows.slice(100, 200), [], { source, line: 200, done: false });
      await s.append([...rows.slice(200), ...rows.slice(0, 10)], [], { source, line: 300, done: true });
      assert.deepEqual(await previewsById(s), new Map(rows.map((r) => [r.id, r.prompt_preview])));
      const page = await s.accountExchanges(rows[1]!.account_id, { limit: 500, offset: 0 });
      const mine = rows.filter((r) => r.account_id === rows[1]!.account_id);
      assert.equal(page.total, mine.length);
      assert.deepEqual(new Map(page.items.map((e) => [e.id, e.prompt_preview])), new Map(mine.map((r) => [r.id, r.prompt_preview])));
    } finally {
      await s.close();
    }
    assert.deepEqual(await query(p, 'SELECT count(*), count(DISTINCT sig) FROM prompt_previews'), [[3, 3]]);
    assert.deepEqual(await query(p, 'SELECT count(prompt_preview), count(preview_sig), count(DISTINCT preview_sig) FROM exchanges'), [[0, 240, 3]]);
  });

  it('stores a preview again after the batch that first brought it was rolled back', async () => {
    const s = await openDuckDbStore(':memory:');
    try {
      // A bad record without a file is refused inside the transaction, after the batch's previews were written.
      const bad = { file: null as unknown as string, line: 1, reason: 'not JSON', excerpt: '{' };
      await assert.rejects(s.append(rows.slice(0, 10), [bad], { source, line: 10, done: false }));
      await s.append(rows.slice(10, 20), [], { source, line: 20, done: true });
      const got = await previewsById(s);
      assert.equal(got.size, 10);
      for (const r of rows.slice(10, 20)) assert.equal(got.get(r.id), r.prompt_preview, r.id);
    } finally {
      await s.close();
    }
  });

  it('reads the previews a schema 2 store kept with its exchanges, read-only or migrated, and keeps new ones apart', async () => {
    const p = freshPath();
    const s = await openDuckDbStore(p);
    await s.append(rows.slice(0, 50), [], { source, line: 50, done: false });
    await s.close();
    // The store as schema 2 left it: each preview in its exchange's row, no signatures, no table of previews.
    const instance = await DuckDBInstance.create(p);
    const conn = await instance.connect();
    for (const sql of [
      'UPDATE exchanges SET prompt_preview = (SELECT any_value(preview) FROM prompt_previews WHERE sig = exchanges.preview_sig)',
      'ALTER TABLE exchanges DROP COLUMN preview_sig',
      'DROP TABLE prompt_previews',
      'DELETE FROM schema_version',
      'INSERT INTO schema_version (version) VALUES (2)',
    ])
      await conn.run(sql);
    conn.closeSync();
    instance.closeSync();

    const r = await openDuckDbStore(p, { readOnly: true });
    try {
      assert.deepEqual(await previewsById(r), new Map(rows.slice(0, 50).map((x) => [x.id, x.prompt_preview])));
    } finally {
      await r.close();
    }
    const w = await openDuckDbStore(p);
    try {
      await w.append(rows.slice(50, 100), [], { source, line: 100, done: true });
      assert.deepEqual(await previewsById(w), new Map(rows.slice(0, 100).map((x) => [x.id, x.prompt_preview])));
    } finally {
      await w.close();
    }
    assert.deepEqual(await query(p, 'SELECT max(version) FROM schema_version'), [[SCHEMA_VERSION]]);
    assert.deepEqual(await query(p, 'SELECT count(prompt_preview), count(preview_sig) FROM exchanges'), [[40, 40]]);
  });
});
