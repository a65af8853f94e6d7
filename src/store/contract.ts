/**
 * The contract every Store backend passes. A backend's test file calls runStoreContract with
 * a function that opens a fresh, empty store; the same tests then hold DuckDB and any later
 * backend (ClickHouse) to the same behaviour.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { columnsOfRows } from './column-batch.js';
import type { ExchangeFeatures } from '../core/features.js';
import type { ScanReport } from '../core/report.js';
import type { BadRecord, IngestCheckpoint, SourceKey, Store } from './store.js';

export interface StoreContractOptions {
  /**
   * For backends whose data outlives close(): makes a new, empty location and returns a
   * function that opens it, the same location on every call. Without it the tests of
   * persistence are skipped.
   */
  persistent?: () => () => Promise<Store>;
}

const BASE_TS = Date.parse('2026-04-22T00:00:00.000Z');
const CAPS = ['coding', 'reasoning', 'agentic_tool_use', 'general_chat'] as const;

/**
 * A deterministic, varied exchange: nullable fields alternate between null and a value,
 * booleans take all their values, token counts run past 2^32, and `ts` repeats so that ties
 * must be broken by id.
 */
export function sampleFeatures(i: number, over: Partial<ExchangeFeatures> = {}): ExchangeFeatures {
  const full = i % 2 === 0;
  return {
    id: `ex_${String(i).padStart(7, '0')}`,
    // Scattered so that insertion order is not time order, and every ts is shared by two rows.
    ts: BASE_TS + Math.floor(((i * 7919) % 10_007) / 2) * 1000,
    account_id: `acct_${i % 17}`,
    org_id: full ? `org_${i % 5}` : null,
    api_key_id: full ? `key_${i % 9}` : null,
    model: i % 3 ? 'model-large-2' : 'model-small-1',
    conversation_id: full ? `conv_${i >> 2}` : null,
    ip: full ? `198.51.100.${i % 250}` : null,
    subnet: full ? '198.51.100.0/24' : null,
    asn: full ? 4_294_967_295 - (i % 7) : null,
    country: full ? (i % 4 ? 'US' : 'SG') : null,
    user_agent: full ? 'sdk-python/1.40.0 (Linux; x86_64) ünïcødé 🚀 "quoted" \\ back' : null,
    tier: full ? 'tier_2' : null,
    account_created_at: full ? Date.parse('2025-01-01T00:00:00.000Z') + i : null,
    payment_fp: full ? `pfp_${(i * 31) % 97}` : null,
    email_domain: full ? 'example.com' : null,
    verified: i % 3 === 0 ? null : i % 3 === 1,
    n_messages: 1 + (i % 40),
    n_user_turns: 1 + (i % 20),
    n_tool_results: i % 6,
    n_tools: i % 11,
    tools_sig: i % 11 ? `ts${(i % 11).toString(16).padStart(15, '0')}` : '',
    system_sig: i % 4 ? '9f86d081884c7d65' : '',
    harness_sig: `h${(i % 13).toString(16).padStart(15, '0')}`,
    template_prefix: `tp_${i % 29}`,
    template_suffix: `tsf_${i % 31}`,
    template_simhash: ((i * 2654435761) >>> 0).toString(16).padStart(8, '0') + ((i * 40503) >>> 0).toString(16).padStart(8, '0'),
    prompt_hash: `ph_${i}`,
    phrase_sigs: i % 3 ? `${(i * 2654435761 >>> 0).toString(16).padStart(8, '0')} 0000beef` : '',
    prompt_chars: 40 + ((i * 37) % 12_000),
    capability: CAPS[i % CAPS.length]!,
    elicitation: [0, 1, 0.1, 1 / 3, 0.7000000000000001][i % 5]!,
    grading: i % 5 === 0,
    max_tokens: full ? 64_000 : null,
    thinking_budget: i % 4 === 0 ? 32_000 : null,
    stream: i % 3 === 0 ? null : i % 3 === 2,
    input_tokens: full ? 1_200_000 + i : null,
    output_tokens: full ? 2 ** 40 + i : i % 4 === 1 ? Number.MAX_SAFE_INTEGER - i : null,
    reasoning_tokens: i % 4 === 0 ? 3_000_000_000 + i : null,
    status: full ? 200 : i % 5 === 1 ? 529 : null,
    prompt_preview: full ? `Explain step by step, line ${i}:\n\t“why” — 漢字` : null,
    ...over,
  };
}

function inTimeOrder(rows: readonly ExchangeFeatures[]): ExchangeFeatures[] {
  return [...rows].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

async function replayAll(store: Store, batchSize?: number): Promise<{ rows: ExchangeFeatures[]; sizes: number[] }> {
  const rows: ExchangeFeatures[] = [];
  const sizes: number[] = [];
  for await (const batch of store.replay(batchSize)) {
    sizes.push(batch.length);
    for (const r of batch) rows.push(r);
  }
  return { rows, sizes };
}

const src: SourceKey = { key: 'a.jsonl:1024:1776816000000', path: 'logs/a.jsonl' };
const other: SourceKey = { key: 'b.jsonl:2048:1776816000000', path: 'logs/b.jsonl' };
const at = (line: number, done = false, source = src): IngestCheckpoint => ({ source, line, done });

function badRecord(line: number, file = 'logs/a.jsonl'): BadRecord {
  return { file, line, reason: `Cannot parse line ${line} of "${file}": unexpected end of JSON input`, excerpt: '{"id":"req_1","ts":' };
}

export function sampleReport(generatedAt = '2026-11-22T10:00:00.000Z'): ScanReport {
  return {
    generated_at: generatedAt,
    input: { exchanges: 3200, accounts: 41, bad_records: 2, files: ['logs/a.jsonl'] },
    campaigns: [
      {
        id: 'cmp_01',
        confidence: 0.93,
        accounts: ['acct_1', 'acct_2', 'acct_3'],
        exchanges: 2400,
        first_seen: '2026-04-22T00:00:00.000Z',
        last_seen: '2026-04-23T11:59:59.999Z',
        first_flagged_at: '2026-04-22T03:10:00.000Z',
        capabilities: { coding: 0.6, reasoning: 0.4 },
        tactics: ['hydra_proxy', 'cot_elicitation'],
        indicators: {
          ips: ['198.51.100.7'],
          asns: [64500],
          payment_fingerprints: ['pfp_1'],
          templates: ['tp_1'],
          user_agents: ['sdk-python/1.40.0'],
          harnesses: ['h000000000000001'],
          subnets: ['198.51.100.0/24'],
        },
        explanation: '3 accounts share a harness and a payment fingerprint; 71% of prompts ask for the reasoning itself',
        links: { harness: 3, payment_fp: 2 },
      },
      {
        id: 'cmp_02',
        confidence: 0.55,
        accounts: ['acct_9'],
        exchanges: 300,
        first_seen: '2026-04-22T05:00:00.000Z',
        last_seen: '2026-04-22T06:00:00.000Z',
        capabilities: {},
        tactics: [],
        indicators: { ips: [], asns: [], payment_fingerprints: [], templates: [], user_agents: [], harnesses: [], subnets: [] },
        explanation: 'one account sweeps capabilities',
        links: {},
      },
    ],
    accounts: [
      { account_id: 'acct_1', risk: 0.97, verdict: 'distillation', campaign_id: 'cmp_01', first_flagged_at: '2026-04-22T03:10:00.000Z', reasons: ['harness shared with 2 accounts'], exchanges: 900 },
      { account_id: 'acct_9', risk: 0.5, verdict: 'suspicious', campaign_id: 'cmp_02', reasons: ['capability sweep'], exchanges: 300 },
      { account_id: 'acct_20', risk: 0.02, verdict: 'benign', reasons: [], exchanges: 12 },
    ],
    engine: { version: '0.1.0', params: { window_minutes: 60, nested: { on: true } } },
  };
}

async function using<T>(open: () => Promise<Store>, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await open();
  try {
    return await fn(s);
  } finally {
    await s.close();
  }
}

export function runStoreContract(name: string, open: () => Promise<Store>, options: StoreContractOptions = {}): void {
  describe(`${name} store contract`, () => {
    it('an empty store counts nothing, replays nothing and has no report', () =>
      using(open, async (s) => {
        assert.deepEqual(await s.counts(), { exchanges: 0, accounts: 0, bad_records: 0 });
        assert.deepEqual(await replayAll(s), { rows: [], sizes: [] });
        assert.deepEqual(await s.badRecords(), []);
        assert.equal(await s.latestReport(), null);
      }));

    it('append stores new rows and counts exchanges and distinct accounts', () =>
      using(open, async (s) => {
        const rows = Array.from({ length: 50 }, (_, i) => sampleFeatures(i));
        assert.deepEqual(await s.append(rows, [], at(50)), { inserted: 50, duplicates: 0 });
        assert.deepEqual(await s.counts(), { exchanges: 50, accounts: 17, bad_records: 0 });
      }));

    it('appendColumns stores rows laid out as columns by a feature worker as append stores the objects', () =>
      using(open, async (s) => {
        // Full rows (every nullable column set, text with escapes and non-ASCII) and bare ones.
        const rows = Array.from({ length: 30 }, (_, i) => sampleFeatures(i, i % 2 === 0 ? {} : { org_id: null, ip: null, stream: null, max_tokens: null, verified: null, asn: null }));
        const columns = (part: ExchangeFeatures[]) => {
          const c = columnsOfRows(part);
          assert.ok(c.ok);
          return c.columns;
        };
        assert.deepEqual(await s.appendColumns(columns(rows.slice(0, 20)), [], at(20)), { inserted: 20, duplicates: 0 });
        assert.deepEqual(await s.appendColumns(columns(rows.slice(10)), [], at(30)), { inserted: 10, duplicates: 10 });
        assert.deepEqual((await replayAll(s)).rows, [...rows].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1)));
      }));

    it('openBatch stores a batch added part by part as appendColumns stores it whole, once committed', () =>
      using(open, async (s) => {
        const rows = Array.from({ length: 60 }, (_, i) => sampleFeatures(i, i % 2 === 0 ? {} : { org_id: null, ip: null, verified: null }));
        const columns = (part: ExchangeFeatures[]) => {
          const c = columnsOfRows(part);
          assert.ok(c.ok);
          return c.columns;
        };
        // Parts out of time order (sampleFeatures scatters times), one id repeated across two parts.
        const first = s.openBatch();
        for (const part of [rows.slice(0, 7), rows.slice(7, 25), [rows[3]!], rows.slice(25, 40)]) await first.add(columns(part));
        assert.equal(first.rows, 41);
        assert.deepEqual(await first.commit([{ file: 'a.jsonl', line: 41, reason: 'not JSON', excerpt: '{' }], at(41)), { inserted: 40, duplicates: 1 });
        assert.deepEqual(await s.checkpoint(src), at(41));
        // A batch that repeats stored rows (a re-read after a crash) and brings new ones.
        const second = s.openBatch();
        await second.add(columns(rows.slice(30, 50)));
        await second.add(columns(rows.slice(50)));
        assert.deepEqual(await second.commit([], at(60, true)), { inserted: 20, duplicates: 10 });
        assert.deepEqual((await replayAll(s)).rows, [...rows].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1)));
        assert.deepEqual(await s.counts(), { exchanges: 60, accounts: 17, bad_records: 1 });
      }));

    it('openBatch stores nothing of a batch dropped, and goes on with the next', () =>
      using(open, async (s) => {
        const rows = Array.from({ length: 30 }, (_, i) => sampleFeatures(i));
        const c = columnsOfRows(rows);
        assert.ok(c.ok);
        const dropped = s.openBatch();
        await dropped.add(c.columns);
        await dropped.abandon();
        await assert.rejects(dropped.add(c.columns));
        assert.equal((await s.counts()).exchanges, 0);
        assert.equal(await s.checkpoint(src), null);
        const kept = s.openBatch();
        await kept.add(c.columns);
        assert.deepEqual(await kept.commit([], at(30, true)), { inserted: 30, duplicates: 0 });
        assert.equal((await s.counts()).exchanges, 30);
      }));

    it('append ignores ids already stored', () =>
      using(open, async (s) => {
        const rows = Array.from({ length: 20 }, (_, i) => sampleFeatures(i));
        await s.append(rows, [], at(20));
        assert.deepEqual(await s.append(rows, [], at(20)), { inserted: 0, duplicates: 20 });
        assert.deepEqual(await s.counts(), { exchanges: 20, accounts: 17, bad_records: 0 });
        const mixed = [...rows.slice(15), sampleFeatures(20), sampleFeatures(21)];
        assert.deepEqual(await s.append(mixed, [], at(22)), { inserted: 2, duplicates: 5 });
        assert.equal((await s.counts()).exchanges, 22);
      }));

    it('append keeps the stored row when an id comes again with other values', () =>
      using(open, async (s) => {
        const first = sampleFeatures(1);
        await s.append([first], [], at(1));
        await s.append([{ ...first, account_id: 'acct_other', output_tokens: 1 }], [], at(2));
        assert.deepEqual((await replayAll(s)).rows, [first]);
      }));

    it('append counts an id repeated within one batch as a duplicate', () =>
      using(open, async (s) => {
        const a = sampleFeatures(1);
        assert.deepEqual(await s.append([a, sampleFeatures(2), a], [], at(3)), { inserted: 2, duplicates: 1 });
        assert.equal((await s.counts()).exchanges, 2);
      }));

    it('append sets a bad record aside once per file and line', () =>
      using(open, async (s) => {
        const bad = badRecord(3);
        await s.append([], [bad, bad], at(3));
        await s.append([], [{ ...bad, reason: 'another reason' }], at(3));
        await s.append([], [badRecord(3, 'logs/b.jsonl')], at(3, false, other));
        assert.equal((await s.counts()).bad_records, 2);
        assert.deepEqual(await s.badRecords(), [bad, badRecord(3, 'logs/b.jsonl')]);
      }));

    it('badRecords returns records in file and line order, no more than the limit', () =>
      using(open, async (s) => {
        await s.append([], [badRecord(30), badRecord(4, 'logs/b.jsonl'), badRecord(7), badRecord(12)], at(30));
        assert.deepEqual(await s.badRecords(3), [badRecord(7), badRecord(12), badRecord(30)]);
        assert.equal((await s.badRecords()).length, 4);
        assert.deepEqual(await s.badRecords(0), []);
      }));

    it('checkpoint is null for a source never appended', () =>
      using(open, async (s) => {
        assert.equal(await s.checkpoint(src), null);
        await s.append([sampleFeatures(1)], [], at(1, false, other));
        assert.equal(await s.checkpoint(src), null);
      }));

    it('checkpoint returns the checkpoint of the last append of that source', () =>
      using(open, async (s) => {
        await s.append([sampleFeatures(1)], [], at(7));
        assert.deepEqual(await s.checkpoint(src), at(7));
        await s.append([sampleFeatures(2)], [badRecord(8)], at(8));
        await s.append([sampleFeatures(3)], [], at(5, false, other));
        assert.deepEqual(await s.checkpoint(src), at(8));
        // An empty batch still moves the checkpoint: the end of a file is worth recording.
        await s.append([], [], at(9, true));
        assert.deepEqual(await s.checkpoint(src), at(9, true));
        assert.deepEqual(await s.checkpoint(other), at(5, false, other));
      }));

    it('sources lists every input appended, with its latest checkpoint', () =>
      using(open, async (s) => {
        assert.deepEqual(await s.sources(), []);
        await s.append([sampleFeatures(1)], [], at(7));
        await s.append([sampleFeatures(2)], [], at(5, true, other));
        await s.append([], [], at(9, true));
        const got = await s.sources();
        assert.deepEqual(
          [...got].sort((a, b) => a.source.path.localeCompare(b.source.path)),
          [at(9, true), at(5, true, other)],
        );
      }));

    it('replay returns every field as appended, in time order with ties broken by id', () =>
      using(open, async (s) => {
        const rows = Array.from({ length: 3000 }, (_, i) => sampleFeatures(i));
        // Extremes of every type, and two rows that differ only in id and tie on ts.
        rows.push(
          sampleFeatures(900_001, { ts: BASE_TS, elicitation: 5e-324, output_tokens: Number.MAX_SAFE_INTEGER, input_tokens: 0, n_tools: 2_147_483_647 }),
          sampleFeatures(900_000, { ts: BASE_TS, tools_sig: '', system_sig: '', prompt_preview: '', verified: false, stream: false, grading: false }),
          sampleFeatures(900_002, { ts: 0, account_created_at: -86_400_000, status: 0 }),
        );
        await s.append(rows.slice(0, 1700), [], at(1700));
        await s.append(rows.slice(1700), [], at(rows.length, true));
        const { rows: got } = await replayAll(s, 1000);
        assert.equal(got.length, rows.length);
        const want = inTimeOrder(rows);
        for (let i = 0; i < want.length; i++) assert.deepStrictEqual(got[i], want[i], `row ${i} (${want[i]!.id})`);
        for (const r of got) {
          assert.equal(typeof r.ts, 'number');
          assert.ok(r.verified === null || typeof r.verified === 'boolean');
          assert.ok(r.output_tokens === null || typeof r.output_tokens === 'number');
        }
      }));

    it('replay yields batches of the batch size when the store holds more rows than one batch', () =>
      using(open, async (s) => {
        const rows = Array.from({ length: 25_000 }, (_, i) => sampleFeatures(i));
        for (let i = 0; i < rows.length; i += 10_000) await s.append(rows.slice(i, i + 10_000), [], at(i + 10_000));
        const { rows: got, sizes } = await replayAll(s, 10_000);
        assert.deepEqual(sizes, [10_000, 10_000, 5_000]);
        assert.deepEqual(
          got.map((r) => r.id),
          inTimeOrder(rows).map((r) => r.id),
        );
        const { sizes: defaultSizes } = await replayAll(s);
        assert.ok(defaultSizes.length > 1 && defaultSizes.every((n) => n <= 10_000), 'the default batch is 10,000 rows');
      }));

    it('replay leaves the store usable when the reader stops early', () =>
      using(open, async (s) => {
        await s.append(
          Array.from({ length: 5000 }, (_, i) => sampleFeatures(i)),
          [],
          at(5000),
        );
        let seen = 0;
        for await (const batch of s.replay(100)) {
          seen += batch.length;
          if (seen >= 300) break;
        }
        assert.equal(seen, 300);
        await s.append([sampleFeatures(6000)], [], at(5001));
        assert.equal((await s.counts()).exchanges, 5001);
        assert.equal((await replayAll(s, 4000)).rows.length, 5001);
      }));

    it('append stores nothing of a batch with an invalid row, not even its checkpoint', () =>
      using(open, async (s) => {
        await s.append([sampleFeatures(1)], [], at(1));
        const batch = [sampleFeatures(2), sampleFeatures(3), sampleFeatures(4, { id: null as unknown as string }), sampleFeatures(5)];
        await assert.rejects(s.append(batch, [badRecord(6)], at(6)));
        assert.deepEqual(await s.counts(), { exchanges: 1, accounts: 1, bad_records: 0 });
        assert.deepEqual(await s.checkpoint(src), at(1));
        // Nothing of the failed batch lingers to be stored by the next one.
        assert.deepEqual(await s.append([sampleFeatures(7)], [], at(7)), { inserted: 1, duplicates: 0 });
        assert.deepEqual(
          (await replayAll(s)).rows.map((r) => r.id),
          inTimeOrder([sampleFeatures(1), sampleFeatures(7)]).map((r) => r.id),
        );
      }));

    it('append stores none of the rows of a batch whose bad record is refused', () =>
      using(open, async (s) => {
        const refused = { ...badRecord(3), file: null as unknown as string };
        const rows = Array.from({ length: 100 }, (_, i) => sampleFeatures(i));
        await assert.rejects(s.append(rows, [badRecord(2), refused], at(100)));
        assert.deepEqual(await s.counts(), { exchanges: 0, accounts: 0, bad_records: 0 });
        assert.equal(await s.checkpoint(src), null);
        assert.deepEqual(await s.append(rows, [badRecord(2)], at(100)), { inserted: 100, duplicates: 0 });
      }));

    it('append calls made without waiting are applied one after another', () =>
      using(open, async (s) => {
        const outcomes = await Promise.all(
          Array.from({ length: 8 }, (_, k) =>
            s.append(
              Array.from({ length: 500 }, (_, i) => sampleFeatures(k * 400 + i)),
              [badRecord(k)],
              at(k + 1),
            ),
          ),
        );
        assert.equal(outcomes.reduce((n, o) => n + o.inserted, 0), 7 * 400 + 500);
        assert.equal(outcomes.reduce((n, o) => n + o.duplicates, 0), 7 * 100);
        assert.deepEqual(await s.counts(), { exchanges: 7 * 400 + 500, accounts: 17, bad_records: 8 });
        assert.deepEqual(await s.checkpoint(src), at(8));
      }));

    it('latestReport returns the saved report whole', () =>
      using(open, async (s) => {
        const report = sampleReport();
        await s.saveReport(report);
        assert.deepEqual(await s.latestReport(), report);
      }));

    it('latestReport returns the last report saved when several were', () =>
      using(open, async (s) => {
        await s.saveReport(sampleReport('2026-11-22T10:00:00.000Z'));
        const second = { ...sampleReport('2026-11-23T10:00:00.000Z'), campaigns: [], accounts: [] };
        await s.saveReport(second);
        assert.deepEqual(await s.latestReport(), second);
      }));

    it('decisions are kept in order with who, when and before/after, the latest of each account current', () =>
      using(open, async (s) => {
        assert.deepEqual(await s.currentDecisions(), []);
        const none = { override: null, blocked: false };
        const first = { accountId: 'acct_d', at: '2026-05-01T10:00:00.000Z', actor: 'admin', origin: 'gw1', before: none, after: { override: null, blocked: true } };
        const second = { accountId: 'acct_d', at: '2026-05-01T11:00:00.500Z', actor: 'admin', origin: 'gw2', before: first.after, after: { override: 'throttle', blocked: true } };
        const other = { accountId: 'acct_e', at: '2026-05-01T10:30:00.000Z', actor: 'admin', origin: 'gw1', before: none, after: { override: 'allow', blocked: false } };
        await s.recordDecision(first);
        await s.recordDecision(other);
        await s.recordDecision(second);
        assert.deepEqual(await s.decisionHistory('acct_d'), [first, second]);
        assert.deepEqual(await s.currentDecisions(), [second, other]);
      }));

    it('imported indicators are kept with their bundle, producer and confidence, once each', () =>
      using(open, async (s) => {
        assert.deepEqual(await s.intelIndicators(), []);
        const harness = { bundleId: 'bundle--b1', producer: 'Lab A', indicatorId: 'indicator--i1', key: 'harness:9f3a', pattern: "[distillation-mark:kind = 'harness' AND distillation-mark:value = '9f3a']", confidence: 88, validFrom: '2026-04-22T00:00:00.000Z' };
        const asn = { bundleId: 'bundle--b1', producer: 'Lab A', indicatorId: 'indicator--i2', key: null, pattern: '[autonomous-system:number = 64500]', confidence: null, validFrom: null };
        assert.deepEqual(await s.importIntel([harness, asn]), { inserted: 2, duplicates: 0 });
        assert.deepEqual(await s.importIntel([harness, { ...harness, bundleId: 'bundle--b2' }]), { inserted: 1, duplicates: 1 });
        assert.deepEqual(await s.intelIndicators(), [harness, asn, { ...harness, bundleId: 'bundle--b2' }]);
      }));

    it('a closed store refuses further calls', async () => {
      const s = await open();
      await s.close();
      await assert.rejects(s.counts());
      await assert.rejects(s.append([sampleFeatures(1)], [], at(1)));
      await s.close();
    });

    if (options.persistent) {
      const persistent = options.persistent;
      it('a store keeps rows, bad records, checkpoints and reports across close and reopen', async () => {
        const reopen = persistent();
        const rows = Array.from({ length: 1200 }, (_, i) => sampleFeatures(i));
        await using(reopen, async (s) => {
          await s.append(rows, [badRecord(4)], at(1201, true));
          await s.saveReport(sampleReport());
        });
        await using(reopen, async (s) => {
          assert.deepEqual(await s.counts(), { exchanges: 1200, accounts: 17, bad_records: 1 });
          assert.deepEqual(await s.checkpoint(src), at(1201, true));
          assert.deepEqual(await s.badRecords(), [badRecord(4)]);
          assert.deepEqual(await s.latestReport(), sampleReport());
          assert.deepEqual((await replayAll(s, 500)).rows, inTimeOrder(rows));
          assert.deepEqual(await s.append(rows.slice(0, 10), [], at(1201, true)), { inserted: 0, duplicates: 10 });
        });
      });
    }
  });
}
