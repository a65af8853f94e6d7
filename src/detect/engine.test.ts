import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExchangeFeatures } from '../core/features.js';
import { DetectionEngine } from './engine.js';
import { DEFAULT_PARAMS } from './params.js';
import { EventTimeTicker, replay } from './ticker.js';
import type { LinkerKind } from '../link/linker.js';
import { feat } from './_test-features.js';
import { indicatorKey } from '../link/indicators.js';
import { sig64 } from '../signals/hash.js';

const T0 = Date.parse('2026-04-22T00:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A scripted pool: new accounts, one harness with an injected system prompt, a wrapper, round the clock. */
function campaignPool(
  prefix: string,
  accounts: number,
  from: number,
  hours: number,
  opts: { ipBase: number; payment?: (i: number) => string; harness?: string; system?: string },
): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  for (let h = 0; h < hours; h++) {
    for (let i = 0; i < accounts; i++) {
      for (let k = 0; k < 3; k++) {
        const ts = from + h * HOUR + i * 5_000 + k * 1_000_000;
        out.push(
          feat({
            account_id: `${prefix}${i}`,
            ts,
            ip: `203.0.${opts.ipBase + ((i + h) % 40)}.${(i * 7 + h) % 250}`,
            subnet: `203.0.${opts.ipBase + ((i + h) % 40)}.0/24`,
            asn: 64600 + ((i + h) % 6),
            account_created_at: from - 6 * HOUR,
            tier: 'edu',
            verified: false,
            payment_fp: opts.payment ? opts.payment(i) : `pm-${prefix}${i}`,
            system_sig: opts.system ?? 'sys-injected',
            harness_sig: opts.harness ?? 'h-harvester',
            template_prefix: 'tp-solve',
            template_suffix: 'ts-steps',
            capability: k % 2 ? 'coding' : 'reasoning',
            elicitation: 1,
            grading: k === 2 && h % 3 === 0,
            max_tokens: 8192,
          }),
        );
      }
    }
  }
  return out;
}

/**
 * A relay: fresh accounts pass an operator's customers' real, diverse prompts through a few
 * shared egress IPs with one client and no injected prompt, round the clock.
 */
function relayPool(accounts: number, days: number, o: { oneEgressEach?: boolean } = {}): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  const egress = Array.from({ length: 6 }, (_, j) => ({ ip: `198.18.${j * 11}.${20 + j}`, subnet: `198.18.${j * 11}.0/24`, asn: 64700 + (j % 4) }));
  for (let i = 0; i < accounts; i++) {
    let ts = T0 + i * 600_000;
    let k = 0;
    while (ts < T0 + days * DAY) {
      // Each account on one of three egress addresses (no rotation of its own), or rotating over six.
      const e = egress[o.oneEgressEach ? i % 3 : (i + k) % egress.length]!;
      out.push(
        feat({
          account_id: `relay${i}`,
          ts,
          ...e,
          account_created_at: T0 - 3 * HOUR,
          tier: 'standard',
          payment_fp: `pm-relay-${i}`,
          harness_sig: 'h-relay',
          n_messages: 1 + (k % 3) * 2,
          n_user_turns: 1 + (k % 3),
          capability: k % 4 ? 'general_chat' : 'coding',
        }),
      );
      // Customers' requests arrive all day and night, a few minutes apart; as they come (a
      // Poisson stream, no fixed cadence) when each account stays on one egress.
      const u = (((i * 7919 + k * 104_729) % 1000) + 0.5) / 1000;
      ts += o.oneEgressEach ? Math.round(-Math.log(u) * 300_000) : 240_000 + ((i * 7919 + k * 104_729) % 300_000);
      k++;
    }
  }
  return out;
}

/**
 * A relay that brings in its accounts one by one, `arrivalMinutes` apart, as its customers
 * grow: each made at its own time (no creation burst), on the operator's six cloud egress
 * addresses, carrying `perHour` requests an hour as they come, a third of them later turns of
 * its customers' conversations.
 */
function growingRelay(accounts: number, hours: number, arrivalMinutes: number, perHour: number): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  const egress = Array.from({ length: 6 }, (_, j) => ({ ip: `198.18.${j * 11}.${20 + j}`, subnet: `198.18.${j * 11}.0/24`, asn: 64700 + (j % 4) }));
  for (let i = 0; i < accounts; i++) {
    let ts = T0 + i * arrivalMinutes * 60_000;
    for (let k = 0; ts < T0 + hours * HOUR; k++) {
      const continues = (i * 31 + k * 17) % 20 < 7;
      out.push(
        feat({
          account_id: `relay${i}`,
          ts,
          ...egress[(i * 5 + k * 3) % 6]!,
          account_created_at: T0 - ((i * 0.37) % 1) * DAY,
          tier: 'standard',
          payment_fp: `pm-relay-${i}`,
          harness_sig: 'h-relay',
          n_messages: continues ? 3 : 1,
          n_user_turns: continues ? 2 : 1,
          capability: k % 4 ? 'general_chat' : 'coding',
        }),
      );
      const u = (((i * 7919 + k * 104_729) % 1000) + 0.5) / 1000;
      ts += Math.round((-Math.log(u) * HOUR) / perHour);
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

/**
 * A new company's batch pipeline: accounts of one organisation made the day before, one
 * card, one egress, one client, single-turn classification requests day and night.
 */
function batchPipeline(accounts: number, days: number, asks: Partial<ExchangeFeatures> = {}): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  for (let i = 0; i < accounts; i++) {
    for (let ts = T0 + i * 60_000, k = 0; ts < T0 + days * DAY; k++) {
      out.push(feat({ account_id: `batch${i}`, ts, org_id: 'org-newco', ip: '192.0.2.50', subnet: '192.0.2.0/24', payment_fp: 'pm-newco', account_created_at: T0 - DAY, tier: 'standard', harness_sig: 'h-batch', system_sig: 'sys-batch', template_prefix: 'tp-classify', capability: 'general_chat', max_tokens: 256, ...asks }));
      ts += 250_000 + ((i * 7919 + k * 104_729) % 40_000);
    }
  }
  return out;
}

/** People at one company: one org, one egress IP, one payment method, office hours, conversations. */
function enterprise(accounts: number, days: number): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  for (let d = 0; d < days; d++) {
    for (let i = 0; i < accounts; i++) {
      const n = 3 + ((i * 7 + d) % 6);
      for (let k = 0; k < n; k++) {
        const ts = T0 + d * DAY + (9 + ((i + k * 3) % 8)) * HOUR + ((i * 13 + k * 17) % 50) * 60_000;
        out.push(
          feat({
            account_id: `emp${i}`,
            ts,
            org_id: 'org-acme',
            ip: '192.0.2.10',
            subnet: '192.0.2.0/24',
            payment_fp: 'pm-acme',
            tier: 'enterprise',
            n_messages: 1 + (k % 4) * 2,
            n_user_turns: 1 + (k % 4),
            capability: k % 3 ? 'general_chat' : 'coding',
            elicitation: (i + k) % 9 === 0 ? 1 : 0,
          }),
        );
      }
    }
  }
  return out;
}

/**
 * An evaluation run from an account made for it: new, unverified research tier, a public
 * math benchmark with the standard chain-of-thought suffix, 1,000 items at machine pace, `runs` times.
 */
function freshEvalRun(runs: number, address: { ip: string; subnet: string; asn?: number } = { ip: '192.0.2.200', subnet: '192.0.2.0/24' }): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  for (let r = 0; r < runs; r++) {
    for (let i = 0; i < 1000; i++) {
      out.push(
        feat({
          account_id: 'researcher',
          ts: T0 + r * 2 * DAY + i * 1_500 + ((i * 7919) % 700),
          ...address,
          tier: 'research',
          verified: false,
          account_created_at: T0 - 6 * HOUR,
          harness_sig: 'h-eval',
          template_prefix: 'tp-q',
          template_suffix: 'ts-lets-think',
          prompt_hash: `gsm-${i}`,
          capability: 'reasoning',
          elicitation: 1,
          max_tokens: 1024,
        }),
      );
    }
  }
  return out;
}

/**
 * A hydra pool whose proxies also exit from a cloud address (four of its members use it now
 * and then), and a fresh-account evaluation run from that address (`freshEvalRun`, 3 runs),
 * each exchange of either first passed through its `pool` or `evalRun` edit; the engine after both.
 */
function evalRunBesideHydra(edit: { pool?: (f: ExchangeFeatures, n: number) => ExchangeFeatures; evalRun?: (f: ExchangeFeatures, i: number) => ExchangeFeatures } = {}): DetectionEngine {
  const cloud = { ip: '198.51.100.7', subnet: '198.51.100.0/24', asn: 64800 };
  const pool = campaignPool('hyd', 12, T0, 48, { ipBase: 10 }).map((f, n) => {
    const edited = edit.pool ? edit.pool(f, n) : f;
    return n % 5 === 0 && /^hyd[0-3]$/.test(f.account_id) ? { ...edited, ...cloud } : edited;
  });
  const evalRun = freshEvalRun(3, cloud).map((f, i) => (edit.evalRun ? edit.evalRun(f, i) : f));
  return run([...pool, ...evalRun]);
}

/** A SaaS product: one account, huge volume, one template around real user content, diurnal. */
function saas(days: number): ExchangeFeatures[] {
  const out: ExchangeFeatures[] = [];
  for (let d = 0; d < days; d++) {
    for (let h = 0; h < 24; h++) {
      const load = h >= 7 && h <= 22 ? 40 : 4;
      for (let k = 0; k < load; k++) {
        out.push(
          feat({
            account_id: 'saas',
            ts: T0 + d * DAY + h * HOUR + k * 80_000 + ((k * 7919) % 50_000),
            ip: `192.0.2.${100 + (k % 3)}`,
            subnet: '192.0.2.0/24',
            tier: 'enterprise',
            system_sig: 'sys-saas',
            harness_sig: 'h-saas',
            template_prefix: 'tp-saas',
            template_suffix: 'ts-saas',
          }),
        );
      }
    }
  }
  return out;
}

/** Which of its cell's four sentences each of a cell's ten accounts wraps its items in. */
const CELL_COMBOS = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3], [0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]];

/**
 * An operator in eight cells of ten fresh accounts, each on a client and address of its own,
 * wrapping 30 disjoint items of its own in two or three of its cell's four sentences
 * (`stockOf`). `extra` gives an item one more sentence and fields of its own.
 */
function operatorCells(
  stockOf: (cell: number) => readonly string[],
  extra: (cell: number, item: number) => { sentence: string; fields: Partial<ExchangeFeatures> } | null = () => null,
): ExchangeFeatures[] {
  return Array.from({ length: 8 * 10 * 30 }, (_, x) => {
    const j = x % 30;
    const a = Math.floor(x / 30);
    const cell = Math.floor(a / 10);
    const id = `op${cell}_${a % 10}`;
    const asks = CELL_COMBOS[a % 10]!.map((k) => stockOf(cell)[k]!);
    const more = extra(cell, j);
    return feat({ account_id: id, ts: T0 + a * 60_000 + j * 90 * 60_000, ip: `203.0.${a}.9`, subnet: `203.0.${a}.0/24`, user_agent: `client/${a}`, harness_sig: `h-op${a}`, account_created_at: T0 - (3 + (a % 7)) * DAY - a * HOUR, verified: false, elicitation: 1, prompt_hash: sig64(`${id}-item${j}`), phrase_sigs: `${id}-item${j} ${asks[j % asks.length]}${more ? ` ${more.sentence}` : ''}`, ...more?.fields });
  });
}

/** Every account of `operatorCells` flagged. */
function assertCellsFlagged(e: DetectionEngine): void {
  for (let a = 0; a < 80; a++) assert.equal(e.verdictOf(`op${Math.floor(a / 10)}_${a % 10}`)?.verdict, 'distillation', `op${Math.floor(a / 10)}_${a % 10}`);
}

function run(exchanges: ExchangeFeatures[], params = {}, linker: LinkerKind = 'incremental'): DetectionEngine {
  return replay(new DetectionEngine({ params, linker }), [...exchanges].sort((a, b) => a.ts - b.ts));
}

describe('DetectionEngine', () => {
  it('groups a scripted pool into one campaign and flags every account in it', () => {
    const engine = run([...campaignPool('bot', 12, T0, 48, { ipBase: 0 }), ...enterprise(10, 2)]);
    const campaigns = engine.campaignList();
    assert.equal(campaigns.length, 1);
    const members = engine.membersOfCampaign(campaigns[0]!.id);
    assert.deepEqual(members, Array.from({ length: 12 }, (_, i) => `bot${i}`).sort());
    const flagged = engine.verdicts().filter((v) => v.verdict === 'distillation');
    assert.equal(flagged.length, 12);
    for (const v of flagged) {
      assert.ok(v.flaggedAt !== null && v.flaggedAt - T0 <= 24 * HOUR, `${v.accountId} flagged within its first day`);
      assert.ok(v.reasons.length > 0);
    }
  });

  it("says in a member's flag reason which of its own evidence took it into the campaign", () => {
    const engine = run([...campaignPool('bot', 12, T0, 48, { ipBase: 0 }), ...enterprise(10, 2)]);
    const asMember = engine.verdicts().filter((v) => v.reasons[0]?.includes('member of campaign'));
    assert.ok(asMember.length > 0);
    for (const v of asMember) assert.match(v.reasons[0]!, /member of campaign cmp_\d+ \(confidence [\d.]+\): (runs the group's client|sends the group's templates|behaves like the group|pays with|wraps its own|paraphrases)/, v.reasons[0]);
  });

  it('flags a relay by its harness, egress and lifecycle though its prompts are diverse and it injects no prompt', () => {
    const engine = run([...relayPool(12, 3), ...enterprise(10, 3)]);
    for (let i = 0; i < 12; i++) assert.equal(engine.verdictOf(`relay${i}`)?.verdict, 'distillation', `relay${i}: ${engine.verdictOf(`relay${i}`)?.reasons.join('; ')}`);
    for (let i = 0; i < 10; i++) assert.equal(engine.verdictOf(`emp${i}`)?.verdict, 'benign');
  });

  it('flags relay accounts on two kinds of their own evidence when each stays on one egress (no rotation, a modest risk total)', () => {
    const e = run(relayPool(9, 3, { oneEgressEach: true }));
    const flagged = e.verdicts().filter((v) => v.verdict === 'distillation');
    assert.equal(flagged.length, 9, JSON.stringify(e.verdicts().map((v) => [v.accountId, v.verdict, v.risk.toFixed(2)])));
  });

  it('flags a relay within six hours of its start, before any rhythm of its own could show', () => {
    const pool = relayPool(12, 2);
    const engine = run(pool);
    for (let i = 0; i < 12; i++) {
      const v = engine.verdictOf(`relay${i}`)!;
      const first = Math.min(...pool.filter((f) => f.account_id === `relay${i}`).map((f) => f.ts));
      assert.ok(v.flaggedAt !== null && v.flaggedAt - first <= 6 * HOUR, `relay${i} flagged ${v.flaggedAt === null ? 'never' : ((v.flaggedAt - first) / HOUR).toFixed(1) + ' h'} after its start: ${v.reasons.join('; ')}`);
    }
  });

  it('flags a relay that brings in its accounts one by one within six hours of its start, its newest accounts not yet judged', () => {
    // A new account every 35 minutes: at any linking run most members are too young to show a
    // first day's pace or carried conversations; counted as lacking them, they kept the group
    // under its bar until its seventh hour. Members are still flagged only on two kinds of
    // evidence of their own.
    const engine = run(growingRelay(10, 24, 35, 5));
    const flagged = engine.verdicts().filter((v) => v.flaggedAt !== null);
    const first = Math.min(...flagged.map((v) => v.flaggedAt!));
    assert.ok(first - T0 <= 6 * HOUR, `relay first flagged ${flagged.length ? ((first - T0) / HOUR).toFixed(1) + ' h' : 'never'} after its start`);
    const firstOnes = flagged.filter((v) => v.flaggedAt === first);
    for (const v of firstOnes) assert.ok(v.exchanges >= 15, `${v.accountId} flagged at the first run with ${v.exchanges} exchanges of its own`);
    assert.equal(flagged.length, 10);
  });

  it('merges two flagged groups of one relay that share its client into one campaign, and goes on linking', () => {
    // Linking cut this relay in two flagged groups with one harness; merging them once looped
    // without end (the merge asked for client ties inside the moving group alone).
    const engine = run(growingRelay(10, 24, 40, 5));
    const campaigns = new Set(engine.verdicts().filter((v) => v.flaggedAt !== null).map((v) => v.campaignId));
    assert.deepEqual([...campaigns].length, 1, [...campaigns].join(', '));
    assert.equal(engine.verdicts().filter((v) => v.flaggedAt !== null).length, 10);
  });

  it('flags a load-balanced pool on shared cards within its members\' first six exchanges, before any of them has eight', () => {
    // An operator's job queue dispatched round-robin over aged accounts paying with three
    // cards: every prompt asks for the reasoning, one client with an injected prompt.
    const pool: ExchangeFeatures[] = [];
    for (let i = 0; i < 30; i++) {
      for (let k = 0; k < 6; k++) {
        pool.push(feat({ account_id: `q${i}`, ts: T0 + k * 15 * 60_000 + i * 20_000, payment_fp: `pm-queue-${i % 3}`, harness_sig: 'h-queue', system_sig: 'sys-queue', ip: `203.0.113.${i % 4}`, subnet: '203.0.113.0/24', elicitation: 1, grading: k === 3, capability: 'reasoning' }));
      }
    }
    // Someone else's request after the second hour, so that the linking run at its boundary happens.
    const later = feat({ account_id: 'someone', ts: T0 + 2 * HOUR + 60_000 });
    const engine = run([...pool, later, ...enterprise(10, 1)]);
    for (let i = 0; i < 30; i++) {
      const v = engine.verdictOf(`q${i}`)!;
      assert.equal(v.verdict, 'distillation', `q${i}: ${v.reasons.join('; ')}`);
      assert.ok(v.flaggedAt !== null && v.flaggedAt <= T0 + 2 * HOUR, `q${i} flagged at ${v.flaggedAt}`);
    }
  });

  it('links a pool whose members reach their fifth exchange between two hourly runs before the next hourly run', () => {
    // Every member has four exchanges at the 01:00 run (content shares count from the fifth) and
    // its fifth between 01:06 and 01:11; hourly runs alone would flag the pool at 02:00.
    const pool: ExchangeFeatures[] = [];
    for (let i = 0; i < 30; i++) {
      for (let k = 0; k < 8; k++) {
        pool.push(feat({ account_id: `q${i}`, ts: T0 + 10 * 60_000 + k * 14 * 60_000 + i * 10_000, payment_fp: `pm-queue-${i % 3}`, harness_sig: 'h-queue', system_sig: 'sys-queue', ip: `203.0.113.${i % 4}`, subnet: '203.0.113.0/24', elicitation: 1, grading: k === 3, capability: 'reasoning' }));
      }
    }
    const later = feat({ account_id: 'someone', ts: T0 + 2 * HOUR + 60_000 });
    const traffic = [...pool, later, ...enterprise(10, 1)];
    const engine = run(traffic);
    for (let i = 0; i < 30; i++) {
      const v = engine.verdictOf(`q${i}`)!;
      assert.equal(v.verdict, 'distillation', `q${i}: ${v.reasons.join('; ')}`);
      assert.ok(v.flaggedAt !== null && v.flaggedAt < T0 + 2 * HOUR, `q${i} flagged at ${new Date(v.flaggedAt ?? 0).toISOString()}`);
    }
    // One run in between, for the pool; none for the enterprise's accounts later that day.
    const hourly = run(traffic, { earlyLinkSuspects: 1_000_000 });
    assert.equal(hourly.verdictOf('q0')?.flaggedAt, T0 + 2 * HOUR, 'hourly runs alone flag the pool at 02:00');
    assert.equal(engine.linkRuns, hourly.linkRuns + 1);
  });

  it('does not make a suspect of a person whose first five prompts ask twice for worked answers', () => {
    const person = Array.from({ length: 5 }, (_, k) => feat({ account_id: 'pat', ts: T0 + k * 10 * 60_000, elicitation: k < 2 ? 1 : 0, n_user_turns: 1 + (k % 2), n_messages: 1 + 2 * (k % 2) }));
    const v = run(person).verdictOf('pat')!;
    assert.ok(v.risk < DEFAULT_PARAMS.suspectRisk, `risk ${v.risk}: ${v.reasons.join('; ')}`);
  });

  it('calls a lone relay account suspicious within hours, though it harvests nothing and no group is flagged', () => {
    const lone = relayPool(1, 0.3);
    const v = run(lone).verdictOf('relay0')!;
    assert.equal(v.verdict, 'suspicious', v.reasons.join('; '));
    assert.ok(v.reasons.some((r) => r.startsWith('relayed_conversations')), v.reasons.join('; '));
  });

  it('does not take a new account\'s own long conversations, kept up all day, for relayed ones', () => {
    // A fresh account on a chat product's steady load: every conversation starts on it.
    const out: ExchangeFeatures[] = [];
    for (let k = 0; k < 400; k++) {
      const turn = k % 4;
      out.push(feat({ account_id: 'chat', ts: T0 + k * 200_000, account_created_at: T0 - HOUR, conversation_id: `conv-${Math.floor(k / 4)}`, n_messages: 1 + turn * 2, n_user_turns: 1 + turn }));
    }
    const v = run(out).verdictOf('chat')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
    assert.ok(!v.reasons.some((r) => r.startsWith('relayed_conversations')), v.reasons.join('; '));
  });

  it('leaves a new company\'s batch pipeline on one harness, one card and one egress benign', () => {
    // Each account fills its one wrapper with a different ticket every time: a template over
    // differing items, as a problem bank's, at full throughput from its first day.
    const e = run(batchPipeline(6, 4));
    assert.ok(e.verdictOf('batch0')!.reasons.some((r) => r.startsWith('templated_bank')), e.verdictOf('batch0')!.reasons.join('; '));
    assert.deepEqual(e.verdicts().filter((v) => v.verdict !== 'benign').map((v) => v.accountId), []);
    assert.equal(e.campaignList().length, 0);
  });

  it('still flags one organisation\'s accounts when what they fill their wrapper with asks for the reasoning', () => {
    const e = run(batchPipeline(6, 4, { elicitation: 1, capability: 'reasoning', max_tokens: 4096 }));
    assert.deepEqual(e.verdicts().filter((v) => v.verdict === 'distillation').map((v) => v.accountId).sort(), Array.from({ length: 6 }, (_, i) => `batch${i}`));
  });

  it('keeps a reseller\'s honest customer out of the hydra whose proxy pool it shares, though some of its prompts ask for steps', () => {
    const pool = campaignPool('hyd', 12, T0, 48, { ipBase: 10 });
    const poolIps = [...new Set(pool.map((f) => f.ip))];
    // A person through the reseller: every request from another exit of the pool, daytime,
    // conversations (a question, then a follow-up in the same conversation), five of twelve
    // questions asking to be walked through the steps.
    const customer = Array.from({ length: 12 }, (_, k) => {
      const ip = poolIps[(k * 37) % poolIps.length]!;
      return feat({ account_id: 'customer', ts: T0 + DAY + (9 + k) * HOUR, ip, subnet: ip.replace(/\.\d+$/, '.0/24'), asn: 64600 + (k % 6), elicitation: k % 12 < 5 ? 1 : 0, conversation_id: `customer-${k >> 1}`, n_messages: 1 + (k % 2) * 2, n_user_turns: 1 + (k % 2) });
    });
    const e = run([...pool, ...customer]);
    assert.equal(e.verdictOf('hyd0')?.verdict, 'distillation', 'the pool is flagged');
    assert.equal(e.verdictOf('customer')?.verdict, 'benign', JSON.stringify(e.verdictOf('customer')?.reasons));
  });

  it('leaves an enterprise behind one IP and payment method benign', () => {
    const engine = run(enterprise(30, 5));
    assert.equal(engine.campaignList().length, 0);
    assert.equal(engine.verdicts().filter((v) => v.verdict === 'distillation').length, 0);
  });

  it("keeps a company out of an operation that shares its egress and client: the company's card is not the group's", () => {
    // Medium scenario, seed 2: an operation's accounts left from two companies' NAT addresses
    // with the SDK their employees use, so the companies' employees were in the operation's
    // component, and each company's card, held by its sixty employees, was a shared
    // payment method of the community: all 120 were flagged as paying with it, none a suspect.
    const pool = campaignPool('hyd', 24, T0, 72, { ipBase: 1, harness: 'h-sdk' }).map((f, i) => (i % 4 === 0 ? { ...f, ip: '192.0.2.10', subnet: '192.0.2.0/24' } : f));
    const company = enterprise(30, 3).map((f) => ({ ...f, harness_sig: 'h-sdk' }));
    const e = run([...pool, ...company]);
    assert.equal(e.verdictOf('hyd0')?.verdict, 'distillation', 'the pool is flagged');
    const flagged = company.map((f) => f.account_id).filter((a, i, all) => all.indexOf(a) === i && e.verdictOf(a)?.verdict === 'distillation');
    assert.deepEqual(flagged, [], flagged.length > 0 ? e.verdictOf(flagged[0]!)!.reasons.join('; ') : '');
  });

  it('takes in the accounts of an operation that pay with one card', () => {
    const e = run(campaignPool('farm', 16, T0, 48, { ipBase: 1, payment: (i) => `pm-farm-${i % 2}` }));
    assert.equal(e.verdicts().filter((v) => v.verdict === 'distillation').length, 16);
  });

  it('leaves an evaluation run from a brand-new research account benign', () => {
    for (const runs of [1, 3]) {
      const v = run(freshEvalRun(runs)).verdictOf('researcher')!;
      assert.equal(v.verdict, 'benign', `${runs} run(s): ${v.reasons.join('; ')}`);
    }
  });

  it('keeps an evaluation run on a fresh account out of a hydra whose cloud address it shares, though it asks for every step', () => {
    // It shares no client, template or card with the pool.
    const e = evalRunBesideHydra();
    assert.equal(e.verdictOf('hyd0')?.verdict, 'distillation', 'the pool is flagged');
    const v = e.verdictOf('researcher')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it('keeps such an evaluation run out though it also ends its prompts with the step-by-step suffix the hydra uses', () => {
    // On the whole hydra-28m file three evaluation runs were taken in this way: one cloud
    // address and the public step-by-step suffix, both of which the operation also used.
    const e = evalRunBesideHydra({ evalRun: (f) => ({ ...f, template_suffix: 'ts-steps' }) });
    assert.equal(e.verdictOf('hyd0')?.verdict, 'distillation', 'the pool is flagged');
    const v = e.verdictOf('researcher')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it('keeps such an evaluation run out though the step-by-step sentence it wraps every item in is one the hydra sends too', () => {
    // On the whole hydra-28m file the suffix is a sentence as well as a template: the run wraps
    // each of its different items in it, and the operation's accounts send it too.
    const e = evalRunBesideHydra({
      pool: (f, n) => ({ ...f, phrase_sigs: `ask${n % 97} cot-steps` }),
      evalRun: (f, i) => ({ ...f, template_suffix: 'ts-steps', phrase_sigs: `gsm-item${i % 1000} cot-steps` }),
    });
    assert.equal(e.verdictOf('hyd0')?.verdict, 'distillation', 'the pool is flagged');
    const v = e.verdictOf('researcher')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it("keeps a student out of an operation whose stock of sentences holds the one the student ends every homework prompt with", () => {
    // The medium scenario: the adaptive operator's stock holds a sentence that 1,300-1,500 of
    // its 11,800 accounts use; students who end each homework prompt with it were taken into
    // the operator's campaign as wrapping its prompts in the group's sentences (one of them).
    // Here the operator's eight cells (`operatorCells`) share one of their four sentences. The student wraps each of its class's homework problems,
    // which two classmates asked before, in the common one only: the community it falls in
    // (two cells) holds about a quarter of that sentence's users.
    const cells = operatorCells((cell) => ['ask-common', `ask${cell}a`, `ask${cell}b`, `ask${cell}c`]);
    const classmates = Array.from({ length: 60 }, (_, x) => {
      const j = x % 30;
      const c = Math.floor(x / 30);
      return feat({ account_id: `classmate${c}`, ts: T0 + Math.floor(j / 5) * DAY + (9 + c) * HOUR + (j % 5) * 600_000, ip: `198.18.${1 + c}.7`, subnet: `198.18.${1 + c}.0/24`, user_agent: `browser/${2 + c}`, harness_sig: `h-web${2 + c}`, account_created_at: T0 - (200 + 30 * c) * DAY, tier: 'edu', prompt_hash: sig64(`homework${j}`), phrase_sigs: `homework${j}` });
    });
    const student = Array.from({ length: 30 }, (_, j) =>
      feat({ account_id: 'student', ts: T0 + Math.floor(j / 5) * DAY + (14 + (j % 5)) * HOUR + ((j * 7) % 50) * 60_000, ip: '198.18.0.7', subnet: '198.18.0.0/24', user_agent: 'browser/1', harness_sig: 'h-web', tier: 'edu', elicitation: j % 3 === 0 ? 1 : 0, prompt_hash: sig64(`student:homework${j}`), phrase_sigs: `homework${j} ask-common` }),
    );
    const e = run([...cells, ...classmates, ...student]);
    assertCellsFlagged(e);
    const v = e.verdictOf('student')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it("keeps a student out of an operation some of whose accounts ask two public questions the student asks for several languages", () => {
    // The medium scenario, seed 6: a student asked two of a public bank's coding questions for
    // one language after another ("SQL: fastest way to paginate...", "JavaScript: ..."), so each
    // question's sentence wrapped several of its prompts, as a stock sentence wraps an
    // operator's items, in the "{language}: ..." template the operator's accounts also send the
    // bank's questions in. It fell into the operator's community through the template and was
    // taken in as wrapping its prompts in two of the group's sentences, though 2-3% of those
    // sentences' users were in the group. Here the operator's first cell puts both questions
    // to three languages each; 250 learners in 25 classes do too, each wrapping homework in
    // its class's sentence, and so does the student, after homework it asks to be shown the
    // working of: about 4% of the questions' users are in the group.
    const QUESTIONS = ['q-paginate', 'q-debounce'];
    const LANGUAGE_TEMPLATE = { template_prefix: 'tp-language-question' };
    const cells = operatorCells(
      (cell) => [`ask${cell}a`, `ask${cell}b`, `ask${cell}c`, 'ask-common'],
      (cell, j) => (cell === 0 && j < 6 ? { sentence: QUESTIONS[j % 2]!, fields: LANGUAGE_TEMPLATE } : null),
    );
    const learners = Array.from({ length: 250 * 20 }, (_, x) => {
      const j = x % 20;
      const l = Math.floor(x / 20);
      const id = `learner${l}`;
      const text = j < 6 ? QUESTIONS[j % 2]! : j < 11 ? `${id}-hw${j} class${l % 25}-ask` : `${id}-own${j}`;
      return feat({ account_id: id, ts: T0 + (j % 4) * DAY + (8 + (l % 10)) * HOUR + j * 60_000, ip: `198.19.${l}.7`, subnet: `198.19.${l}.0/24`, user_agent: `browser/${l}`, harness_sig: `h-web-${l % 3}`, account_created_at: T0 - (100 + l) * DAY, prompt_hash: sig64(`${id}:${j}`), phrase_sigs: text });
    });
    const student = Array.from({ length: 20 }, (_, j) => {
      const question = j >= 14;
      const text = question ? QUESTIONS[j % 2]! : j < 8 ? `homework${j} show-your-work` : `followup${j}`;
      const followUp = j >= 8 && !question;
      return feat({ account_id: 'student', ts: T0 + Math.floor(j / 4) * DAY + (14 + (j % 4)) * HOUR, ip: '198.18.0.7', subnet: '198.18.0.0/24', user_agent: 'browser/1', harness_sig: 'h-web', tier: 'edu', elicitation: j < 8 ? 1 : 0, prompt_hash: sig64(`student:${j}`), phrase_sigs: text, n_messages: followUp ? 3 : 1, n_user_turns: followUp ? 2 : 1, ...(question ? LANGUAGE_TEMPLATE : {}) });
    });
    const e = run([...cells, ...learners, ...student]);
    assertCellsFlagged(e);
    const v = e.verdictOf('student')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it('leaves one very busy SaaS account on one template benign', () => {
    const engine = run(saas(4));
    assert.equal(engine.verdicts().filter((v) => v.verdict === 'distillation').length, 0);
  });

  it('keeps a tutoring product out of a campaign it shares only the sentences of a public problem bank with', () => {
    // Bank items are templated word problems: with their numbers masked, each of 30 sentences
    // recurs across items. A pool on one client fills its wrapper from the bank; loose accounts
    // of the same operator, each on its own client, card and address, fill the pool's wrapper
    // too and send the bank's items. A tutoring product sends the same bank's items under its
    // own fixed wrapper, asking for every step, day and night: it holds the bank's sentences.
    const bank = (i: number): string => `bank${i % 30}`;
    const pool = campaignPool('op', 12, T0, 48, { ipBase: 50 });
    const loose = Array.from({ length: 6 * 144 }, (_, j) => {
      const a = j % 6;
      const k = Math.floor(j / 6);
      return feat({ account_id: `loose${a}`, ts: T0 + k * 1_200_000 + a * 7_000, ip: `198.51.${a}.9`, subnet: `198.51.${a}.0/24`, harness_sig: `h-loose${a}`, payment_fp: `pm-loose${a}`, template_prefix: 'tp-solve', template_suffix: 'ts-steps', elicitation: 1, phrase_sigs: `ask${(a + k) % 3} ${bank(k)}` });
    });
    const tutor = Array.from({ length: 576 }, (_, k) =>
      feat({ account_id: 'tutor', ts: T0 + k * 300_000, account_created_at: T0 - 900 * DAY, email_domain: 'tutor.example', ip: '192.0.2.50', subnet: '192.0.2.0/24', harness_sig: 'h-tutor', system_sig: 'sys-tutor', elicitation: 1, phrase_sigs: `tutor-wrap ${bank(k * 7)}` }),
    );
    const e = run([...pool, ...loose, ...tutor]);
    for (let i = 0; i < 12; i++) assert.equal(e.verdictOf(`op${i}`)?.verdict, 'distillation', `op${i}`);
    const v = e.verdictOf('tutor')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it('keeps established tutoring products out of a hydra whose cloud subnets they share, though they ask for every step and share one public template', () => {
    // The pool rotates over 40 subnets of a cloud range; a tutoring product, years old and on a
    // paid tier, runs on one address of a subnet the pool's accounts also exit from. It sends
    // bank items under its own fixed wrapper asking for every step, day and night, at a
    // product's volume: content a harvester would send, but no tie of its own to the pool
    // beyond the address, and no lifecycle of a fraudulent account. Ties among the products
    // themselves (their template and wrapper sentence) are not ties to the operation.
    const pool = campaignPool('hyd', 12, T0, 48, { ipBase: 10 });
    // Three such products built on one public tutoring template and wrapper sentence.
    const tutors = [0, 1, 2].flatMap((t) =>
      Array.from({ length: 576 }, (_, k) =>
        feat({ account_id: `tutor${t}`, ts: T0 + 30_000 + t * 11_000 + k * 300_000, account_created_at: T0 - (900 + t) * DAY, tier: 'enterprise', email_domain: `tutor${t}.example`, ip: `203.0.${25 + t}.7`, subnet: `203.0.${25 + t}.0/24`, asn: 64601, harness_sig: `h-tutor${t}`, system_sig: `sys-tutor${t}`, template_prefix: 'tp-tutor', template_suffix: 'ts-tutor', phrase_sigs: `tutor-wrap item${k}`, capability: k % 3 ? 'reasoning' : 'coding', elicitation: 1, max_tokens: 1024 }),
      ),
    );
    const e = run([...pool, ...tutors]);
    for (let i = 0; i < 12; i++) assert.equal(e.verdictOf(`hyd${i}`)?.verdict, 'distillation', `hyd${i}`);
    for (let t = 0; t < 3; t++) {
      const v = e.verdictOf(`tutor${t}`)!;
      assert.equal(v.verdict, 'benign', v.reasons.join('; '));
    }
  });

  it('keeps established products that send under an operation\'s public template out of its campaign, though they ask for every step', () => {
    // The pool fills a public template (its prefix and suffix) with bank items on its own
    // client. Two tutoring products, years old and on a paid tier, each on its own client and
    // address, send their students' problems under the same public template, single-turn,
    // asking for every step, day and night: one under both parts of it, one under its suffix
    // with an opening of its own. Content and automation are a product's; the template is
    // public. Neither lives like the pool's accounts, so neither is the operation's.
    const pool = campaignPool('tpl', 12, T0, 48, { ipBase: 60 });
    const products = [0, 1].flatMap((t) =>
      Array.from({ length: 576 }, (_, k) =>
        feat({ account_id: `product${t}`, ts: T0 + 40_000 + t * 13_000 + k * 300_000, account_created_at: T0 - (700 + t) * DAY, tier: t === 0 ? 'enterprise' : 'standard', email_domain: `product${t}.example`, ip: `192.0.2.${60 + t}`, subnet: `192.0.2.0/24`, asn: 64610 + t, harness_sig: `h-product${t}`, system_sig: `sys-product${t}`, template_prefix: t === 0 ? 'tp-solve' : 'tp-product1', template_suffix: 'ts-steps', capability: k % 3 ? 'reasoning' : 'coding', elicitation: 1, max_tokens: 1024 }),
      ),
    );
    const e = run([...pool, ...products]);
    for (let i = 0; i < 12; i++) assert.equal(e.verdictOf(`tpl${i}`)?.verdict, 'distillation', `tpl${i}`);
    for (let t = 0; t < 2; t++) {
      const v = e.verdictOf(`product${t}`)!;
      assert.equal(v.verdict, 'benign', `product${t}: ${v.reasons.join('; ')}`);
    }
  });

  it('ties a fresh pool that keeps the banned pool harness to the same campaign within its first exchanges', () => {
    const first = campaignPool('old', 10, T0, 30, { ipBase: 0 });
    const fresh = campaignPool('new', 10, T0 + 40 * HOUR, 6, { ipBase: 100, payment: (i) => `pm-fresh-${i}` });
    const engine = run([...first, ...fresh]);
    const cid = engine.verdictOf('old0')?.campaignId;
    assert.ok(cid, 'first pool is a campaign');
    for (let i = 0; i < 10; i++) {
      const v = engine.verdictOf(`new${i}`)!;
      assert.equal(v.verdict, 'distillation');
      assert.equal(v.campaignId, cid);
      assert.ok(v.flaggedAt! - (T0 + 40 * HOUR) < 2 * HOUR, `new${i} flagged within 2 h of its first request`);
      assert.ok(v.reasons.some((r) => r.includes('reuses')), v.reasons.join('; '));
    }
  });

  it('leaves an established account that uses the sampling settings of a flagged pool without an injected prompt benign', () => {
    // Without the user agent a harness key is the sampling settings and tools: the pool's client
    // sends them with and without a bank item's tools, two keys of one client. An ordinary
    // account on the same settings that sends a tool-using item uses both.
    const withTools = (f: ExchangeFeatures, k: number): ExchangeFeatures => (k % 3 === 0 ? { ...f, harness_sig: 'h-settings-tools', n_tools: 1, tools_sig: 't-bank' } : f);
    const pool = campaignPool('op', 12, T0, 36, { ipBase: 0, harness: 'h-settings', system: '' }).map(withTools);
    const person = Array.from({ length: 7 }, (_, k) =>
      withTools(feat({ account_id: 'person', ts: T0 + 20 * HOUR + k * 1_800_000, ip: '192.0.2.77', subnet: '192.0.2.0/24', asn: 64999, payment_fp: 'pm-person', harness_sig: 'h-settings' }), k),
    );
    const e = run([...pool, ...person]);
    const cid = e.verdictOf('op0')?.campaignId;
    assert.ok(cid, 'the pool is a campaign');
    assert.ok(e.campaignList().find((c) => c.id === cid)?.signature.has(indicatorKey('harness', 'h-settings-tools')), 'both settings keys are the campaign\'s marks');
    const v = e.verdictOf('person')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it('leaves an established account on a pool\'s client settings and a public template it also fills benign', () => {
    // The medium scenario, seed 2: an ordinary user (13 exchanges, no evidence of its own) on a
    // client whose settings only the operation's accounts and it used, sending some prompts in a
    // template the operation also fills, was taken in as running the group's client with a
    // second mark of it. The template is public (tutors fill it too), so it is no signature of
    // the campaign's, and a client's settings are what a toolkit gives every user.
    const pool = campaignPool('op', 12, T0, 36, { ipBase: 0, harness: 'h-settings', system: '' });
    const tutors = Array.from({ length: 10 * 12 }, (_, x) => {
      const t = Math.floor(x / 12);
      const k = x % 12;
      return feat({ account_id: `tutor${t}`, ts: T0 + (k % 3) * DAY + (9 + k) * HOUR + t * 60_000, ip: `198.51.${t}.9`, subnet: `198.51.${t}.0/24`, harness_sig: `h-tutor${t}`, template_prefix: 'tp-solve' });
    });
    const person = Array.from({ length: 13 }, (_, k) =>
      feat({ account_id: 'person', ts: T0 + 20 * HOUR + k * 1_800_000, ip: '192.0.2.77', subnet: '192.0.2.0/24', asn: 64999, payment_fp: 'pm-person', harness_sig: 'h-settings', ...(k % 2 === 0 ? { template_prefix: 'tp-solve' } : {}) }),
    );
    const e = run([...pool, ...tutors, ...person]);
    for (let i = 0; i < 12; i++) assert.equal(e.verdictOf(`op${i}`)?.verdict, 'distillation', `op${i}`);
    const v = e.verdictOf('person')!;
    assert.equal(v.verdict, 'benign', v.reasons.join('; '));
  });

  it('names a replacement pool as ban evasion when the fresh pool takes over from a quiet one', () => {
    const first = campaignPool('old', 10, T0, 30, { ipBase: 0 });
    const fresh = campaignPool('new', 10, T0 + 40 * HOUR, 6, { ipBase: 100, payment: (i) => `pm-fresh-${i}` });
    const [c] = run([...first, ...fresh]).campaignList();
    assert.ok(c);
    assert.equal(c.replacementAccounts, 10);
    assert.ok(c.score.tactics.includes('ban_evasion'), c.score.tactics.join(','));
  });

  it('does not call a campaign that keeps its first pool and adds accounts ban evasion', () => {
    const first = campaignPool('old', 10, T0, 60, { ipBase: 0 });
    const more = campaignPool('new', 10, T0 + 40 * HOUR, 20, { ipBase: 100, payment: (i) => `pm-more-${i}` });
    const [c] = run([...first, ...more]).campaignList();
    assert.ok(c);
    assert.equal(c.replacementAccounts, 0);
    assert.ok(!c.score.tactics.includes('ban_evasion'));
  });

  it('lists the networks and clients a campaign\'s members share, most shared first', () => {
    const [c] = run(campaignPool('bot', 12, T0, 48, { ipBase: 0 })).campaignList();
    assert.ok(c);
    assert.deepEqual(c.asns.map(([asn]) => asn).sort(), [64600, 64601, 64602, 64603, 64604, 64605]);
    for (const [, holders] of c.asns) assert.equal(holders, 12);
    assert.deepEqual(c.userAgents, [['sdk/1.0', 12]]);
  });

  it('keeps two operators that share only a public template as two campaigns', () => {
    const a = campaignPool('opa', 10, T0, 36, { ipBase: 0, harness: 'h-a', system: 'sys-a' });
    const b = campaignPool('opb', 10, T0, 36, { ipBase: 100, harness: 'h-b', system: 'sys-b' });
    const engine = run([...a, ...b]);
    const ca = engine.verdictOf('opa0')?.campaignId;
    const cb = engine.verdictOf('opb0')?.campaignId;
    assert.ok(ca && cb, 'both flagged as campaigns');
    assert.notEqual(ca, cb);
    assert.equal(engine.campaignList().length, 2);
  });

  it('says when it would have flagged, never before the evidence existed', () => {
    const pool = campaignPool('bot', 8, T0 + 10 * DAY, 24, { ipBase: 0 });
    const engine = run(pool);
    for (const v of engine.verdicts()) if (v.flaggedAt !== null) assert.ok(v.flaggedAt > T0 + 10 * DAY);
  });

  it('holds at every tick the communities a from-scratch linking run finds, and flags the same', () => {
    const traffic = [
      ...campaignPool('opa', 10, T0, 36, { ipBase: 0, harness: 'h-a', system: 'sys-a' }),
      ...campaignPool('opb', 10, T0 + 5 * HOUR, 30, { ipBase: 100, harness: 'h-b', system: 'sys-b' }),
      ...campaignPool('new', 6, T0 + 40 * HOUR, 6, { ipBase: 50, harness: 'h-a', system: 'sys-a', payment: (i) => `pm-new-${i}` }),
      ...relayPool(8, 3),
      ...enterprise(10, 3),
      ...saas(2),
    ];
    // The verifying linker throws on the first tick where the incremental communities differ.
    const verified = run(traffic, {}, 'verify');
    const full = run(traffic, {}, 'full');
    assert.ok(verified.linkRuns > 50, `${verified.linkRuns} linking runs`);
    const flags = (e: DetectionEngine) => e.verdicts().map((v) => `${v.accountId} ${v.verdict} ${v.campaignId} ${v.flaggedAt}`);
    assert.deepEqual(flags(verified), flags(full));
    assert.ok(flags(full).length >= 30, flags(full).join('\n'));
  });

  it('links an account the gateway asks a verdict about on every request', () => {
    // Live, a verdict is asked after each exchange; that must not keep the account out of
    // the suspects linking starts from.
    const engine = new DetectionEngine();
    const ticker = new EventTimeTicker(engine, engine.params.linkIntervalMs);
    for (const f of campaignPool('bot', 12, T0, 36, { ipBase: 0 }).sort((a, b) => a.ts - b.ts)) {
      ticker.observe(f);
      engine.verdictOf(f.account_id);
    }
    ticker.finish();
    assert.equal(engine.campaignList().length, 1);
    assert.equal(engine.verdicts().filter((v) => v.verdict === 'distillation').length, 12);
  });

  it('flags a lone harvester on its own account once it has harvested for a day and a half, whether or not a verdict is asked on every request', () => {
    // Every prompt a different item (the pool's helper leaves the prompt hashes unset).
    const traffic = campaignPool('solo', 1, T0, 48, { ipBase: 0 }).map((f) => ({ ...f, prompt_hash: sig64(f.id) })).sort((a, b) => a.ts - b.ts);
    const flagOf = (askEachRequest: boolean) => {
      const engine = new DetectionEngine();
      const ticker = new EventTimeTicker(engine, engine.params.linkIntervalMs);
      for (const f of traffic) {
        ticker.observe(f);
        if (askEachRequest) engine.verdictOf(f.account_id);
      }
      ticker.finish();
      return engine.verdictOf('solo0');
    };
    const v = flagOf(false);
    assert.equal(v?.verdict, 'distillation');
    assert.equal(v?.campaignId, null);
    assert.match(v?.reasons[0] ?? '', /account alone/);
    // Not before it had harvested for aloneMinSpanHours, and on the first run after.
    const span = DEFAULT_PARAMS.aloneMinSpanHours * HOUR;
    assert.ok(v!.flaggedAt! > T0 + span && v!.flaggedAt! <= T0 + span + HOUR + DEFAULT_PARAMS.linkIntervalMs, new Date(v!.flaggedAt!).toISOString());
    assert.equal(flagOf(true)?.flaggedAt, v?.flaggedAt);
  });

  it('rejects invalid parameters with the parameter named', () => {
    assert.throws(() => new DetectionEngine({ params: { suspectRisk: 3 } }), /suspectRisk/);
  });
});
