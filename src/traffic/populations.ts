/**
 * Honest traffic, including every hard negative of the threat model: a SaaS product on one
 * template, an enterprise behind one egress IP, a university class, evaluation runs, coding
 * agents, a big customer moving to a new model on release day.
 */
import type { Exchange } from '../core/exchange.js';
import {
  agedCreation,
  customSystemPrompt,
  GENERIC_SYSTEM_PROMPTS,
  HUMAN_EXPLAIN,
  localDayStart,
  modelFor,
  newAccount,
  register,
  type Actor,
  type SimContext,
} from './actors.js';
import { FOLLOW_UPS, type PromptCategory } from './prompts.js';
import type { Rng } from './rng.js';
import {
  AGENT_PRODUCTS,
  buildExchange,
  byKind,
  pickStream,
  COUNTRIES_NOT_SERVED,
  DAY,
  historyFor,
  HOUR,
  ipIn,
  MAX_TOKENS,
  MINUTE,
  TEMPERATURES,
  USER_AGENTS,
  type AccountProfile,
  type ClientSpec,
  type Network,
} from './world.js';

const CHAT_MIX: readonly (readonly [PromptCategory, number])[] = [
  ['chat', 70],
  ['coding', 14],
  ['math', 8],
  ['instructions', 6],
  ['tools', 2],
];

/** Developers trying out function calling and code: the same public tool definitions a sweep sends. */
const DEVELOPER_MIX: readonly (readonly [PromptCategory, number])[] = [
  ['chat', 30],
  ['coding', 35],
  ['tools', 25],
  ['math', 5],
  ['instructions', 5],
];

/** An address a request leaves from: a home connection, a proxy exit, a cloud NAT. */
export interface Exit {
  ip: string;
  net: Network;
}

export interface OrdinaryOptions {
  /** The truth's population name. @default 'ordinary' */
  population?: string;
  /** Where the user's non-mobile requests leave from, drawn per request (a reseller's pool rotates). */
  exit?: (rng: Rng) => Exit;
}

/** Ordinary people: diverse prompts, conversations, their own daytime, days off. */
export function* ordinaryUser(ctx: SimContext, rng: Rng, o: OrdinaryOptions = {}): Actor {
  const brandNew = rng.chance(0.06);
  const acct = newAccount(ctx, rng, {
    createdAt: brandNew ? ctx.start + rng.next() * (ctx.end - ctx.start) * 0.5 : agedCreation(ctx, rng),
    // Students, researchers and founders sign up on the discounted tiers honestly too.
    tier: rng.weighted<string>([['free', 55], ['standard', 33], ['edu', 5], ['research', 3], ['startup', 4]]),
  });
  // A few honest users sit behind a VPN or a cloud desktop, some in regions not served.
  const vpn = rng.chance(0.04);
  if (vpn && rng.chance(0.3)) acct.country = rng.pick(COUNTRIES_NOT_SERVED);
  register(ctx, acct.id, { population: o.population ?? 'ordinary', malicious: false });
  const tz = rng.int(-8, 9);
  // Developers call from their laptops or from a rented server they test on.
  const developer = rng.chance(0.12);
  const home: Network = vpn || (developer && rng.chance(0.4)) ? rng.pick(byKind(['datacenter', 'cloud'])) : rng.pick(byKind(['residential']));
  const mix = developer ? DEVELOPER_MIX : CHAT_MIX;
  const ips = [ipIn(home, rng)];
  const mobile = rng.pick(byKind(['mobile']));
  const ua = rng.weighted<string>([
    [rng.pick(USER_AGENTS.slice(11)), 6],
    [rng.pick(USER_AGENTS.slice(0, 11)), 4],
  ]);
  const stream = pickStream(rng);
  const activeProb = Math.min(0.95, rng.lognormal(0.45, 0.5));
  const visitsPerDay = rng.lognormal(1.2, 0.5) * ctx.peopleVolume;
  const explains = rng.chance(0.12);
  const system = rng.chance(0.25) ? rng.pick(GENERIC_SYSTEM_PROMPTS) : undefined;
  const maxTokens = rng.pick(MAX_TOKENS);
  const temperature = rng.pick(TEMPERATURES);
  const thinking = rng.chance(0.1) ? rng.pick([1024, 2048, 4000, 8000, 16000]) : undefined;
  const eagerness = rng.next();
  let t = Math.max(ctx.start, acct.createdAt);
  let activeDays = 0;
  for (let day = localDayStart(t, tz); day < ctx.end; day += DAY) {
    if (!rng.chance(activeProb)) continue;
    // At a lower people volume a person keeps its first active day and fewer of the others
    // (drawn only then, so that the traffic at full volume is what it was).
    if (ctx.peopleVolume < 1 && activeDays > 0 && !rng.chance(ctx.peopleVolume)) continue;
    activeDays++;
    const n = Math.max(1, rng.poisson(visitsPerDay));
    const starts = Array.from({ length: n }, () => day + (8 + rng.next() * 15) * HOUR).sort((a, b) => a - b);
    for (const s0 of starts) {
      let ts = Math.max(s0, t);
      if (ts >= ctx.end) return;
      const conv = ctx.ids.conversation();
      const cat = rng.weighted(mix);
      const p = ctx.prompts.random(cat, rng);
      const turns = 1 + Math.min(7, Math.floor(rng.exponential(1.2)));
      const first = explains && rng.chance(0.35) ? rng.pick(HUMAN_EXPLAIN)(p.text) : p.text;
      const onPhone = rng.chance(0.2);
      const exit = onPhone ? { ip: ipIn(mobile, rng), net: mobile } : o.exit ? o.exit(rng) : { ip: ips[0]!, net: home };
      const client: ClientSpec = { ip: exit.ip, network: exit.net, userAgent: ua, country: acct.country, stream };
      for (let k = 0; k < turns && ts < ctx.end; k++) {
        const text = k === 0 ? first : (p.turns?.[k - 1] ?? rng.pick(FOLLOW_UPS));
        const req = { model: modelFor(ctx, rng, ts, eagerness), maxTokens, temperature, outputTokens: rng.lognormal(350, 0.7), conversationId: conv, ...(system ? { system } : {}), ...(thinking ? { thinkingBudget: thinking } : {}), ...(p.tools && k === 0 ? { tools: p.tools } : {}) };
        yield buildExchange(ctx.ids, rng, ts, acct, client, req, { history: k === 0 ? [] : historyFor(rng, first, k), text });
        ts += Math.round(rng.lognormal(90_000, 0.9));
      }
      t = ts;
    }
  }
}

/**
 * A SaaS product: one account, heavy, one template and system prompt around real end-user
 * text. A support desk, or a homework tutor whose template asks for every step of the
 * solution: reasoning elicitation at 100%, from an honest customer.
 */
export function* saasApp(ctx: SimContext, rng: Rng, perDay: number, product: 'support' | 'tutor' = 'support'): Actor {
  const acct = newAccount(ctx, rng, { createdAt: agedCreation(ctx, rng), tier: rng.chance(0.5) ? 'enterprise' : 'standard', verified: true });
  register(ctx, acct.id, { population: 'saas', malicious: false });
  const system = customSystemPrompt(rng);
  // Products run on cloud platforms and on rented servers alike.
  const net = rng.pick(byKind(['cloud', 'datacenter']));
  const ips = Array.from({ length: 3 }, () => ipIn(net, rng));
  const ua = rng.pick(USER_AGENTS.slice(0, 10));
  const stream = pickStream(rng);
  const tutor = product === 'tutor';
  const wrap = tutor
    ? (t: string): string => `A student asks:\n${t}\n\nExplain the solution step by step so that the student can follow every step, then give the final answer.`
    : (t: string): string => `Customer message:\n"""\n${t}\n"""\nWrite a helpful reply in under 150 words.`;
  const tz = rng.int(-6, 2);
  let ts = ctx.start;
  while (ts < ctx.end) {
    // Load follows the product's users: busy in their day, quiet at night.
    const h = ((ts / HOUR + tz) % 24 + 24) % 24;
    const load = h >= 7 && h < 23 ? 1 : 0.15;
    ts += Math.round(rng.exponential(DAY / (perDay * load * 1.3)));
    if (ts >= ctx.end) return;
    const p = tutor ? ctx.prompts.random(rng.weighted(TUTOR_MIX), rng) : ctx.prompts.random(rng.chance(0.8) ? 'chat' : 'instructions', rng);
    yield buildExchange(
      ctx.ids,
      rng,
      ts,
      acct,
      { ip: rng.pick(ips), network: net, userAgent: ua, country: acct.country, stream },
      { model: ctx.models.current, system, maxTokens: tutor ? 1024 : 512, temperature: 0.3, outputTokens: tutor ? 450 : 180 },
      { history: [], text: wrap(p.text) },
    );
  }
}

const TUTOR_MIX: readonly (readonly [PromptCategory, number])[] = [
  ['math', 6],
  ['coding', 3],
  ['chat', 1],
];

/** An enterprise: many accounts of one org behind one egress IP, one payment method, office hours. */
export function enterprise(ctx: SimContext, rng: Rng, employees: number): Actor[] {
  const org = ctx.ids.org();
  const payment = ctx.ids.payment();
  const net = rng.pick(byKind(['corporate', 'cloud']));
  const egress = ipIn(net, rng);
  const tz = rng.int(-8, 9);
  const ua = rng.pick(USER_AGENTS);
  const stream = pickStream(rng);
  const created = agedCreation(ctx, rng);
  return Array.from({ length: employees }, () => {
    const acct = newAccount(ctx, rng, { createdAt: created + rng.int(0, 30) * DAY, tier: 'enterprise', orgId: org, payment, apiKeyId: ctx.ids.key(), emailDomain: `corp-${org.slice(4, 10)}.example`, verified: true });
    register(ctx, acct.id, { population: 'enterprise', malicious: false });
    return officeWorker(ctx, rng, acct, { ip: egress, network: net, userAgent: ua, country: acct.country, stream }, tz);
  });
}

function* officeWorker(ctx: SimContext, rng: Rng, acct: AccountProfile, client: ClientSpec, tz: number): Actor {
  const perDay = rng.lognormal(6, 0.6);
  for (let day = localDayStart(ctx.start, tz); day < ctx.end; day += DAY) {
    const dow = new Date(day + tz * HOUR).getUTCDay();
    if (dow === 0 || dow === 6 || rng.chance(0.1)) continue;
    const n = rng.poisson(perDay / 2.5);
    let ts = day + (9 + rng.next() * 2) * HOUR;
    for (let s = 0; s < n; s++) {
      ts += Math.round(rng.exponential(2 * HOUR));
      if (ts >= day + 18 * HOUR || ts >= ctx.end) break;
      const p = ctx.prompts.random(rng.weighted(CHAT_MIX), rng);
      const conv = ctx.ids.conversation();
      const turns = 1 + Math.floor(rng.exponential(1.5));
      for (let k = 0; k < turns && ts < ctx.end; k++) {
        yield buildExchange(ctx.ids, rng, ts, acct, client, { model: modelFor(ctx, rng, ts, 0.5), maxTokens: 4096, temperature: null, outputTokens: rng.lognormal(400, 0.6), conversationId: conv }, { history: k ? historyFor(rng, p.text, k) : [], text: k ? rng.pick(FOLLOW_UPS) : p.text });
        ts += Math.round(rng.lognormal(120_000, 0.8));
      }
    }
  }
}

/** A class: edu accounts on one campus network, created at term start, homework at lab hours. */
export function universityClass(ctx: SimContext, rng: Rng, students: number): Actor[] {
  const net = rng.pick(byKind(['university']));
  const campus = `${net.prefix}.${rng.int(0, 255)}`;
  const domain = `uni-${rng.hex(4)}.example.edu`;
  const termStart = ctx.start - rng.int(0, 3) * DAY;
  const tz = rng.int(-8, 2);
  const labDays = [rng.int(1, 2), rng.int(3, 5)];
  const labHour = rng.int(9, 15);
  const ua = rng.pick(USER_AGENTS.slice(11));
  const stream = pickStream(rng);
  const homework = Array.from({ length: 12 }, () => ctx.prompts.random('coding', rng));
  return Array.from({ length: students }, () => {
    const acct = newAccount(ctx, rng, { createdAt: termStart + rng.next() * 2 * DAY, tier: 'edu', emailDomain: domain, verified: rng.chance(0.7) });
    register(ctx, acct.id, { population: 'university', malicious: false });
    return student(ctx, rng, acct, { campus, net, ua, stream, tz, labDays, labHour, homework });
  });
}

function* student(ctx: SimContext, rng: Rng, acct: AccountProfile, c: { campus: string; net: Network; ua: string; stream: boolean | undefined; tz: number; labDays: number[]; labHour: number; homework: { text: string }[] }): Actor {
  const ip = `${c.campus}.${rng.int(2, 250)}`;
  const home = rng.pick(byKind(['residential']));
  const homeIp = ipIn(home, rng);
  const explains = rng.chance(0.3);
  for (let day = localDayStart(Math.max(ctx.start, acct.createdAt), c.tz); day < ctx.end; day += DAY) {
    const dow = new Date(day + c.tz * HOUR).getUTCDay();
    const lab = c.labDays.includes(dow);
    if (!lab && !rng.chance(0.35)) continue;
    let ts = lab ? day + (c.labHour + rng.next() * 0.5) * HOUR : day + (18 + rng.next() * 5) * HOUR;
    const sittings = lab ? 1 + rng.poisson(1.5) : 1;
    for (let s = 0; s < sittings; s++) {
      const p = rng.pick(c.homework);
      const text = explains && rng.chance(0.5) ? rng.pick(HUMAN_EXPLAIN)(p.text) : p.text;
      const conv = ctx.ids.conversation();
      const turns = 1 + Math.floor(rng.exponential(1.8));
      for (let k = 0; k < turns; k++) {
        if (ts >= ctx.end) return;
        const client: ClientSpec = lab ? { ip, network: c.net, userAgent: c.ua, country: acct.country, stream: c.stream } : { ip: homeIp, network: home, userAgent: c.ua, country: acct.country, stream: c.stream };
        yield buildExchange(ctx.ids, rng, ts, acct, client, { model: ctx.models.current, maxTokens: null, temperature: null, outputTokens: rng.lognormal(450, 0.5), conversationId: conv }, { history: k ? historyFor(rng, text, k) : [], text: k ? rng.pick(FOLLOW_UPS) : text });
        ts += Math.round(rng.lognormal(150_000, 0.7));
      }
      ts += Math.round(rng.lognormal(10 * MINUTE, 0.5));
    }
  }
}

/** An evaluation run: a researcher sends a public benchmark once or a few times, automated, bounded. */
export function* evalRun(ctx: SimContext, rng: Rng): Actor {
  const tier = rng.pick(['research', 'standard', 'enterprise']);
  // Some researchers sign up for the run itself: a new account at full throughput on its first day.
  const fresh = rng.chance(0.4);
  const firstStart = ctx.start + rng.next() * (ctx.end - ctx.start) * 0.8;
  const acct = newAccount(ctx, rng, { createdAt: fresh ? firstStart - rng.next() * 2 * DAY : agedCreation(ctx, rng), tier, verified: fresh ? rng.chance(0.5) : true });
  register(ctx, acct.id, { population: 'eval_run', malicious: false });
  const net = rng.pick(byKind(['cloud', 'university', 'datacenter']));
  const ip = ipIn(net, rng);
  const ua = rng.pick(USER_AGENTS.slice(0, 9));
  const stream = pickStream(rng);
  const bench: PromptCategory = rng.pick(['math', 'coding', 'tools']);
  const size = Math.min(ctx.prompts.size(bench), rng.int(150, 1000));
  const cot = bench === 'math' && rng.chance(0.7);
  const runs = rng.int(1, 3);
  const temperature = rng.pick([0, 0, 0.2, null]);
  // Runs start in order and never overlap: an actor yields its exchanges in time order.
  const starts = [firstStart, ...Array.from({ length: runs - 1 }, () => firstStart + rng.next() * (ctx.end - firstStart))].sort((a, b) => a - b);
  let ts = ctx.start;
  for (let r = 0; r < runs; r++) {
    ts = Math.max(ts, starts[r]!);
    const model = r === 0 ? ctx.models.current : rng.pick([ctx.models.current, ctx.models.previous]);
    for (let i = 0; i < size; i++) {
      ts += Math.round(rng.lognormal(1500, 0.6));
      if (ts >= ctx.end) break;
      const p = ctx.prompts.item(bench, i);
      const text = cot ? `Q: ${p.text}\nA: Let's think step by step.` : p.text;
      yield buildExchange(ctx.ids, rng, ts, acct, { ip, network: net, userAgent: ua, country: acct.country, stream }, { model, maxTokens: rng.pick([1024, 2048]), temperature, outputTokens: rng.lognormal(300, 0.5), ...(p.tools ? { tools: p.tools } : {}) }, { history: [], text });
    }
  }
}

/** Coding agents: long multi-turn working stretches with real tool results, automated pacing, a developer's hours. */
export function* codingAgent(ctx: SimContext, rng: Rng): Actor {
  const product = rng.pick(AGENT_PRODUCTS);
  const acct = newAccount(ctx, rng, { createdAt: agedCreation(ctx, rng), tier: rng.pick(['standard', 'enterprise', 'startup']) });
  register(ctx, acct.id, { population: 'coding_agent', malicious: false });
  const net = rng.pick(byKind(['residential', 'corporate', 'cloud', 'datacenter']));
  const ip = ipIn(net, rng);
  const tz = rng.int(-8, 9);
  const tools = product.tools.map((name) => ({ name, description: `${name} tool` }));
  const maxTokens = rng.pick([8192, 8192, 16000, null]);
  const thinking = rng.chance(0.4) ? rng.pick([2048, 4000, 8000, 16000]) : undefined;
  for (let day = localDayStart(ctx.start, tz); day < ctx.end; day += DAY) {
    if (!rng.chance(0.7)) continue;
    let ts = day + (9 + rng.next() * 4) * HOUR;
    const sittings = 1 + rng.poisson(2);
    for (let s = 0; s < sittings; s++) {
      const task = ctx.prompts.random('coding', rng).text;
      const conv = ctx.ids.conversation();
      const steps = rng.int(8, 50);
      const history: Exchange['request']['messages'] = [{ role: 'user', content: task }];
      for (let k = 0; k < steps; k++) {
        if (ts >= ctx.end || ts >= day + 23 * HOUR) break;
        const call = rng.pick(product.tools);
        const ex = buildExchange(ctx.ids, rng, ts, acct, { ip, network: net, userAgent: product.ua, country: acct.country }, { model: modelFor(ctx, rng, ts, 0.8), system: product.system, tools, maxTokens, temperature: null, outputTokens: rng.lognormal(250, 0.7), conversationId: conv, stream: true, toolCall: call, ...(thinking ? { thinkingBudget: thinking } : {}) }, { history: k ? history.slice(0, -1).map((m) => ({ role: m.role as 'user' | 'assistant', content: m.content })) : [], text: k ? `Tool ${call} finished.` : task });
        if (k > 0) {
          // The real shape of an agent turn: the tool result travels in the user message.
          const last = ex.request.messages[ex.request.messages.length - 1]!;
          last.content = [{ type: 'tool_result', tool_use_id: `tu_${rng.hex(8)}`, content: `exit code 0\n${rng.hex(24)}` }, { type: 'text', text: 'Continue.' }];
        }
        yield ex;
        history.push({ role: 'assistant', content: [{ type: 'tool_use', name: call, input: {} }] }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: `tu_${rng.hex(8)}`, content: 'ok' }] });
        if (history.length > 16) history.splice(1, 2);
        ts += Math.round(rng.lognormal(9000, 0.6));
      }
      ts += Math.round(rng.lognormal(40 * MINUTE, 0.6));
    }
  }
}

/** A big customer that moves most of its traffic to the new model on release day. */
export function* releaseMover(ctx: SimContext, rng: Rng, perDay: number): Actor {
  const acct = newAccount(ctx, rng, { createdAt: agedCreation(ctx, rng), tier: 'enterprise', orgId: ctx.ids.org(), verified: true });
  register(ctx, acct.id, { population: 'release_mover', malicious: false });
  const net = rng.pick(byKind(['cloud']));
  const ips = [ipIn(net, rng), ipIn(net, rng)];
  const ua = rng.pick(USER_AGENTS.slice(0, 9));
  const stream = pickStream(rng);
  const system = customSystemPrompt(rng);
  const tz = rng.int(-6, 2);
  let ts = ctx.start;
  while (ts < ctx.end) {
    const h = ((ts / HOUR + tz) % 24 + 24) % 24;
    ts += Math.round(rng.exponential(DAY / (perDay * (h >= 6 && h < 22 ? 1.3 : 0.2))));
    if (ts >= ctx.end) return;
    const moved = ts >= ctx.models.nextReleaseAt + 3 * HOUR && rng.chance(0.9);
    const p = ctx.prompts.random(rng.pick<PromptCategory>(['chat', 'coding', 'instructions']), rng);
    yield buildExchange(ctx.ids, rng, ts, acct, { ip: rng.pick(ips), network: net, userAgent: ua, country: acct.country, stream }, { model: moved ? ctx.models.next : ctx.models.current, system, maxTokens: 2048, temperature: 0.5, outputTokens: rng.lognormal(400, 0.5) }, { history: [], text: p.text });
  }
}

/**
 * Bystanders of a proxy network: honest users at home behind the residential and campus
 * addresses a hydra's proxies also exit from, honest servers behind the cloud NAT a relay
 * also leaves from, and the reseller's own honest customers, whose every request leaves
 * from another exit of the pool. They share addresses with a campaign and nothing else.
 */
export function bystanders(ctx: SimContext, rng: Rng, n: { atHome: number; resellerCustomers: number }): Actor[] {
  const actors: Actor[] = [];
  const homes = ctx.exits.proxy.filter((e) => e.net.kind === 'residential' || e.net.kind === 'university');
  const behind = [...homes, ...ctx.exits.cloud];
  for (let i = 0; i < n.atHome && behind.length > 0; i++) {
    const home = rng.pick(behind);
    actors.push(ordinaryUser(ctx, rng, { population: 'bystander', exit: () => home }));
  }
  for (let i = 0; i < n.resellerCustomers && ctx.exits.proxy.length > 0; i++) {
    actors.push(ordinaryUser(ctx, rng, { population: 'reseller_customer', exit: (r) => r.pick(ctx.exits.proxy) }));
  }
  return actors;
}

const BATCH_TASKS = [
  (t: string): string => `Classify the following support ticket into one of: billing, shipping, account, other. Reply with the label only.\n\nTicket: ${t}`,
  (t: string): string => `Extract the company names, dates and amounts from the text below as JSON.\n\nText: ${t}`,
  (t: string): string => `Summarise in one sentence:\n${t}`,
];

/**
 * A company's batch pipeline: several accounts of one organisation, one harness and one
 * payment method, single-turn requests around the clock at a steady volume, classification,
 * extraction and summaries, no reasoning asked for. Coordinated and automated, yet harvests nothing.
 */
export function batchPipeline(ctx: SimContext, rng: Rng, accounts: number, perDay: number): Actor[] {
  const org = ctx.ids.org();
  const payment = ctx.ids.payment();
  const net = rng.pick(byKind(['cloud', 'datacenter']));
  const ips = Array.from({ length: 2 }, () => ipIn(net, rng));
  const ua = rng.pick(USER_AGENTS.slice(0, 10));
  const system = customSystemPrompt(rng);
  const task = rng.pick(BATCH_TASKS);
  const created = agedCreation(ctx, rng);
  const maxTokens = rng.pick([256, 512]);
  return Array.from({ length: accounts }, () => {
    const acct = newAccount(ctx, rng, { createdAt: created + rng.int(0, 60) * DAY, tier: rng.pick(['enterprise', 'standard']), orgId: org, payment, verified: true, emailDomain: `corp-${org.slice(4, 10)}.example` });
    register(ctx, acct.id, { population: 'batch_pipeline', malicious: false });
    const rate = perDay * rng.lognormal(1, 0.3);
    return (function* (): Actor {
      let ts = ctx.start + rng.next() * HOUR;
      for (;;) {
        // A queue drained steadily, day and night.
        ts += Math.round(rng.exponential(DAY / rate));
        if (ts >= ctx.end) return;
        const p = ctx.prompts.random(rng.chance(0.7) ? 'chat' : 'instructions', rng);
        yield buildExchange(ctx.ids, rng, ts, acct, { ip: rng.pick(ips), network: net, userAgent: ua, country: acct.country }, { model: ctx.models.current, system, maxTokens, temperature: 0, outputTokens: 60 }, { history: [], text: task(p.text) });
      }
    })();
  });
}
