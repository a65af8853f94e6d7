/**
 * Per-account behaviour, updated one exchange at a time in event-time order. Memory per
 * account is bounded (capped sets, fixed-size arrays) because a large provider has
 * hundreds of thousands of active accounts and the engine holds all of them.
 */
import { FNV_SEED_A, fnv1a32Step } from '../signals/hash.js';
import { phrasesOf } from '../signals/item-sketch.js';
import { CountTable, promptTag, valueKey } from './count-table.js';
import { CAPABILITIES, type Capability, type ExchangeFeatures } from '../core/features.js';
import type { AccountId, CampaignId } from '../core/ids.js';
import type { AccountScore } from './account-score.js';
import { arrayBytes, EMPTY_TABLE, MAP_ENTRY, objectBytes, SET_ENTRY, stringBytes, typedArrayBytes } from './state-bytes.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Different prompts a sentence must wrap before it is the account's wrapper (as a template's habit, link/indicators.ts). */
const WRAPPER_MIN_USES = 3;
/** Sentences at two uses whose first prompt is kept (see `pendingWrapped`): bounded memory per account. */
const PENDING_WRAPPED_CAP = 64;
/** Hours of recent activity kept per account, for synchronisation between accounts. */
export const RECENT_HOURS = 168;
/** Models tracked per account (first use and count): a release pivot reads a handful; later ones are not tracked. */
const MODELS_CAP = 32;

/** A set that stops growing at `cap` but keeps counting what it would have held. */
export class CappedSet<T> {
  readonly items = new Set<T>();
  overflow = 0;
  /**
   * The value added last, as held: an account sends the same client, organisation and network
   * exchange after exchange, and a comparison with it spares hashing the value again.
   */
  private last: T | undefined = undefined;
  constructor(readonly cap: number) {}
  /** Adds `v`; true when it was not held before (new, or past the cap). */
  add(v: T): boolean {
    if (v === this.last || this.items.has(v)) return false;
    if (this.items.size < this.cap) {
      this.items.add(v);
      this.last = v;
    } else this.overflow++;
    return true;
  }
  get size(): number {
    return this.items.size + this.overflow;
  }
  /** Bytes held: the set and its entries, with each string's own bytes (`stringBytes` of its length). */
  get bytes(): number {
    let b = objectBytes(4) + EMPTY_TABLE + this.items.size * SET_ENTRY;
    for (const v of this.items) if (typeof v === 'string') b += stringBytes(v.length);
    return b;
  }
}

/** The list of a counter that holds nothing yet: shared, never written. */
const NO_BITS = new Uint16Array(0);

/**
 * Approximate count of distinct hex-hashed values in at most 1 KiB per account (linear
 * counting over an 8192-bit map: within about 2% up to tens of thousands of values). An
 * exact set would grow with every prompt a heavy account sends, and a scan's memory with it.
 * Until `FEW_MAX` bits are set they are kept as a list of bit numbers instead of the map: most
 * accounts send a few dozen different prompts, and the map was a tenth of what each cost. The
 * list and the map answer alike (the same bits set, the same estimate).
 */
export class DistinctCounter {
  private static readonly BITS = 8192;
  /** Bits kept as a list at most: 192 bytes, against the map's 1 KiB and its overhead. */
  private static readonly FEW_MAX = 96;
  /** The map, once more than FEW_MAX bits are set. */
  private bits: Uint32Array | null = null;
  /** Before the map: the set bits' numbers, in the order set (the first BITS - zeros slots). */
  private few: Uint16Array = NO_BITS;
  private zeros = DistinctCounter.BITS;

  /** `hexHash`: a uniformly distributed hash in hex; its first 8 digits pick the bit. */
  add(hexHash: string): void {
    this.addTag(promptTag(hexHash));
  }

  /** `tag`: the hash's first 8 hex digits as a number (`promptTag`), read once per exchange. */
  addTag(tag: number): void {
    const bit = tag & (DistinctCounter.BITS - 1);
    if (this.bits === null) {
      const set = DistinctCounter.BITS - this.zeros;
      for (let i = 0; i < set; i++) if (this.few[i] === bit) return;
      if (set < DistinctCounter.FEW_MAX) {
        if (set === this.few.length) {
          const grown = new Uint16Array(Math.min(DistinctCounter.FEW_MAX, Math.max(8, set * 2)));
          grown.set(this.few);
          this.few = grown;
        }
        this.few[set] = bit;
        this.zeros--;
        return;
      }
      this.bits = new Uint32Array(DistinctCounter.BITS / 32);
      for (let i = 0; i < set; i++) this.bits[this.few[i]! >>> 5]! |= 1 << (this.few[i]! & 31);
      this.few = NO_BITS;
    }
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.bits[word]! & mask) === 0) {
      this.bits[word]! |= mask;
      this.zeros--;
    }
  }

  get size(): number {
    return DistinctCounter.estimate(this.zeros);
  }

  get bytes(): number {
    if (this.bits !== null) return objectBytes(3) + typedArrayBytes(this.bits);
    return objectBytes(3) + (this.few.length > 0 ? typedArrayBytes(this.few) : 0);
  }

  /** Whether `hexHash` was (probably) added: never "no" for one that was. */
  has(hexHash: string): boolean {
    return this.hasTag(promptTag(hexHash));
  }

  hasTag(tag: number): boolean {
    return this.hasBit(tag & (DistinctCounter.BITS - 1));
  }

  private hasBit(bit: number): boolean {
    if (this.bits !== null) return (this.bits[bit >>> 5]! & (1 << (bit & 31))) !== 0;
    const set = DistinctCounter.BITS - this.zeros;
    for (let i = 0; i < set; i++) if (this.few[i] === bit) return true;
    return false;
  }

  /** Estimated count of values both counters hold (|A| + |B| - |A ∪ B|, the union from the OR of the maps). */
  shared(other: DistinctCounter): number {
    let zeros = 0;
    if (this.bits !== null && other.bits !== null) {
      for (let i = 0; i < this.bits.length; i++) zeros += 32 - popcount(this.bits[i]! | other.bits[i]!);
    } else {
      // One of them is a list: the union is the other's bits and the list's bits it lacks.
      const [list, rest] = this.bits === null ? [this, other] : [other, this];
      zeros = rest.zeros;
      const set = DistinctCounter.BITS - list.zeros;
      for (let i = 0; i < set; i++) if (!rest.hasBit(list.few[i]!)) zeros--;
    }
    return Math.max(0, this.size + other.size - DistinctCounter.estimate(zeros));
  }

  private static estimate(zeros: number): number {
    const m = DistinctCounter.BITS;
    // Saturated: the estimate is unbounded, the map says only "very many".
    if (zeros === 0) return Math.round(m * Math.log(m));
    return Math.round(-m * Math.log(zeros / m));
  }
}

/**
 * Membership of strings in a fixed 1 KiB per account (a one-hash Bloom filter). It can answer
 * "seen" for a value never added, when the map fills, but never "not seen" for one that was:
 * an honest account's own conversations are never taken for foreign ones.
 */
export class SeenBits {
  private static readonly BITS = 8192;
  private readonly bits = new Uint32Array(SeenBits.BITS / 32);

  /** Whether `v` was (probably) added before; adds it. */
  testAndSet(v: string): boolean {
    // FNV-1a: conversation ids are opaque strings, not hashes.
    let h = FNV_SEED_A;
    for (let i = 0; i < v.length; i++) h = fnv1a32Step(h, v.charCodeAt(i));
    const bit = (h >>> 0) & (SeenBits.BITS - 1);
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    const seen = (this.bits[word]! & mask) !== 0;
    this.bits[word]! |= mask;
    return seen;
  }

  get bytes(): number {
    return objectBytes(1) + typedArrayBytes(this.bits);
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/**
 * What one exchange changed in its account's state, filled by `observe` for the engine's
 * indicator index, so that the index reads what changed instead of looking every value up
 * again. One object, reused for every exchange.
 */
export interface ObserveDelta {
  /** The address or subnet is new to the account (0 = none): the count of those held after it; the payment method is new and tracked. */
  newIp: number;
  newSubnet: number;
  newPayment: boolean;
  /** Uses of the exchange's harness, system prompt, template prefix and suffix after it (0 when untracked). */
  harnessUses: number;
  systemUses: number;
  prefixUses: number;
  suffixUses: number;
  /** The template prefix's and suffix's keys (`valueKey`). */
  prefixKey: number;
  suffixKey: number;
  /** Per sentence of the exchange, in order: different prompts it wrapped before and after. */
  phraseBefore: number[];
  phraseAfter: number[];
}

export const newObserveDelta = (): ObserveDelta => ({ newIp: 0, newSubnet: 0, newPayment: false, harnessUses: 0, systemUses: 0, prefixUses: 0, suffixUses: 0, prefixKey: 0, suffixKey: 0, phraseBefore: [], phraseAfter: [] });

/** Scratch for callers that do not read the delta. */
const IGNORED = newObserveDelta();

const CAP_INDEX = new Map<Capability, number>(CAPABILITIES.map((c, i) => [c, i]));

export class AccountState {
  n = 0;
  firstTs = Infinity;
  lastTs = -Infinity;
  createdAt: number | null = null;
  tier: string | null = null;
  verified: boolean | null = null;
  emailDomain: string | null = null;
  readonly orgs = new CappedSet<string>(8);
  readonly payments = new CappedSet<string>(8);
  /** Addresses and subnets as 32-bit keys (`valueKey`): rules read how many, the index whether new. */
  readonly ips = new CountTable(256);
  readonly subnets = new CountTable(64);
  readonly asns = new CappedSet<number>(32);
  /** Kept as text: a campaign's report lists the clients its members share. */
  readonly userAgents = new CappedSet<string>(16);
  readonly prompts = new DistinctCounter();
  /** Uses per harness and system-prompt signature (`valueKey`). */
  readonly harnesses = new CountTable(16);
  readonly systems = new CountTable(16);
  /** Different prompts per template prefix and suffix (`valueKey`). */
  readonly prefixes = new CountTable(64, true);
  readonly suffixes = new CountTable(64, true);
  /** Sentences (`valueKey` of their hash) and how many different prompts each wrapped: an operator's stock phrasings. */
  readonly phrases = new CountTable(256, true);
  readonly models = new Map<string, { first: number; n: number }>();
  readonly capabilities = new Uint32Array(CAPABILITIES.length);
  readonly hourOfDay = new Uint32Array(24);
  /** Exchanges per hour over the last RECENT_HOURS hours of event time (ring buffer). */
  readonly recent = new Uint16Array(RECENT_HOURS);
  recentHead = -1; // absolute hour index of the newest slot
  /**
   * Days with activity and the busiest day's count, kept as a running count: exchanges come
   * in event-time order, so a day once left is never met again. A map of every day grew with
   * the account's life; a late exchange (an earlier day) counts in the current day.
   */
  activeDays = 0;
  maxDaily = 0;
  private currentDay = -Infinity;
  private currentDayCount = 0;
  singleTurn = 0;
  withToolResults = 0;
  elicitationSum = 0;
  /** Exchanges whose prompt holds a sentence this account has wrapped around three or more different prompts. */
  wrapped = 0;
  /**
   * Different prompts holding a sentence that two or more other accounts sent before (an item
   * of a public bank) inside a sentence no account had written before: counted by the engine,
   * which sees the population (shared-wrappers.ts, `paraphrasesItems`).
   */
  freshWrapped = 0;
  /**
   * The different prompts counted in `wrapped`, kept from the first one on (a kilobyte, so
   * only for accounts that wrap at all): an operator's cover traffic is ordinary requests
   * that overlap other accounts', its wrapped items do not.
   */
  wrappedPrompts: DistinctCounter | null = null;
  /**
   * The first prompt of each sentence used around exactly two different prompts: when a third
   * makes it a wrapper, the two before it are wrapped prompts too. Counting from the third use
   * only left the first two of every wrapper out, a third to a half of the wrapped prompts of
   * an account with a few wrappers and a few dozen exchanges.
   */
  private readonly pendingWrapped = new Map<number, number>();
  elicited = 0;
  graded = 0;
  outputTokens = 0;
  errors = 0;
  // Gaps between consecutive exchanges within active stretches (< 6 h): Welford on log-gap.
  gapN = 0;
  gapMean = 0;
  gapM2 = 0;
  /** Exchanges in the first 24 h after the first one. */
  firstDay = 0;
  /** Distinct hours with activity in the first 24 h: steady use, not one burst. */
  firstDayHours = 0;
  private lastHour = -1;
  /** Multi-turn requests, and those continuing a conversation this account never opened. */
  continuations = 0;
  orphanContinuations = 0;
  /** Made on the first conversation id: logs without them cost nothing here. */
  private conversations: SeenBits | null = null;
  /** Template keys already in the indicator index (set by the engine): a templated account's every exchange would add them again. */
  indexedTemplates: number[] | null = null;
  /** Set by the engine: when this account was first flagged and why. */
  flaggedAt: number | null = null;
  campaignId: CampaignId | null = null;
  dirty = true;
  /** In the account book's list of accounts to rescore (set by the book). */
  queued = false;
  /**
   * The latest score (set by the account book), null before the first. Kept here rather than
   * in a map beside the states: a linking run reads every member's state and score, and the
   * second lookup of 25,000 ids a run was as dear as the first.
   */
  score: AccountScore | null = null;

  constructor(readonly id: AccountId) {}

  /**
   * Bytes this account's state holds, estimated by structure (state-bytes.ts): bounded
   * whatever the account sends, since every set and table stops at its cap.
   */
  stateBytes(): number {
    // 54 fields; 8 of them doubles boxed in their own 16-byte heap numbers.
    let b = objectBytes(54) + 8 * 16 + stringBytes(this.id.length);
    b += stringBytes(this.tier?.length ?? 0) + stringBytes(this.emailDomain?.length ?? 0);
    b += this.orgs.bytes + this.payments.bytes + this.asns.bytes + this.userAgents.bytes;
    b += this.ips.bytes + this.subnets.bytes + this.harnesses.bytes + this.systems.bytes + this.prefixes.bytes + this.suffixes.bytes + this.phrases.bytes;
    b += this.prompts.bytes + (this.wrappedPrompts?.bytes ?? 0) + (this.conversations?.bytes ?? 0);
    b += EMPTY_TABLE + this.models.size * MAP_ENTRY;
    for (const name of this.models.keys()) b += stringBytes(name.length) + objectBytes(2) + 16;
    b += EMPTY_TABLE + this.pendingWrapped.size * MAP_ENTRY;
    b += typedArrayBytes(this.capabilities) + typedArrayBytes(this.hourOfDay) + typedArrayBytes(this.recent);
    if (this.indexedTemplates) b += arrayBytes(this.indexedTemplates.length);
    return b;
  }

  /** An earlier prompt found wrapped once its sentence became a wrapper (counted once). */
  private creditWrapped(prompt: number): void {
    const seen = (this.wrappedPrompts ??= new DistinctCounter());
    if (seen.hasTag(prompt)) return;
    seen.addTag(prompt);
    this.wrapped++;
  }

  /**
   * Counts one exchange. `phrases`: its sentences (`phrasesOf(f.phrase_sigs)`, split once by
   * the caller); `delta` receives what the exchange changed.
   */
  observe(f: ExchangeFeatures, phrases: readonly string[] = phrasesOf(f.phrase_sigs), delta: ObserveDelta = IGNORED): void {
    const ts = f.ts;
    if (this.n > 0) {
      const gap = ts - this.lastTs;
      if (gap > 0 && gap < 6 * HOUR) {
        const x = Math.log(gap / 1000 + 1);
        this.gapN++;
        const d = x - this.gapMean;
        this.gapMean += d / this.gapN;
        this.gapM2 += d * (x - this.gapMean);
      }
    }
    this.n++;
    if (ts < this.firstTs) this.firstTs = ts;
    if (ts > this.lastTs) this.lastTs = ts;
    const hour = Math.floor(ts / HOUR);
    if (ts - this.firstTs < DAY) {
      this.firstDay++;
      if (hour !== this.lastHour) this.firstDayHours++;
    }
    this.lastHour = hour;
    // A request carrying earlier turns of a conversation whose start this account never sent:
    // a relay spreads its customers' conversations over its accounts. Logs without
    // conversation ids say nothing here.
    if (f.conversation_id !== null) {
      const seen = (this.conversations ??= new SeenBits()).testAndSet(f.conversation_id);
      if (f.n_user_turns > 1) {
        this.continuations++;
        if (!seen) this.orphanContinuations++;
      }
    }
    if (f.account_created_at !== null) this.createdAt = this.createdAt === null ? f.account_created_at : Math.min(this.createdAt, f.account_created_at);
    if (f.tier !== null) this.tier = f.tier;
    if (f.verified !== null) this.verified = f.verified;
    if (f.email_domain !== null) this.emailDomain = f.email_domain;
    if (f.org_id !== null) this.orgs.add(f.org_id);
    // New and tracked: a method past the cap is counted but not indexed, or an account cycling
    // through cards would add an indicator key per exchange and the index would grow with exchanges.
    delta.newPayment = false;
    if (f.payment_fp !== null) {
      const held = this.payments.items.size;
      this.payments.add(f.payment_fp);
      delta.newPayment = this.payments.items.size > held;
    }
    delta.newIp = f.ip !== null && this.ips.add(valueKey(f.ip)) === 1 ? this.ips.size : 0;
    delta.newSubnet = f.subnet !== null && this.subnets.add(valueKey(f.subnet)) === 1 ? this.subnets.size : 0;
    if (f.asn !== null) this.asns.add(f.asn);
    if (f.user_agent !== null) this.userAgents.add(f.user_agent);
    const prompt = promptTag(f.prompt_hash);
    this.prompts.addTag(prompt);
    delta.harnessUses = this.harnesses.add(valueKey(f.harness_sig));
    delta.systemUses = this.systems.add(valueKey(f.system_sig));
    delta.prefixKey = valueKey(f.template_prefix);
    delta.suffixKey = valueKey(f.template_suffix);
    delta.prefixUses = this.prefixes.use(delta.prefixKey, prompt);
    delta.suffixUses = this.suffixes.use(delta.suffixKey, prompt);
    let wrapped = false;
    delta.phraseBefore.length = delta.phraseAfter.length = phrases.length;
    for (let i = 0; i < phrases.length; i++) {
      const p = valueKey(phrases[i]!);
      const used = this.phrases.use(p, prompt);
      const before = this.phrases.countBefore;
      // Tracked keys always have a last prompt: none before means a key new to the table.
      const previous = this.phrases.tagBefore;
      const after = used || before;
      delta.phraseBefore[i] = before;
      delta.phraseAfter[i] = after;
      if (after >= WRAPPER_MIN_USES) wrapped = true;
      if (after === before || previous === undefined) continue;
      if (after === WRAPPER_MIN_USES - 1) {
        if (this.pendingWrapped.size < PENDING_WRAPPED_CAP) this.pendingWrapped.set(p, previous);
      } else if (after === WRAPPER_MIN_USES) {
        const first = this.pendingWrapped.get(p);
        this.pendingWrapped.delete(p);
        if (first !== undefined && first !== prompt) this.creditWrapped(first);
        this.creditWrapped(previous);
      }
    }
    if (wrapped) {
      this.wrapped++;
      (this.wrappedPrompts ??= new DistinctCounter()).addTag(prompt);
    }
    const m = this.models.get(f.model);
    if (m) m.n++;
    else if (this.models.size < MODELS_CAP) this.models.set(f.model, { first: ts, n: 1 });
    this.capabilities[CAP_INDEX.get(f.capability) ?? 0]!++;
    this.hourOfDay[hour % 24]!++;
    this.bumpRecent(hour);
    this.countDay(Math.floor(ts / DAY));
    if (f.n_user_turns <= 1 && f.n_tool_results === 0) this.singleTurn++;
    if (f.n_tool_results > 0) this.withToolResults++;
    this.elicitationSum += f.elicitation;
    if (f.elicitation >= 0.5) this.elicited++;
    if (f.grading) this.graded++;
    this.outputTokens += f.output_tokens ?? 0;
    if (f.status !== null && f.status >= 400) this.errors++;
    this.dirty = true;
  }

  private bumpRecent(hour: number): void {
    if (this.recentHead < 0) this.recentHead = hour;
    if (hour > this.recentHead) {
      const steps = Math.min(hour - this.recentHead, RECENT_HOURS);
      for (let i = 1; i <= steps; i++) this.recent[(this.recentHead + i) % RECENT_HOURS] = 0;
      this.recentHead = hour;
    }
    if (this.recentHead - hour < RECENT_HOURS) {
      const slot = hour % RECENT_HOURS;
      if (this.recent[slot]! < 65535) this.recent[slot]!++;
    }
  }

  /** Activity per hour for the RECENT_HOURS hours ending at `headHour`, oldest first. */
  recentSeries(headHour: number): Float64Array {
    const out = new Float64Array(RECENT_HOURS);
    for (let i = 0; i < RECENT_HOURS; i++) {
      const hour = headHour - (RECENT_HOURS - 1 - i);
      if (hour <= this.recentHead && this.recentHead - hour < RECENT_HOURS) out[i] = this.recent[hour % RECENT_HOURS]!;
    }
    return out;
  }

  /** Different prompts a sentence (a hash of `phraseSigs`) wrapped, 0 when untracked. */
  phraseUses(phrase: string): number {
    return this.phrases.get(valueKey(phrase));
  }

  private countDay(day: number): void {
    if (day > this.currentDay) {
      this.currentDay = day;
      this.currentDayCount = 0;
      this.activeDays++;
    }
    this.currentDayCount++;
    if (this.currentDayCount > this.maxDaily) this.maxDaily = this.currentDayCount;
  }

  // ---- derived measures, all cheap ----
  get gapCv(): number {
    // CV of log-gaps is scale-free: a script sleeping 30 s ± 3 s and one sleeping 10 min ± 1 min look alike.
    if (this.gapN < 2 || this.gapMean <= 0) return Infinity;
    return Math.sqrt(this.gapM2 / (this.gapN - 1)) / this.gapMean;
  }
  /** Account age in days at its first exchange, null when the creation date is unknown. */
  get ageAtFirstDays(): number | null {
    return this.createdAt === null ? null : (this.firstTs - this.createdAt) / DAY;
  }
  get activeHoursOfDay(): number {
    let n = 0;
    for (const c of this.hourOfDay) if (c > 0) n++;
    return n;
  }
  /** Entropy of the hour-of-day histogram, normalised to 0..1 (1 = flat around the clock). */
  get hourEntropy(): number {
    let h = 0;
    for (const c of this.hourOfDay) {
      if (c === 0) continue;
      const p = c / this.n;
      h -= p * Math.log(p);
    }
    return h / Math.log(24);
  }
  capabilityShares(): Partial<Record<Capability, number>> {
    const out: Partial<Record<Capability, number>> = {};
    CAPABILITIES.forEach((c, i) => {
      const v = this.capabilities[i]!;
      if (v > 0) out[c] = v / this.n;
    });
    return out;
  }
  topShare(counter: CountTable): number {
    return counter.top() / this.n;
  }
}
