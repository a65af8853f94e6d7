// The store contract on a real ClickHouse engine: chdb embeds one in this process, and the
// store talks to it through @clickhouse/client as it would to a server. chdb holds one data
// folder per process, so each test gets a database of its own in one folder. If chdb cannot
// load, every test here fails with the reason: never skipped.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStoreContract, sampleFeatures } from '../contract.js';
import { openStore } from '../open.js';

const dir = mkdtempSync(join(tmpdir(), 'distillwatch-chdb-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => `chdb://${dir}?database=contract_${++n}`;

runStoreContract('ClickHouse (chdb)', () => openStore(fresh()), {
  persistent: () => {
    const url = fresh();
    return () => openStore(url);
  },
});

const source = { key: 'k', path: 'a.jsonl' };

describe('ClickHouse store (chdb)', () => {
  it('is refused read-only where no store was made, and opens read-only where one was', async () => {
    await assert.rejects(openStore(`chdb://${dir}?database=never_made`, { readOnly: true }), { code: 'not_a_store', message: /^Cannot open the store "chdb:\/\/.*\?database=never_made": there is no database "never_made"$/ });
    const url = fresh();
    const w = await openStore(url);
    await w.append([sampleFeatures(1), sampleFeatures(2)], [], { source, line: 2, done: true });
    await w.close();
    const r = await openStore(url, { readOnly: true });
    try {
      assert.deepEqual(await r.counts(), { exchanges: 2, accounts: 2, bad_records: 0 });
      // Its type has no write methods; a caller that casts past that is still refused.
      await assert.rejects((r as unknown as { append: (...a: unknown[]) => Promise<unknown> }).append([sampleFeatures(3)], [], { source, line: 3, done: true }), { code: 'read_only' });
    } finally {
      await r.close();
    }
  });

  it('refuses a second chdb folder in the same process, naming the one open', async () => {
    const s = await openStore(fresh());
    try {
      await assert.rejects(openStore(`chdb://${join(dir, 'other')}`), { code: 'in_use', message: /chdb holds one folder per process/ });
    } finally {
      await s.close();
    }
  });

  it('keeps counting each exchange once when the same batch was written twice behind the store (ReplacingMergeTree read FINAL)', async () => {
    const url = fresh();
    const s = await openStore(url);
    try {
      const rows = Array.from({ length: 300 }, (_, i) => sampleFeatures(i));
      await s.append(rows, [], { source, line: 300, done: true });
      // A writer that raced this one (another gateway replica) stored the same rows again:
      // the table holds them twice until a merge, and counts must not see it.
      const again = await openStore(url);
      try {
        // The second store's own duplicate check sees them; write behind it with plain SQL.
        await (again as unknown as { run(q: string): Promise<void> }).run('INSERT INTO {db}.exchanges SELECT * FROM {db}.exchanges');
        assert.equal((await again.counts()).exchanges, 300);
        let replayed = 0;
        for await (const b of again.replay(64)) replayed += b.length;
        assert.equal(replayed, 300);
      } finally {
        await again.close();
      }
    } finally {
      await s.close();
    }
  });
});
