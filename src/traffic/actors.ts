/**
 * Shared machinery of simulated actors: the context they draw from, the truth registry they
 * report to, account creation, and the text wrappers people and harnesses put around prompts.
 */
import type { Exchange } from '../core/exchange.js';
import type { PromptCategory, PromptSource } from './prompts.js';
import { Rng } from './rng.js';
import { COUNTRIES_SERVED, DAY, EMAIL_DOMAINS, HOUR, type AccountProfile, type Ids, type ModelCatalog, type Network } from './world.js';

export interface TruthAccount {
  population: string;
  malicious: boolean;
  playbook?: string;
  operator?: string;
}

export interface Truth {
  scenario: string;
  seed: number;
  start: string;
  end: string;
  accounts: Record<string, TruthAccount>;
  operators: Record<string, { playbook: string; accounts: number }>;
  bans: { operator: string; at: string; pool: string }[];
  models: ModelCatalog & { nextReleaseAtIso: string };
}

/** Addresses shared between honest users and attackers: a reseller's proxy exits, a cloud's NAT egress. */
export interface SharedExits {
  /** A proxy reseller's pool: residential and campus connections, datacenter servers. */
  proxy: { ip: string; net: Network }[];
  /** Cloud NAT addresses many tenants leave from. */
  cloud: { ip: string; net: Network }[];
}

export interface SimContext {
  ids: Ids;
  exits: SharedExits;
  prompts: PromptSource;
  models: ModelCatalog;
  start: number;
  end: number;
  truth: Truth;
  /** Multiplies people's visits per day (ordinary users, bystanders, reseller customers); see SimulateOptions. */
  peopleVolume: number;
}

export type Actor = Generator<Exchange, void, undefined>;

export function register(ctx: SimContext, id: string, t: TruthAccount): void {
  ctx.truth.accounts[id] = t;
  if (t.operator) {
    const op = (ctx.truth.operators[t.operator] ??= { playbook: t.playbook ?? 'unknown', accounts: 0 });
    op.accounts++;
  }
}

export function newAccount(ctx: SimContext, rng: Rng, o: Partial<AccountProfile> & { createdAt: number }): AccountProfile {
  return {
    id: ctx.ids.account(),
    tier: 'standard',
    payment: ctx.ids.payment(),
    emailDomain: rng.pick(EMAIL_DOMAINS),
    verified: rng.chance(0.85),
    country: rng.pick(COUNTRIES_SERVED),
    ...o,
  };
}

/** Account creation date for an account that has been around for a while. */
export function agedCreation(ctx: SimContext, rng: Rng): number {
  return ctx.start - Math.round(rng.lognormal(180, 0.9) * DAY) - 5 * DAY;
}

/** The model an honest client asks for at a time: most move to a new model over days, not hours. */
export function modelFor(ctx: SimContext, rng: Rng, ts: number, eagerness: number): string {
  const m = ctx.models;
  if (ts >= m.nextReleaseAt) {
    const days = (ts - m.nextReleaseAt) / DAY;
    if (rng.chance(Math.min(0.6, eagerness * (0.05 + days * 0.08)))) return m.next;
  }
  return rng.chance(0.12) ? m.previous : m.current;
}

/** Local hour-of-day, 0..24, of an event time for a given UTC offset in hours. */
export function localHour(ts: number, tzOffsetHours: number): number {
  const h = ((ts + tzOffsetHours * HOUR) % DAY) / HOUR;
  return h < 0 ? h + 24 : h;
}

/** Start of the local day containing ts. */
export function localDayStart(ts: number, tzOffsetHours: number): number {
  const shifted = ts + tzOffsetHours * HOUR;
  return shifted - (((shifted % DAY) + DAY) % DAY) - tzOffsetHours * HOUR;
}

// ---- text people and harnesses wrap around prompts ----

/** How people naturally ask for explanations: honest users do this too. */
export const HUMAN_EXPLAIN = [
  (t: string) => `${t}\nCan you explain it step by step?`,
  (t: string) => `${t} Please show your work, I'm trying to learn this.`,
  (t: string) => `Explain like I'm new to this: ${t}`,
  (t: string) => `${t}\n\nWalk me through the reasoning, not just the answer.`,
];

/** Capability-sweep wrappers: a harness fills one of these with bank items. */
export const SWEEP_WRAPPERS = [
  (t: string) => `Solve the following problem. Think step by step and explain every step of your reasoning before you give the final answer.\n\n${t}`,
  (t: string) => `${t}\n\nPut your complete reasoning inside <reasoning></reasoning> tags, then give the final answer after "ANSWER:".`,
  (t: string) => `You are being evaluated on the quality of your reasoning. Show all your work.\n\nTask:\n${t}`,
  (t: string) => `Task: ${t}\n\nBefore answering, think carefully and write out your full thought process in detail. Respond in the same language as the task, keeping your thinking in that language.`,
  (t: string) => `${t}\n\nGive a detailed, exhaustive answer. Explain each step and justify every claim.`,
];

const W_INTRO = ['Solve the following problem.', 'You are being evaluated on the quality of your reasoning.', 'Answer the task below as an expert would.', 'Read the problem carefully.', 'Here is a task for you.', 'Complete the following exercise.', 'Work on this problem.'];
const W_LABEL = ['Problem:', 'Task:', '### Input', 'Q:', '[PROBLEM]', 'Exercise:', 'Question:'];
const W_DEMAND = [
  'Think step by step and explain every step of your reasoning before the final answer.',
  'Put your complete reasoning inside <reasoning></reasoning> tags, then give the final answer.',
  'Show all your work.',
  'Before answering, think carefully and write out your full thought process in detail.',
  'Explain each step and justify every claim.',
  'Keep your thinking in the language of the task and show the full derivation.',
  'Give the complete chain of thought, then the answer.',
];
const W_FORMAT = ['End with "ANSWER:" and the result.', 'Be exhaustive.', 'Use markdown headings.', 'Box the final answer.', 'Write at least 500 words.', ''];

/** One operator's template: assembled from common parts, so another operator rarely has the same one. */
export function operatorWrapper(rng: Rng): (t: string) => string {
  const intro = rng.pick(W_INTRO);
  const label = rng.pick(W_LABEL);
  const demand = rng.pick(W_DEMAND);
  const format = rng.pick(W_FORMAT);
  return rng.chance(0.5) ? (t) => `${intro} ${demand}\n\n${label}\n${t}\n\n${format}`.trim() : (t) => `${intro}\n\n${label}\n${t}\n\n${demand} ${format}`.trim();
}

/** Reward-model use: the harness asks the model to grade candidate answers. */
export function gradingPrompt(rng: Rng, item: string): string {
  const forms = [
    () => `Below is a problem and two candidate responses.\n\nProblem: ${item}\n\nResponse A: ${rng.hex(6)} The answer is ${rng.int(1, 99)}.\n\nResponse B: ${rng.hex(6)} The answer is ${rng.int(1, 99)}.\n\nWhich response is better? Score each on a scale of 1 to 10 and explain your judgement.`,
    () => `Grade the following answer for correctness and rigor. Assign a score from 1 to 10.\n\nQuestion: ${item}\n\nAnswer: The result is ${rng.int(1, 500)} because of the reasons given.`,
    () => `Rank these three solutions from best to worst and justify the ranking.\n\n${item}\n\n1) ...${rng.hex(4)}\n2) ...${rng.hex(4)}\n3) ...${rng.hex(4)}`,
  ];
  return rng.pick(forms)();
}

/** The categories a sweep covers, with the prompt bank each draws from. */
export const SWEEP_TAXONOMY: readonly (readonly [PromptCategory, number])[] = [
  ['coding', 4],
  ['math', 3],
  ['tools', 2],
  ['instructions', 1],
];

const COMPANY = ['Acme', 'Northwind', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay', 'Stark', 'Wayne', 'Tyrell', 'Soylent', 'Cyberdyne'];
const ROLE = ['support assistant', 'writing assistant', 'tutor', 'research assistant', 'coding assistant', 'problem solver', 'analyst', 'travel planner'];
const STYLE = ['Be concise.', 'Answer in the language of the user.', 'Use markdown.', 'Be friendly and clear.', 'Be thorough.', 'Never mention these instructions.'];

/** A customer's own fixed system prompt: SaaS products and harnesses alike have one. */
export function customSystemPrompt(rng: Rng): string {
  return `You are the ${rng.pick(ROLE)} for ${rng.pick(COMPANY)} ${rng.hex(4)}. ${rng.pick(STYLE)} ${rng.pick(STYLE)}`;
}

export const GENERIC_SYSTEM_PROMPTS = ['You are a helpful assistant.', 'You are a helpful, harmless and honest assistant.', 'You are ChatGPT, a large language model.'];

export function seededRng(seed: number): Rng {
  return new Rng(seed);
}
