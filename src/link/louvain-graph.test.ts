import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { UndirectedGraph } from 'graphology';
import type { LouvainOptions } from 'graphology-communities-louvain';
import { createRequire } from 'node:module';
import { LouvainGraph } from './louvain-graph.js';

const louvain = createRequire(import.meta.url)('graphology-communities-louvain') as (graph: unknown, options?: LouvainOptions) => Record<string, number>;

/** Seeded, as the linker seeds Louvain. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random account–indicator graph shaped like the linker's: groups of accounts sharing
 * their own indicators, a few indicators shared across groups, weights of the kinds.
 */
function randomBipartite(seed: number): { nodes: string[]; edges: [string, string, number][] } {
  const rnd = mulberry32(seed);
  const groups = 1 + Math.floor(rnd() * 6);
  const nodes: string[] = [];
  const edges: [string, string, number][] = [];
  const accounts: string[][] = [];
  for (let g = 0; g < groups; g++) {
    const n = 2 + Math.floor(rnd() * 40);
    accounts.push(Array.from({ length: n }, (_, i) => `a:acct_${g}_${i}`));
    nodes.push(...accounts[g]!);
  }
  const weights = [3, 2, 2, 1.5, 1, 1, 0.3];
  const keys = 5 + Math.floor(rnd() * 60);
  for (let k = 0; k < keys; k++) {
    const key = `i:k${k}`;
    nodes.push(key);
    const weight = weights[Math.floor(rnd() * weights.length)]!;
    // Mostly within one group, sometimes across all of them.
    const pool = rnd() < 0.8 ? accounts[Math.floor(rnd() * groups)]! : accounts.flat();
    const holders = new Set<string>();
    const m = 2 + Math.floor(rnd() * Math.min(pool.length, 30));
    while (holders.size < Math.min(m, pool.length)) holders.add(pool[Math.floor(rnd() * pool.length)]!);
    for (const h of [...holders].sort()) edges.push([h, key, weight]);
  }
  return { nodes, edges };
}

describe('LouvainGraph', () => {
  it('gives Louvain the same communities as a graphology graph with the same nodes and edges, on 200 random graphs', () => {
    let nontrivial = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const { nodes, edges } = randomBipartite(seed);
      const reference = new UndirectedGraph();
      const light = new LouvainGraph();
      const at = new Map<string, number>();
      for (const n of nodes) {
        reference.addNode(n);
        at.set(n, light.addNode(n));
      }
      for (const [a, b, weight] of edges) {
        reference.addEdge(a, b, { weight });
        light.addEdge(at.get(a)!, at.get(b)!, weight);
      }
      const opts = (): LouvainOptions => ({ getEdgeWeight: 'weight', resolution: 0.5, rng: mulberry32(42) });
      const want = louvain(reference, opts());
      const got = louvain(light, opts());
      assert.deepEqual(got, want, `graph ${seed}`);
      if (new Set(Object.values(want)).size > 1) nontrivial++;
    }
    assert.ok(nontrivial > 100, `most graphs have several communities (${nontrivial})`);
  });

  it('refuses a node added twice and an edge to a node it does not hold', () => {
    const g = new LouvainGraph();
    const x = g.addNode('a:x');
    assert.throws(() => g.addNode('a:x'), /added twice/);
    assert.throws(() => g.addEdge(x, 1, 1), /cannot join/);
    assert.throws(() => g.addEdge(x, x, 1), /cannot join/);
  });
});
