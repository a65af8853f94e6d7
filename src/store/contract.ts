/**
 * The contract every Store backend passes. Run it from a backend's test file with a factory
 * that opens a fresh, empty store.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExchangeFeatures } from '../core/features.js';
import type { ScanReport } from '../core/report.js';
import type { SourceKey, Store } from './store.js';

export function sampleFeatures(i: number, over: Partial<ExchangeFeatures> = {}): ExchangeFeatures {
  return {
    id: `ex_${String(i).padStart(6, '0')}`,
    ts: Date.parse('2026-04-22T00:00:00Z') + ((i * 7919) % 100_000) * 1000,
    account_id: `acct_${i % 17}`,
    org_id: i % 3 ? null : 'org_1',
    api_key_id: null,
    model: 'm-1',
    conversation_id: `c${i}`,
    ip: `198.51.100.${i % 200}`,
    subnet: '198.51.100.0/24',
    asn: 64500,
    country: i % 2 ? 'US' : null,
    user_agent: 'sdk/1.0',
    tier: 'standard',
    account_created_at: Date.parse('2025-01-01T00:00:00Z'),
    payment_fp: null,
    email_domain: 'example.com',
    verified: i % 2 === 0,
    n_messages: 3,
    n_user_turns: 2,
    n_tool_results: 0,
    n_tools: 1,
    tools_sig: 'ab',
    system_sig: '',
    harness_sig: 'h1',
    template_prefix: 'p1',
    template_suffix: 's1',
    template_simhash: '0123456789abcdef',
    prompt_hash: `q${i}`,
    prompt_chars: 120 + i,
    capability: 'coding',
    elicitation: i % 4 === 0 ? 1 : 0,
    grading: i % 5 === 0,
    max_tokens: i % 2 ? 4096 : null,
    thinking_budget: null,
    stream: true,
    input_tokens: 812,
    output_tokens: 2_000_000_000 + i,
    reasoning_tokens: null,
    status: 200,
    prompt_preview: i % 2 ? 'Write a function…' : null,
    ...over,
  };
}

const source: SourceKey = { key: 'k1', path: 'a.jsonl' };

async function all(store: Store, batch?: number): Promise<ExchangeFeatures[]> {
  const out: ExchangeFeatures[] = [];
  for await (const b of store.replay(batch)) out.push(...b);
  return out;
}

export function runStoreContract(name: string, open: () => Promise<Store>, reopen?: () => Promise<Store>): void {
  describe(`${name} store contract`, () => {
    it('append stores rows and counts them', async () => {
      const s = await open();
      try {
        const rows = Array.from({ length: 50 }, (_, i) => sampleFeatures(i));
        const out = await s.append(rows, [], { source, line: 50, done: false });
        assert.deepEqual(out, { inserted: 50, duplicates: 0 });
        assert.deepEqual(await s.counts(), { exchanges: 50, accounts: 17, bad_records: 0 });
      } finally {
        await s.close();
      }
    });

    it('append ignores ids already stored', async () => {
      const s = await open();
      try {
        const rows = Array.from({ length: 20 }, (_, i) => sampleFeatures(i));
        await s.append(rows, [], { source, line: 20, done: false });
        const again = await s.append([...rows.slice(10), sampleFeatures(99)], [], { source, line: 21, done: false });
        assert.deepEqual(again, { inserted: 1, duplicates: 10 });
        assert.equal((await s.counts()).exchanges, 21);
      } finally {
        await s.close();
      }
    });

    it('append sets a bad record aside once per file and line', async () => {
      const s = await open();
      try {
        const bad = { file: 'a.jsonl', line: 3, reason: 'Cannot parse line 3 of "a.jsonl": unexpected end of JSON', excerpt: '{"id":' };
        await s.append([], [bad], { source, line: 3, done: false });
        await s.append([], [bad], { source, line: 3, done: false });
        assert.equal((await s.counts()).bad_records, 1);
        assert.deepEqual(await s.badRecords(), [bad]);
      } finally {
        await s.close();
      }
    });

    it('checkpoint is null for an unknown source and follows the last append', async () => {
      const s = await open();
      try {
        assert.equal(await s.checkpoint(source), null);
        await s.append([sampleFeatures(1)], [], { source, line: 7, done: false });
        assert.deepEqual(await s.checkpoint(source), { source, line: 7, done: false });
        await s.append([], [], { source, line: 9, done: true });
        assert.deepEqual(await s.checkpoint(source), { source, line: 9, done: true });
      } finally {
        await s.close();
      }
    });

    it('replay returns every row in time order with every field as stored', async () => {
      const s = await open();
      try {
        const rows = Array.from({ length: 2500 }, (_, i) => sampleFeatures(i));
        await s.append(rows, [], { source, line: 2500, done: true });
        const got = await all(s, 1000);
        const want = [...rows].sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
        assert.equal(got.length, want.length);
        assert.deepEqual(got, want);
      } finally {
        await s.close();
      }
    });

    it('append stores nothing of a batch that fails, not even its checkpoint', async () => {
      const s = await open();
      try {
        await s.append([sampleFeatures(1)], [], { source, line: 1, done: false });
        const broken = sampleFeatures(2, { account_id: null as unknown as string });
        await assert.rejects(s.append([sampleFeatures(3), broken], [{ file: 'a.jsonl', line: 2, reason: 'x', excerpt: '' }], { source, line: 3, done: false }));
        assert.deepEqual(await s.counts(), { exchanges: 1, accounts: 1, bad_records: 0 });
        assert.equal((await s.checkpoint(source))?.line, 1);
      } finally {
        await s.close();
      }
    });

    it('saveReport keeps the latest results', async () => {
      const s = await open();
      try {
        assert.equal(await s.latestReport(), null);
        const report: ScanReport = {
          generated_at: '2026-11-22T10:00:00.000Z',
          input: { exchanges: 3, accounts: 2, bad_records: 0 },
          campaigns: [{ id: 'cmp_1', confidence: 0.9, accounts: ['a', 'b'], exchanges: 3, first_seen: 'x', last_seen: 'y', capabilities: { coding: 1 }, tactics: ['cot_elicitation'], indicators: { ips: [], asns: [], payment_fingerprints: [], templates: [], user_agents: [], harnesses: [], subnets: [] }, explanation: 'e', links: {} }],
          accounts: [{ account_id: 'a', risk: 0.9, verdict: 'distillation', campaign_id: 'cmp_1', reasons: ['r'], exchanges: 2 }],
        };
        await s.saveReport(report);
        await s.saveReport({ ...report, generated_at: '2026-11-23T10:00:00.000Z' });
        assert.equal((await s.latestReport())?.generated_at, '2026-11-23T10:00:00.000Z');
      } finally {
        await s.close();
      }
    });

    if (reopen) {
      it('keeps its data across close and reopen', async () => {
        const s = await open();
        await s.append([sampleFeatures(1), sampleFeatures(2)], [], { source, line: 2, done: true });
        await s.close();
        const again = await reopen();
        try {
          assert.equal((await again.counts()).exchanges, 2);
          assert.deepEqual(await again.checkpoint(source), { source, line: 2, done: true });
        } finally {
          await again.close();
        }
      });
    }
  });
}
