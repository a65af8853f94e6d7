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
import type { RolledTimeline } from '../casework.js';
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

describe('ClickHouse casework (chdb) answers as DuckDB does', () => {
  it('gives the same decisions, audit, exchanges, hourly counts and indicator holders on the same rows', async () => {
    const { openDuckDbStore } = await import('../duckdb/store.js');
    const duck = await openDuckDbStore(':memory:');
    const ch = await openStore(fresh());
    try {
      const rows = Array.from({ length: 2000 }, (_, i) => sampleFeatures(i));
      const at = '2026-05-01T10:00:00.000Z';
      for (const s of [duck, ch]) {
        await s.append(rows, [], { source, line: rows.length, done: true });
        const audit = { at, actor: 'analyst', role: 'analyst', action: 'decision.dismiss', target: { kind: 'campaign' as const, id: 'cmp_1' }, why: 'shared_infrastructure: a proxy', before: null, after: { kind: 'dismiss' } };
        await s.recordCaseDecision({ kind: 'dismiss', reason: 'shared_infrastructure', target: { kind: 'campaign', id: 'cmp_1' }, at, actor: 'analyst', note: 'a proxy', marks: ['ip:198.51.100.7'], accounts: ['acct_1', 'acct_2'] }, audit);
        await s.recordCaseDecision({ kind: 'confirm', target: { kind: 'campaign', id: 'cmp_2' }, at, actor: 'analyst', note: '', marks: [], accounts: ['acct_3'] }, { ...audit, action: 'decision.confirm', target: { kind: 'campaign', id: 'cmp_2' } });
      }
      const accounts = ['acct_1', 'acct_2', 'acct_16', 'acct_none'];
      const indicators = [
        { kind: 'ip' as const, value: '198.51.100.2' },
        { kind: 'asn' as const, value: String(4_294_967_295) },
        { kind: 'template' as const, value: 'tp_3' },
        { kind: 'harness' as const, value: 'nothing' },
      ];
      const answers = async (s: typeof duck) => ({
        decisions: (await s.caseDecisions()).map(({ seq: _seq, ...d }) => d),
        audit: (await s.auditLog({ limit: 10, offset: 0 })).items.map(({ seq: _seq, ...a }) => a),
        auditOfOne: (await s.auditLog({ target: { kind: 'campaign', id: 'cmp_2' }, limit: 10, offset: 0 })).total,
        exchanges: await s.accountExchanges('acct_1', { limit: 7, offset: 3 }),
        activity: await s.hourlyActivity(accounts),
        totals: await s.hourlyTotals(),
        capabilities: (await s.hourlyCapabilities(accounts)).map((c) => ({ ...c, elicitation: Math.round(c.elicitation * 1e9) })),
        holdings: await s.indicatorHoldings(accounts, indicators),
        holders: await s.indicatorHolders('payment', 'pfp_31', 5),
        has: [await s.hasAccount('acct_3'), await s.hasAccount('acct_none')],
      });
      const want = await answers(duck);
      assert.ok(want.exchanges.items.length === 7 && want.holdings.length > 0 && want.holders.length > 0 && want.totals.length > 1, 'the rows exercise every query');
      assert.deepEqual(await answers(ch as unknown as typeof duck), want);
    } finally {
      await duck.close();
      await ch.close();
    }
  });

  it('gives the same rollup as DuckDB: each campaign\'s hours by verdict and capability, the store\'s hours, the graphs, and none for another report', async () => {
    const { openDuckDbStore } = await import('../duckdb/store.js');
    const duck = await openDuckDbStore(':memory:');
    const ch = await openStore(fresh());
    try {
      const rows = Array.from({ length: 2000 }, (_, i) => sampleFeatures(i));
      const input = {
        generatedAt: '2026-05-02T00:00:00.000Z',
        campaigns: [
          { id: 'cmp_1', members: [{ account_id: 'acct_1', verdict: 'distillation' as const }, { account_id: 'acct_2', verdict: 'suspicious' as const }] },
          { id: 'cmp_2', members: [{ account_id: 'acct_16', verdict: 'distillation' as const }] },
        ],
        graphs: [{ campaign_id: 'cmp_1', graph: { nodes: [{ id: 'acct_1', x: 0.5, y: -1 }], edges: [] } }],
      };
      for (const s of [duck, ch]) {
        await s.append(rows, [], { source, line: rows.length, done: true });
        await s.saveRollup(input);
      }
      const answers = async (s: typeof duck) => ({
        cmp1: await s.rolledTimeline(input.generatedAt, 'cmp_1'),
        cmp2: await s.rolledTimeline(input.generatedAt, 'cmp_2'),
        totals: await s.rolledTotals(input.generatedAt),
        graph: await s.rolledGraph(input.generatedAt, 'cmp_1'),
        noGraph: await s.rolledGraph(input.generatedAt, 'cmp_2'),
        otherReport: [await s.rolledTimeline('2026-05-03T00:00:00.000Z', 'cmp_1'), await s.rolledTotals('2026-05-03T00:00:00.000Z')],
      });
      // Sums of floats differ in their last bits by the order they were added in.
      const roundTimeline = (t: RolledTimeline | null) => t && { ...t, capabilities: t.capabilities.map((c) => ({ ...c, elicitation: Math.round(c.elicitation * 1e9) })) };
      const round = (a: Awaited<ReturnType<typeof answers>>) => ({ ...a, cmp1: roundTimeline(a.cmp1), cmp2: roundTimeline(a.cmp2) });
      const want = round(await answers(duck));
      assert.ok(want.cmp1 !== null && want.cmp1.activity.length > 1 && want.cmp1.capabilities.length > 0 && want.totals !== null && want.totals.length > 1 && want.graph !== null, 'the rollup has rows to compare');
      assert.deepEqual(want.otherReport, [null, null]);
      assert.deepEqual(round(await answers(ch as unknown as typeof duck)), want);
    } finally {
      await duck.close();
      await ch.close();
    }
  });
});
