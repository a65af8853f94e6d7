/**
 * Attacker playbooks from the threat model. Each operator runs a pool of accounts through
 * one harness (client, parameters, sometimes an injected system prompt, template families,
 * prompt bank). What separates them from honest traffic is behaviour: lifecycle, timing,
 * coordination, infrastructure, what they ask for; never a field value of their own.
 */
import type { Exchange } from '../core/exchange.js';
import {
  agedCreation,
  customSystemPrompt,
  gradingPrompt,
  operatorWrapper,
  localHour,
  newAccount,
  register,
  SWEEP_TAXONOMY,
  SWEEP_WRAPPERS,
  type Actor,
  type SimContext,
} from './actors.js';
import { FOLLOW_UPS, type PromptCategory } from './prompts.js';
import type { Rng } from './rng.js';
import { buildExchange, byKind, pickStream, COUNTRIES_SERVED, DAY, historyFor, HOUR, ipIn, MAX_TOKENS, TEMPERATURES, USER_AGENTS, type AccountProfile, type ClientSpec, type Network, type RequestSpec, type TurnSpec } from './world.js';

interface Harness {
  userAgent: string | null; // null: rotates per request
  system?: string;
  maxTokens: number | null;
  temperature: number | null;
  thinkingBudget?: number;
  stream?: boolean | undefined;
}

function harnessFor(rng: Rng, injectSystem: boolean): Harness {
  // Drawn from the same pools honest clients use, weighted to long outputs.
  const h: Harness = {
    userAgent: rng.pick(USER_AGENTS.slice(0, 11)),
    maxTokens: rng.pick([...MAX_TOKENS, 8192, 16000]),
    temperature: rng.pick(TEMPERATURES),
    stream: pickStream(rng),
  };
  if (injectSystem) h.system = customSystemPrompt(rng);
  if (rng.chance(0.3)) h.thinkingBudget = rng.pick([2048, 4000, 8000, 16000]);
  return h;
}

/** The operator's prompt bank, walked in order across a taxonomy, wrapped by its templates. */
class SweepBank {
  private cursor: number;
  constructor(
    private readonly ctx: SimContext,
    rng: Rng,
    private readonly wrappers: ((t: string) => string)[],
    private readonly gradingShare: number,
  ) {
    this.cursor = rng.int(0, 10_000);
  }
  next(rng: Rng): { text: string; tools?: RequestSpec['tools'] } {
    const cat = rng.weighted(SWEEP_TAXONOMY);
    const item = this.ctx.prompts.item(cat, this.cursor++);
    if (rng.chance(this.gradingShare)) return { text: gradingPrompt(rng, item.text) };
    return { text: rng.pick(this.wrappers)(item.text), ...(item.tools ? { tools: item.tools } : {}) };
  }
}

function pickWrappers(rng: Rng, n: number): ((t: string) => string)[] {
  // Mostly the operator's own templates; now and then a well-known public one.
  return Array.from({ length: n }, () => (rng.chance(0.15) ? rng.pick(SWEEP_WRAPPERS) : operatorWrapper(rng)));
}

/** A relayed ordinary request: a real-looking prompt, sometimes mid-conversation. */
function relayTurn(ctx: SimContext, rng: Rng): TurnSpec & { tools?: RequestSpec['tools'] } {
  const p = ctx.prompts.random(rng.weighted([['chat', 7], ['coding', 2], ['instructions', 1]] as const), rng);
  const k = rng.chance(0.35) ? rng.int(1, 3) : 0;
  return { history: k ? historyFor(rng, p.text, k) : [], text: k ? (p.turns?.[k - 1] ?? rng.pick(FOLLOW_UPS)) : p.text };
}

interface PoolAccount {
  acct: AccountProfile;
  ips: string[];
  net: Network;
}

function poolAccount(ctx: SimContext, rng: Rng, op: string, playbook: string, o: Partial<AccountProfile> & { createdAt: number }, nets: Network[], nIps: number): PoolAccount {
  const acct = newAccount(ctx, rng, o);
  register(ctx, acct.id, { population: 'attacker', malicious: true, playbook, operator: op });
  const net = rng.pick(nets);
  return { acct, net, ips: Array.from({ length: nIps }, () => ipIn(rng.pick(nets), rng)) };
}

function clientOf(rng: Rng, p: PoolAccount, h: Harness, ipPool?: { ip: string; net: Network }[]): ClientSpec {
  const shared = ipPool ? rng.pick(ipPool) : null;
  return {
    ip: shared ? shared.ip : rng.pick(p.ips),
    network: shared ? shared.net : p.net,
    userAgent: h.userAgent ?? rng.pick(USER_AGENTS),
    country: p.acct.country,
  };
}

function request(h: Harness, model: string, extra: Partial<RequestSpec> = {}): RequestSpec {
  return {
    model,
    maxTokens: h.maxTokens,
    temperature: h.temperature,
    outputTokens: 1200,
    ...(h.system ? { system: h.system } : {}),
    ...(h.thinkingBudget ? { thinkingBudget: h.thinkingBudget } : {}),
    ...(h.stream !== undefined ? { stream: h.stream } : {}),
    ...extra,
  };
}

/** Gap to the next request of a scripted account: around the clock, or a fake daytime rhythm. */
function gap(rng: Rng, perDay: number, ts: number, rhythm: { tz: number } | null, regular: boolean): number {
  const mean = DAY / perDay;
  if (rhythm) {
    const h = localHour(ts, rhythm.tz);
    const active = h >= 8 && h < 23;
    return Math.round(rng.exponential(active ? mean * 0.62 : mean * 6));
  }
  return Math.round(regular ? mean * (0.8 + rng.next() * 0.4) : rng.exponential(mean));
}

export interface OperatorOptions {
  op: string;
  accounts: number;
  perDay: number;
}

/** Hydra: thousands of quiet accounts on a rotating proxy pool, campaign traffic mixed with relayed customers' requests. */
export function hydra(ctx: SimContext, rng: Rng, o: OperatorOptions): Actor[] {
  const nets = [...byKind(['datacenter']), ...byKind(['residential'])];
  // The reseller's pool, whose exits honest users also sit behind (see bystanders).
  const proxies = ctx.exits.proxy.length > 0 ? ctx.exits.proxy : Array.from({ length: Math.max(40, Math.round(o.accounts / 3)) }, () => {
    const net = rng.pick(nets);
    return { ip: ipIn(net, rng), net };
  });
  const h = harnessFor(rng, rng.chance(0.5));
  h.userAgent = null; // rotates: one account, many clients
  const bank = new SweepBank(ctx, rng, pickWrappers(rng, 2), 0.08);
  const span = ctx.end - ctx.start;
  return Array.from({ length: o.accounts }, () => {
    const start = ctx.start + rng.next() * span * 0.1;
    const fresh = rng.chance(0.7);
    const p = poolAccount(ctx, rng, o.op, 'hydra', { createdAt: fresh ? start - rng.next() * 2 * DAY : agedCreation(ctx, rng), tier: rng.chance(0.7) ? 'free' : 'standard', verified: rng.chance(0.5) }, nets, 1);
    return (function* (): Actor {
      let ts = start;
      const perDay = o.perDay * rng.lognormal(1, 0.3);
      for (;;) {
        ts += gap(rng, perDay, ts, null, false);
        if (ts >= ctx.end) return;
        if (rng.chance(0.65)) {
          const c = bank.next(rng);
          yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h, proxies), request(h, ctx.models.current, c.tools ? { tools: c.tools } : {}), { history: [], text: c.text });
        } else {
          const t = relayTurn(ctx, rng);
          yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h, proxies), request(h, ctx.models.current, { outputTokens: 400, conversationId: ctx.ids.conversation() }), t);
        }
      }
    })();
  });
}

/** Synchronized, load-balanced accounts: one job queue dispatched round-robin, shared payment methods. */
export function synchronized(ctx: SimContext, rng: Rng, o: OperatorOptions): Actor[] {
  const nets = byKind(['datacenter', 'cloud']);
  const payments = Array.from({ length: rng.int(2, 4) }, () => ctx.ids.payment());
  const h = harnessFor(rng, true);
  const bank = new SweepBank(ctx, rng, pickWrappers(rng, 2), 0.15);
  const created = ctx.start - rng.next() * 20 * DAY;
  const pool = Array.from({ length: o.accounts }, (_, i) =>
    poolAccount(ctx, rng, o.op, 'synchronized', { createdAt: created + rng.next() * HOUR, payment: payments[i % payments.length]!, tier: 'standard' }, nets, 2),
  );
  const rate = o.perDay * o.accounts;
  const phase = rng.next() * Math.PI * 2;
  function* dispatcher(): Actor {
    let ts = ctx.start + rng.next() * HOUR;
    let k = 0;
    for (;;) {
      // The operator's batch load rises and falls; every account rises and falls with it.
      const load = 0.15 + 0.85 * Math.max(0, Math.sin((2 * Math.PI * (ts - ctx.start)) / (8 * HOUR) + phase));
      ts += Math.round(rng.exponential(DAY / (rate * load + 1)));
      if (ts >= ctx.end) return;
      const p = pool[k++ % pool.length]!;
      const c = bank.next(rng);
      yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h), request(h, ctx.models.current, c.tools ? { tools: c.tools } : {}), { history: [], text: c.text });
    }
  }
  return [dispatcher()];
}

/** A capability sweep, optionally pivoting to the new model within a day of its release. */
export function sweep(ctx: SimContext, rng: Rng, o: OperatorOptions & { pivot?: boolean; playbook?: string }): Actor[] {
  const nets = byKind(['datacenter', 'cloud']);
  const h = harnessFor(rng, rng.chance(0.6));
  const bank = new SweepBank(ctx, rng, pickWrappers(rng, 2), 0.12);
  const playbook = o.playbook ?? (o.pivot ? 'model_pivot' : 'capability_sweep');
  const pivotDelay = rng.next() * 20 * HOUR;
  return Array.from({ length: o.accounts }, () => {
    const start = ctx.start + rng.next() * DAY;
    const p = poolAccount(ctx, rng, o.op, playbook, { createdAt: rng.chance(0.6) ? start - rng.next() * 3 * DAY : agedCreation(ctx, rng), tier: rng.pick(['free', 'standard', 'startup']) }, nets, rng.int(1, 3));
    return (function* (): Actor {
      let ts = start;
      for (;;) {
        ts += gap(rng, o.perDay, ts, null, true);
        if (ts >= ctx.end) return;
        const moved = o.pivot && ts >= ctx.models.nextReleaseAt + pivotDelay && rng.chance(0.55);
        const c = bank.next(rng);
        yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h), request(h, moved ? ctx.models.next : ctx.models.current, c.tools ? { tools: c.tools } : {}), { history: [], text: c.text });
      }
    })();
  });
}

/** Entry-point farming: bursts of new, unverified edu/research/startup accounts from unserved regions, through proxies. */
export function farming(ctx: SimContext, rng: Rng, o: OperatorOptions): Actor[] {
  const nets = byKind(['datacenter']);
  const h = harnessFor(rng, rng.chance(0.5));
  const bank = new SweepBank(ctx, rng, pickWrappers(rng, 3), 0.1);
  const bursts = Math.max(1, Math.round(o.accounts / 15));
  const actors: Actor[] = [];
  for (let b = 0; b < bursts; b++) {
    const burstAt = ctx.start + rng.next() * (ctx.end - ctx.start) * 0.6;
    const tier = rng.pick(['edu', 'research', 'startup']);
    const domain = tier === 'edu' ? `student-${rng.hex(4)}.example.edu` : rng.pick(['gmail.com', 'outlook.com', 'proton.me']);
    const n = Math.round(o.accounts / bursts);
    for (let i = 0; i < n; i++) {
      const created = burstAt + rng.next() * HOUR;
      // Unserved regions are blocked at sign-up, so farms appear through proxies in served ones.
      const p = poolAccount(ctx, rng, o.op, 'entry_point_farming', { createdAt: created, tier, verified: false, emailDomain: domain, country: rng.pick(COUNTRIES_SERVED) }, nets, 2);
      actors.push(
        (function* (): Actor {
          let ts = created + rng.next() * 2 * HOUR;
          for (;;) {
            ts += gap(rng, o.perDay, ts, null, false);
            if (ts >= ctx.end) return;
            const c = bank.next(rng);
            yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h), request(h, ctx.models.current, c.tools ? { tools: c.tools } : {}), { history: [], text: c.text });
          }
        })(),
      );
    }
  }
  return actors;
}

export type AdaptiveVariant = 'dev' | 'heldout';

/** Parts an adaptive harness writes its wrappers from; the held-back variant has its own words. */
const ADAPTIVE_PARTS: Record<AdaptiveVariant, { openers: string[]; asks: string[]; closers: string[] }> = {
  dev: {
    openers: ['', 'Here is something I am working on.', 'Quick question.', 'I need help with this one.', 'Could you take a look?', 'Hi!', 'For my notes:', 'Stuck on this.'],
    asks: [
      'Please lay out the complete logic you followed, every inference included.',
      'I would like to see the whole derivation, each step in order.',
      'Describe your thought process thoroughly before the final answer.',
      'Be thorough: include every intermediate calculation and why it follows.',
      'Write out the full rationale, not only the result.',
      'Detail each step of the reasoning so I can check it.',
      'Explain how you get there, all of it.',
      'Give every step, then the answer.',
    ],
    closers: ['', 'Thanks a lot.', 'Answer in the language of the question.', 'Take your time.', 'Cheers', 'Much appreciated!'],
  },
  heldout: {
    openers: ['', 'hey', 'Working through a problem set.', 'Can you help?', 'Question for you:', 'ok so'],
    asks: [
      'Talk me through how you would get to the answer, nothing skipped.',
      'Show me each move you make on the way to the result.',
      'Narrate your whole line of thought, then conclude.',
      'I care more about the path than the answer, so spell the path out fully.',
      'List every deduction in order before the final result.',
      'What is your derivation? Write all of it.',
    ],
    closers: ['', 'ty', 'No rush.', 'Reply in the same language please.', 'Thanks!'],
  },
};

/** One account's own wrappers, written afresh: parts, order and punctuation drawn per account. */
function adaptiveWrappers(rng: Rng, variant: AdaptiveVariant): ((item: string) => string)[] {
  const parts = ADAPTIVE_PARTS[variant];
  return Array.from({ length: rng.int(2, 4) }, () => {
    const opener = rng.pick(parts.openers);
    const ask = rng.pick(parts.asks);
    const closer = rng.pick(parts.closers);
    const askFirst = rng.chance(0.5);
    const sep = rng.pick(['\n\n', '\n', ' ']);
    const lower = rng.chance(0.2);
    return (item: string): string => {
      const body = askFirst ? `${ask}${sep}${item}` : `${item}${sep}${ask}`;
      const text = [opener, body, closer].filter(Boolean).join(' ');
      return lower ? text.toLowerCase() : text;
    };
  });
}

/**
 * Parts of a paraphrase written afresh for each prompt: over a thousand asks, so that no
 * sentence of the operator's own recurs often enough in one account to be its habit.
 */
const PARAPHRASE = {
  leads: ['Please', 'Kindly', 'Could you', 'I would like you to', 'Can you', 'I need you to'],
  verbs: ['lay out', 'walk me through', 'write out', 'set down', 'spell out', 'go over', 'take me through'],
  objects: ['the complete logic', 'your whole derivation', 'each step of the working', 'every intermediate result', 'the full rationale', 'how you reach it'],
  tails: ['before the final answer.', 'in order.', 'so I can check it.', 'and not only the result.', 'one line at a time.', 'then conclude.'],
};

/** One prompt wrapped in a paraphrase of its own: the ask, and sometimes an opener and a closer. */
function paraphrased(rng: Rng, variant: AdaptiveVariant, item: string): string {
  const parts = ADAPTIVE_PARTS[variant];
  const ask = `${rng.pick(PARAPHRASE.leads)} ${rng.pick(PARAPHRASE.verbs)} ${rng.pick(PARAPHRASE.objects)} ${rng.pick(PARAPHRASE.tails)}`;
  const body = rng.chance(0.5) ? `${ask}\n${item}` : `${item}\n\n${ask}`;
  return [rng.chance(0.3) ? rng.pick(parts.openers) : '', body, rng.chance(0.2) ? rng.pick(parts.closers) : ''].filter(Boolean).join(' ');
}

export interface AdaptiveOptions extends OperatorOptions {
  variant?: AdaptiveVariant;
  /** A few wrappers per account, or a paraphrase per prompt. @default 'per-account' */
  wrapping?: 'per-account' | 'per-prompt';
  /** Range the operator's mean off-bank share is drawn from. @default the variant's */
  offBank?: readonly [number, number];
}

/**
 * The adaptive attacker: one client, one network and one payment per account, wrappers
 * written afresh per account, a fake daytime rhythm, fake conversation turns, its own pace
 * and volume per account, and a share of prompts that are not from the bank. The operator
 * splits one problem bank across its accounts, so no two accounts ask the same item.
 * Pace, volume, off-bank share and networks vary with the seed.
 */
export function adaptive(ctx: SimContext, rng: Rng, o: AdaptiveOptions): Actor[] {
  const variant = o.variant ?? 'dev';
  const nets = variant === 'dev' ? byKind(['residential', 'mobile', 'cloud']) : byKind(['residential', 'mobile', 'university', 'corporate']);
  // Seed-varied operator habits.
  const [offLow, offHigh] = o.offBank ?? (variant === 'dev' ? [0.1, 0.35] : [0.2, 0.5]);
  const offBankMean = offLow + rng.next() * (offHigh - offLow);
  const fakeTurnsMean = rng.next() * 0.7;
  const taxonomy: readonly (readonly [PromptCategory, number])[] = variant === 'dev' ? SWEEP_TAXONOMY : [['math', 5], ['coding', 3], ['instructions', 2]];
  // One shared walk of the bank: each item goes to one account only.
  const bankCursor = rng.int(0, 100_000);
  let walked = 0;
  const stride = 7919; // prime: consecutive draws land far apart in the bank
  return Array.from({ length: o.accounts }, () => {
    const h = harnessFor(rng, false);
    h.userAgent = rng.pick(USER_AGENTS);
    const p = poolAccount(ctx, rng, o.op, 'adaptive', { createdAt: rng.chance(0.4) ? ctx.start - rng.next() * 20 * DAY : agedCreation(ctx, rng), tier: rng.pick(['free', 'standard', 'standard']) }, [rng.pick(nets)], 1);
    const tz = rng.int(-8, 9);
    const wrappers = adaptiveWrappers(rng, variant);
    const perDay = o.perDay * rng.lognormal(1, 0.5);
    const offBank = Math.min(0.8, Math.max(0, offBankMean + rng.normal(0, 0.08)));
    const fakeTurns = Math.min(0.9, Math.max(0, fakeTurnsMean + rng.normal(0, 0.1)));
    const activeProb = 0.6 + rng.next() * 0.4;
    return (function* (): Actor {
      let ts = ctx.start + rng.next() * DAY;
      let day = Math.floor(ts / DAY);
      let active = true;
      for (;;) {
        ts += gap(rng, perDay, ts, { tz }, false);
        if (ts >= ctx.end) return;
        const d = Math.floor(ts / DAY);
        if (d !== day) {
          day = d;
          active = rng.chance(activeProb);
        }
        if (!active) continue;
        const conv = ctx.ids.conversation();
        if (rng.chance(offBank)) {
          // Cover traffic: an ordinary request, like any user's.
          const t = relayTurn(ctx, rng);
          yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h), request(h, ctx.models.current, { outputTokens: 400, conversationId: conv }), t);
          continue;
        }
        const item = ctx.prompts.item(rng.weighted(taxonomy), bankCursor + stride * walked++);
        const text = o.wrapping === 'per-prompt' ? paraphrased(rng, variant, item.text) : rng.pick(wrappers)(item.text);
        // A fabricated earlier exchange makes a scripted request look like a conversation.
        const fake = rng.chance(fakeTurns);
        const history = fake ? historyFor(rng, ctx.prompts.random('chat', rng).text, rng.int(1, 2)) : [];
        yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h), request(h, ctx.models.current, { conversationId: conv, ...(item.tools ? { tools: item.tools } : {}) }), { history, text });
      }
    })();
  });
}

/** Ban evasion: when a pool is banned, a fresh pool with new IPs and payments takes over, keeping the harness. */
export function banEvasion(ctx: SimContext, rng: Rng, o: OperatorOptions): Actor[] {
  const h = harnessFor(rng, true);
  const wrappers = pickWrappers(rng, 1);
  const bank = new SweepBank(ctx, rng, wrappers, 0.1);
  const banAt = ctx.start + (ctx.end - ctx.start) * 0.45;
  const takeover = banAt + (2 + rng.next() * 4) * HOUR;
  ctx.truth.bans.push({ operator: o.op, at: new Date(banAt).toISOString(), pool: 'first' });
  const pool = (from: number, until: number, nets: Network[]): Actor[] =>
    Array.from({ length: o.accounts }, () => {
      const p = poolAccount(ctx, rng, o.op, 'ban_evasion', { createdAt: from - rng.next() * DAY, tier: rng.pick(['free', 'standard']) }, nets, 2);
      return (function* (): Actor {
        let ts = from + rng.next() * HOUR;
        for (;;) {
          ts += gap(rng, o.perDay, ts, null, false);
          if (ts >= until) return;
          const c = bank.next(rng);
          yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h), request(h, ctx.models.current, c.tools ? { tools: c.tools } : {}), { history: [], text: c.text });
        }
      })();
    });
  return [...pool(ctx.start, banAt, byKind(['datacenter'])), ...pool(takeover, ctx.end, byKind(['cloud', 'residential']))];
}

/** Relay: an operator's own customers' real requests through fraudulent accounts; lifecycle and harness give it away. */
export function relay(ctx: SimContext, rng: Rng, o: OperatorOptions): Actor[] {
  const nets = byKind(['datacenter', 'cloud']);
  const h = harnessFor(rng, rng.chance(0.5));
  // Cloud NAT addresses: other tenants leave from them too.
  const egress = Array.from({ length: 6 }, () => {
    if (ctx.exits.cloud.length > 0) return rng.pick(ctx.exits.cloud);
    const net = rng.pick(nets);
    return { ip: ipIn(net, rng), net };
  });
  return Array.from({ length: o.accounts }, () => {
    const start = ctx.start + rng.next() * (ctx.end - ctx.start) * 0.3;
    const p = poolAccount(ctx, rng, o.op, 'relay', { createdAt: start - rng.next() * DAY, tier: rng.pick(['free', 'standard']) }, nets, 1);
    return (function* (): Actor {
      let ts = start;
      for (;;) {
        ts += gap(rng, o.perDay, ts, null, false);
        if (ts >= ctx.end) return;
        const t = relayTurn(ctx, rng);
        yield buildExchange(ctx.ids, rng, ts, p.acct, clientOf(rng, p, h, egress), request(h, ctx.models.current, { outputTokens: 450, conversationId: ctx.ids.conversation() }), t);
      }
    })();
  });
}

export type { Exchange };
