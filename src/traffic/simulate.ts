/**
 * Runs a scenario: builds its actors, merges their exchanges into one stream in (nearly)
 * time order with a priority queue, and writes canonical JSONL plus the ground truth.
 * Memory is bounded by the number of actors, not the number of exchanges.
 */
import { createWriteStream, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';
import type { Writable } from 'node:stream';
import type { Exchange } from '../core/exchange.js';
import type { Actor, SimContext, Truth } from './actors.js';
import { adaptive, banEvasion, farming, hydra, relay, sweep, synchronized } from './playbooks.js';
import { batchPipeline, bystanders, codingAgent, enterprise, evalRun, ordinaryUser, releaseMover, saasApp, universityClass } from './populations.js';
import { builtInPrompts, loadDatasets, type PromptSource } from './prompts.js';
import { deriveSeed, Rng } from './rng.js';
import { SCENARIOS, type AttackSpec } from './scenario.js';
import { byKind, DAY, HOUR, Ids, ipIn } from './world.js';

export interface SimulateOptions {
  scenario: string;
  seed: number;
  datasetsDir?: string;
  scale?: number;
}

export interface Simulation {
  exchanges: Iterable<Exchange>;
  truth: Truth;
}

/** Min-heap of actors keyed by the time of their pending exchange. */
class ActorHeap {
  private readonly items: { ex: Exchange; ts: number; actor: Actor }[] = [];
  get size(): number {
    return this.items.length;
  }
  push(actor: Actor): void {
    const r = actor.next();
    if (r.done) return;
    this.items.push({ ex: r.value, ts: Date.parse(r.value.ts), actor });
    this.up(this.items.length - 1);
  }
  pop(): { ex: Exchange; actor: Actor } {
    const top = this.items[0]!;
    const last = this.items.pop()!;
    if (this.items.length > 0) {
      this.items[0] = last;
      this.down(0);
    }
    return top;
  }
  private up(i: number): void {
    const it = this.items;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (it[p]!.ts <= it[i]!.ts) break;
      [it[p], it[i]] = [it[i]!, it[p]!];
      i = p;
    }
  }
  private down(i: number): void {
    const it = this.items;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < it.length && it[l]!.ts < it[m]!.ts) m = l;
      if (r < it.length && it[r]!.ts < it[m]!.ts) m = r;
      if (m === i) return;
      [it[m], it[i]] = [it[i]!, it[m]!];
      i = m;
    }
  }
}

function attackActors(ctx: SimContext, rng: Rng, a: AttackSpec, op: string): Actor[] {
  const o = { op, accounts: a.accounts, perDay: a.perDay };
  switch (a.playbook) {
    case 'hydra':
      return hydra(ctx, rng, o);
    case 'synchronized':
      return synchronized(ctx, rng, o);
    case 'capability_sweep':
      return sweep(ctx, rng, o);
    case 'model_pivot':
      return sweep(ctx, rng, { ...o, pivot: true });
    case 'entry_point_farming':
      return farming(ctx, rng, o);
    case 'adaptive':
      return adaptive(ctx, rng, { ...o, ...(a.variant ? { variant: a.variant } : {}) });
    case 'ban_evasion':
      return banEvasion(ctx, rng, o);
    case 'relay':
      return relay(ctx, rng, o);
  }
}

export async function prepareSimulation(o: SimulateOptions): Promise<Simulation> {
  const spec = SCENARIOS[o.scenario];
  if (!spec) throw new Error(`Unknown scenario "${o.scenario}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  const prompts: PromptSource = o.datasetsDir ? await loadDatasets(o.datasetsDir) : builtInPrompts();
  const scale = o.scale ?? 1;
  const n = (x: number): number => Math.max(x > 0 ? 1 : 0, Math.round(x * scale));
  const start = Date.parse(spec.start);
  const end = start + spec.days * DAY;
  const models = { previous: 'frontier-1', current: 'frontier-2', next: 'frontier-3', nextReleaseAt: start + spec.releaseAfterHours * HOUR };
  const truth: Truth = {
    scenario: o.scenario,
    seed: o.seed,
    start: new Date(start).toISOString(),
    end: new Date(end).toISOString(),
    accounts: {},
    operators: {},
    bans: [],
    models: { ...models, nextReleaseAtIso: new Date(models.nextReleaseAt).toISOString() },
  };
  const nAttack = (x: number): number => (spec.scaleAttacks === false ? x : n(x));
  // The shared exits come from their own stream, so adding a population leaves the others' draws alone.
  const exitRng = new Rng(deriveSeed(o.seed, 1_000_003));
  const hydraAccounts = spec.attacks.filter((a) => a.playbook === 'hydra').reduce((m, a) => m + nAttack(a.accounts), 0);
  const proxyNets = byKind(['datacenter', 'residential', 'university']);
  const cloudNets = byKind(['cloud']);
  const exits = {
    proxy: Array.from({ length: Math.max(40, Math.round(hydraAccounts / 3)) }, () => {
      const net = exitRng.pick(proxyNets);
      return { ip: ipIn(net, exitRng), net };
    }),
    cloud: Array.from({ length: 12 }, () => {
      const net = exitRng.pick(cloudNets);
      return { ip: ipIn(net, exitRng), net };
    }),
  };
  const ctx: SimContext = { ids: new Ids(new Rng(deriveSeed(o.seed, 0))), exits, prompts, models, start, end, truth };
  let k = 1;
  const rng = (): Rng => new Rng(deriveSeed(o.seed, k++));
  const actors: Actor[] = [];
  const b = spec.benign;
  for (let i = 0; i < n(b.ordinary); i++) actors.push(ordinaryUser(ctx, rng()));
  for (let i = 0; i < n(b.saas); i++) actors.push(saasApp(ctx, rng(), b.saasPerDay, i % 2 === 1 ? 'tutor' : 'support'));
  for (let i = 0; i < n(b.enterprises); i++) actors.push(...enterprise(ctx, rng(), b.employees));
  for (let i = 0; i < n(b.classes); i++) actors.push(...universityClass(ctx, rng(), b.students));
  for (let i = 0; i < n(b.evalRuns); i++) actors.push(evalRun(ctx, rng()));
  for (let i = 0; i < n(b.codingAgents); i++) actors.push(codingAgent(ctx, rng()));
  for (let i = 0; i < n(b.releaseMovers); i++) actors.push(releaseMover(ctx, rng(), b.moverPerDay));
  for (let i = 0; i < n(b.batchPipelines); i++) actors.push(...batchPipeline(ctx, rng(), b.batchAccounts, b.batchPerDay));
  actors.push(...bystanders(ctx, rng(), { atHome: n(b.bystanders), resellerCustomers: n(b.resellerCustomers) }));
  // Operator names say nothing about the playbook: the truth file holds that.
  const opRng = rng();
  spec.attacks.forEach((a) => actors.push(...attackActors(ctx, rng(), { ...a, accounts: nAttack(a.accounts) }, `op_${opRng.hex(6)}`)));

  const jitter = rng();
  function* merged(): Generator<Exchange> {
    const heap = new ActorHeap();
    for (const a of actors) heap.push(a);
    while (heap.size > 0) {
      const { ex, actor } = heap.pop();
      // Logs merged from many servers are a little out of order: shift the written time by a few seconds.
      if (jitter.chance(0.05)) ex.ts = new Date(Date.parse(ex.ts) + Math.round(Math.max(-4000, Math.min(4000, jitter.normal(0, 2000))))).toISOString();
      yield ex;
      heap.push(actor);
    }
  }
  return { exchanges: merged(), truth };
}

async function write(out: Writable, s: string): Promise<void> {
  if (!out.write(s)) await once(out, 'drain');
}

export interface SimulationCounts {
  exchanges: number;
  accounts: number;
  maliciousAccounts: number;
}

/** Streams a scenario to `out` (.gz compresses) and writes the truth to `truthOut`. */
export async function writeSimulation(o: SimulateOptions & { out: string; truthOut: string }): Promise<SimulationCounts> {
  const sim = await prepareSimulation(o);
  const file = createWriteStream(o.out);
  const gz = o.out.endsWith('.gz') ? createGzip({ level: 1 }) : null;
  if (gz) gz.pipe(file);
  const sink: Writable = gz ?? file;
  let count = 0;
  let buf = '';
  for (const ex of sim.exchanges) {
    buf += JSON.stringify(ex) + '\n';
    count++;
    if (buf.length > 1 << 20) {
      await write(sink, buf);
      buf = '';
    }
  }
  if (buf) await write(sink, buf);
  sink.end();
  await once(file, 'close');
  writeFileSync(o.truthOut, JSON.stringify(sim.truth, null, 1) + '\n');
  const accounts = Object.values(sim.truth.accounts);
  return { exchanges: count, accounts: accounts.length, maliciousAccounts: accounts.filter((a) => a.malicious).length };
}
