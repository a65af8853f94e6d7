/**
 * Runs a scenario: builds its actors, merges their exchanges into one stream in (nearly)
 * time order with a priority queue, and writes canonical JSONL plus the ground truth.
 * Memory is bounded by the number of actors, not the number of exchanges.
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Exchange } from '../core/exchange.js';
import type { Actor, SimContext, Truth } from './actors.js';
import { adaptive, banEvasion, farming, hydra, relay, sweep, synchronized } from './playbooks.js';
import { batchPipeline, bystanders, codingAgent, enterprise, evalRun, ordinaryUser, releaseMover, saasApp, universityClass } from './populations.js';
import { builtInPrompts, loadDatasets, type PromptSource } from './prompts.js';
import { LineWriter } from './line-writer.js';
import { writeShardsInWorkers } from './shard-writers.js';
import { deriveSeed, Rng } from './rng.js';
import { SCENARIOS, type AttackSpec, type ScenarioSpec } from './scenario.js';
import { byKind, DAY, HOUR, Ids, ipIn } from './world.js';

export interface SimulateOptions {
  scenario: string;
  seed: number;
  datasetsDir?: string;
  scale?: number;
  /**
   * Multiplies people's visits per day (ordinary users, bystanders at home, a reseller's
   * customers), so that a population of 100,000 accounts fits a run: fewer exchanges each,
   * the same networks and clients shared by chance. Attackers and products are not scaled.
   * @default 1
   */
  peopleVolume?: number;
  /** Shards the actors are cut into (see runShard). @default the scenario's, else 1 */
  shards?: number;
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
  pop(): { ex: Exchange; ts: number; actor: Actor } {
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
      return adaptive(ctx, rng, { ...o, ...(a.variant ? { variant: a.variant } : {}), ...(a.wrapping ? { wrapping: a.wrapping } : {}), ...(a.offBank ? { offBank: a.offBank } : {}) });
    case 'ban_evasion':
      return banEvasion(ctx, rng, o);
    case 'relay':
      return relay(ctx, rng, o);
  }
}

/** Loads the prompt source once; every shard reads it, none changes it. */
export async function loadPrompts(o: SimulateOptions): Promise<PromptSource> {
  return o.datasetsDir ? await loadDatasets(o.datasetsDir) : builtInPrompts();
}

function scenarioSpec(name: string): ScenarioSpec {
  const spec = SCENARIOS[name];
  if (!spec) throw new Error(`Unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
  return spec;
}

/** How many shards a run is cut into: part of what the traffic is, like the seed. */
export function shardCount(o: Pick<SimulateOptions, 'scenario' | 'shards'>): number {
  return o.shards ?? scenarioSpec(o.scenario).shards ?? 1;
}

export interface Constructed {
  accounts: number;
  bans: number;
}

/** An exchange with the time the merge orders it by (its time before the log jitter). */
export interface KeyedExchange {
  ex: Exchange;
  key: number;
}

/** One shard of a scenario: its exchanges in time order and the truth it registered. */
export interface ShardRun {
  items: Generator<KeyedExchange>;
  truth: Truth;
  /** Accounts and bans registered while the actors were built (the same in every shard); later ones belong to this shard alone. */
  constructed: Constructed;
}

// Stream indices for the shards' own draws, far above the actors' (which count from 1).
const SHARD_IDS_STREAM = 2_000_003;
const SHARD_JITTER_STREAM = 3_000_017;

/**
 * Builds the whole scenario (every shard builds the same accounts from the same streams) and
 * runs the actors of one shard: actor i belongs to shard i mod `shards`. With one shard this
 * is the scenario as it always was, draw for draw. With more, each shard draws its exchange
 * ids and log jitter from streams of its own, derived from (seed, shard), and actors that
 * share a stream or a bank (a hydra's accounts) share it only within their shard; so what a
 * shard writes depends on the seed and the shard count, never on which thread runs it.
 */
export function runShard(o: SimulateOptions, prompts: PromptSource, shard: number, shards: number): ShardRun {
  const spec = scenarioSpec(o.scenario);
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
  const ctx: SimContext = { ids: new Ids(new Rng(deriveSeed(o.seed, 0))), exits, prompts, models, start, end, truth, peopleVolume: o.peopleVolume ?? 1 };
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

  const jitter = shards === 1 ? rng() : new Rng(deriveSeed(o.seed, SHARD_JITTER_STREAM + shard));
  if (shards > 1) ctx.ids = new Ids(new Rng(deriveSeed(o.seed, SHARD_IDS_STREAM + shard)), shard, shards);
  const mine = actors.filter((_, i) => i % shards === shard);
  actors.length = 0;
  const constructed: Constructed = { accounts: Object.keys(truth.accounts).length, bans: truth.bans.length };
  function* merged(): Generator<KeyedExchange> {
    const heap = new ActorHeap();
    for (const a of mine) heap.push(a);
    mine.length = 0;
    while (heap.size > 0) {
      const { ex, ts, actor } = heap.pop();
      // Logs merged from many servers are a little out of order: shift the written time by a few seconds.
      if (jitter.chance(0.05)) ex.ts = new Date(ts + Math.round(Math.max(-4000, Math.min(4000, jitter.normal(0, 2000))))).toISOString();
      yield { ex, key: ts };
      heap.push(actor);
    }
  }
  return { items: merged(), truth, constructed };
}

/** Merges shards' streams by time, a tie going to the lower shard: the order every writer uses. */
export function* mergeShards(streams: Iterator<KeyedExchange>[]): Generator<KeyedExchange> {
  const heads = streams.map((s) => s.next());
  for (;;) {
    let m = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]!;
      if (!h.done && (m < 0 || h.value.key < (heads[m]!.value as KeyedExchange).key)) m = i;
    }
    if (m < 0) return;
    yield heads[m]!.value as KeyedExchange;
    heads[m] = streams[m]!.next();
  }
}

/**
 * The truth of a sharded run: the accounts and bans every shard built, then each shard's later
 * accounts (ban evasion's fresh pools...) and bans in shard order, operators counted again.
 */
export function mergeTruth(parts: readonly { truth: Truth; constructed: Constructed }[]): Truth {
  const first = parts[0]!.truth;
  const built = parts[0]!.constructed;
  const accounts: Truth['accounts'] = {};
  Object.entries(first.accounts).slice(0, built.accounts).forEach(([id, t]) => (accounts[id] = t));
  for (const p of parts) Object.entries(p.truth.accounts).slice(p.constructed.accounts).forEach(([id, t]) => (accounts[id] = t));
  const operators: Truth['operators'] = {};
  for (const t of Object.values(accounts)) {
    if (!t.operator) continue;
    const op = (operators[t.operator] ??= { playbook: t.playbook ?? 'unknown', accounts: 0 });
    op.accounts++;
  }
  return { ...first, accounts, operators, bans: [...first.bans.slice(0, built.bans), ...parts.flatMap((p) => p.truth.bans.slice(p.constructed.bans))] };
}

export async function prepareSimulation(o: SimulateOptions): Promise<Simulation> {
  const shards = shardCount(o);
  const prompts = await loadPrompts(o);
  const runs = Array.from({ length: shards }, (_, s) => runShard(o, prompts, s, shards));
  if (shards === 1) {
    const items = runs[0]!.items;
    return { exchanges: (function* () { for (const k of items) yield k.ex; })(), truth: runs[0]!.truth };
  }
  // The truth is complete once the stream is: later accounts are registered as it runs.
  const truth: Truth = { ...runs[0]!.truth };
  function* all(): Generator<Exchange> {
    for (const k of mergeShards(runs.map((r) => r.items))) yield k.ex;
    Object.assign(truth, mergeTruth(runs));
  }
  return { exchanges: all(), truth };
}

export interface SimulationCounts {
  exchanges: number;
  accounts: number;
  maliciousAccounts: number;
}

export interface WriteOptions extends SimulateOptions {
  out: string;
  truthOut: string;
  /** Threads generating shards: the output is the same whatever this is. @default one per core, at most one per shard */
  workers?: number;
}

/** Streams a scenario to `out` (.gz compresses) and writes the truth to `truthOut`. */
export async function writeSimulation(o: WriteOptions): Promise<SimulationCounts> {
  const shards = shardCount(o);
  const workers = Math.max(1, Math.min(o.workers ?? availableParallelism(), shards));
  const out = new LineWriter(o.out);
  let count = 0;
  let truth: Truth;
  if (workers === 1) {
    const sim = await prepareSimulation(o);
    for (const ex of sim.exchanges) {
      const wait = out.line(JSON.stringify(ex));
      if (wait) await wait;
      count++;
    }
    truth = sim.truth;
  } else {
    const r = await writeShardsInWorkers(o, shards, workers, out);
    count = r.exchanges;
    truth = mergeTruth(r.parts);
  }
  await out.close();
  writeFileSync(o.truthOut, JSON.stringify(truth, null, 1) + '\n');
  const accounts = Object.values(truth.accounts);
  return { exchanges: count, accounts: accounts.length, maliciousAccounts: accounts.filter((a) => a.malicious).length };
}
