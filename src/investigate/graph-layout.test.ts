import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ScanReport } from '../core/report.js';
import { computeCampaignGraph, LAID_OUT_MEMBERS, type GraphNode } from './graph.js';
import { layoutGraph } from './graph-layout.js';

/**
 * A campaign of `members` accounts, account i with i + 1 exchanges, sharing `ips` addresses
 * (account i on address i mod ips) and one harness, with a store that says who holds which.
 * Only the fields the graph reads are filled in.
 */
function campaignOf(members: number, ips: number) {
  const accounts = Array.from({ length: members }, (_, i) => `acct_${String(i).padStart(5, '0')}`);
  const shared = [
    ...Array.from({ length: ips }, (_, k) => ({ kind: 'ip', value: `10.0.0.${k}`, accounts: Math.ceil(members / ips) })),
    { kind: 'harness', value: 'h1', accounts: members },
  ];
  const report = {
    campaigns: [{ id: 'cmp_1', accounts, shared_indicators: shared }],
    accounts: accounts.map((a, i) => ({ account_id: a, verdict: 'distillation', exchanges: i + 1 })),
  } as unknown as ScanReport;
  const store = {
    indicatorHoldings: async (ids: readonly string[]) => ids.flatMap((_, i) => [{ account_id: ids[i]!, indicator: i % ips }, { account_id: ids[i]!, indicator: ips }]),
  };
  return { report, store };
}

const inUnitSquare = (n: GraphNode): boolean => n.x >= 0 && n.x <= 1 && n.y >= 0 && n.y <= 1;

describe("a campaign's graph layout", () => {
  it('lays out a campaign larger than the dashboard draws on its most active members, and places the rest beside what they share', async () => {
    const { report, store } = campaignOf(2400, 60);
    const g = (await computeCampaignGraph(store, report, 'cmp_1'))!;
    assert.equal(g.nodes.filter((n) => n.type === 'account').length, 2400);
    assert.equal(g.nodes.length, 2400 + 61);
    assert.ok(g.nodes.every(inUnitSquare), 'every node placed in the unit square');

    // The most active members (the last ones here) with the indicators they hold are laid out
    // by force among themselves: the same picture as that subgraph alone, up to the scale.
    const drawn = new Set(g.nodes.filter((n) => n.type === 'account' && n.exchanges > 2400 - LAID_OUT_MEMBERS).map((n) => n.id));
    assert.equal(drawn.size, LAID_OUT_MEMBERS);
    const coreEdges = g.edges.filter((e) => drawn.has(e.source));
    for (const e of coreEdges) drawn.add(e.target);
    const alone = layoutGraph([...drawn], coreEdges);
    const at = new Map(g.nodes.map((n) => [n.id, n]));
    // Same order of nodes along each axis as the subgraph laid out alone.
    const order = (pos: (id: string) => number) => [...drawn].sort((a, b) => pos(a) - pos(b) || (a < b ? -1 : 1));
    const byX = order((id) => alone.get(id)!.x);
    for (let i = 1; i < byX.length; i++) assert.ok(at.get(byX[i - 1]!)!.x <= at.get(byX[i]!)!.x + 0.002, `${byX[i - 1]} left of ${byX[i]}, as laid out alone`);

    // A member outside the core sits near its address, which the core placed.
    const ip = (k: number) => at.get(`ip:10.0.0.${k}`)!;
    let near = 0;
    for (let i = 0; i < 2400 - LAID_OUT_MEMBERS; i++) {
      const a = at.get(`acct_${String(i).padStart(5, '0')}`)!;
      const mid = { x: (ip(i % 60).x + at.get('harness:h1')!.x) / 2, y: (ip(i % 60).y + at.get('harness:h1')!.y) / 2 };
      if (Math.hypot(a.x - mid.x, a.y - mid.y) < 0.1) near++;
    }
    assert.equal(near, 2400 - LAID_OUT_MEMBERS, 'every member outside the core between its address and its harness');
    assert.ok(new Set(g.nodes.map((n) => `${n.x},${n.y}`)).size > g.nodes.length / 4, 'members on one address do not land on one point');
  });

  it('lays out as many members by force as the dashboard draws', () => {
    const web = readFileSync(new URL('../../src/web/graph.tsx', import.meta.url), 'utf8');
    assert.equal(Number(/MAX_MEMBERS_DRAWN = (\d+)/.exec(web)?.[1]), LAID_OUT_MEMBERS);
  });

  it('lays out a campaign the dashboard draws whole by force, every node, as before', async () => {
    const { report, store } = campaignOf(LAID_OUT_MEMBERS, 12);
    const g = (await computeCampaignGraph(store, report, 'cmp_1'))!;
    const alone = layoutGraph(
      g.nodes.map((n) => n.id),
      g.edges,
    );
    for (const n of g.nodes) assert.deepEqual({ x: n.x, y: n.y }, alone.get(n.id));
  });

  it('places nodes tied to nothing laid out outside the rest, and is the same whatever the order given', () => {
    const nodes = ['a', 'b', 'c', 'ip:x', 'lone'];
    const edges = [
      { source: 'a', target: 'ip:x' },
      { source: 'b', target: 'ip:x' },
      { source: 'c', target: 'ip:x' },
    ];
    const one = layoutGraph(nodes, edges, new Set(['a', 'ip:x']));
    const two = layoutGraph([...nodes].reverse(), [...edges].reverse(), new Set(['ip:x', 'a']));
    assert.deepEqual([...one], [...two]);
    assert.equal(one.size, 5);
    for (const p of one.values()) assert.ok(p.x >= 0 && p.x <= 1 && p.y >= 0 && p.y <= 1);
    const d = (u: string, v: string) => Math.hypot(one.get(u)!.x - one.get(v)!.x, one.get(u)!.y - one.get(v)!.y);
    assert.ok(d('b', 'ip:x') < d('lone', 'ip:x'), 'a node tied to the core is placed nearer it than one tied to nothing');
  });
});
