/**
 * Evidence against an operator that shares nothing an honest user would not: no client,
 * network or card in common, its own words per account, its asks paraphrased past any list.
 * It still harvests, and two things about what it sends survive its care:
 *
 * 1. Each account wraps different items in a few sentences of its own (`wrapsItems`): a
 *    harness fills a bank, a person does not repeat whole sentences around most of what they
 *    ask. This is the account's own evidence and reads no phrase list.
 * 2. Its accounts draw those sentences from one stock (a phrase tie, link/indicators.ts) while
 *    the items they wrap are disjoint (one bank split across accounts): independent users of a
 *    public template ask the same public items, so their prompts overlap.
 *
 * An operator that paraphrases every prompt afresh repeats no sentence of its own, and (1) and
 * (2) miss it. What it harvests still shows: each account sends items of a public bank (their
 * sentences were sent by other accounts) inside text no one wrote before (`paraphrasesItems`),
 * and its accounts meet on that bank's items (an `item` tie) while each covers a part of it
 * of its own. People in every simulated honest group do this around under 7% of their prompts.
 *
 * Neither alone: a company's pipeline and a SaaS product wrap every item (1); evaluation runs
 * share a public template (2, but their items overlap). Groups that a client, card or
 * addresses already tie are judged by those ties, never by this (a pipeline's own sentences
 * must not lift it over the bar).
 */
import type { AccountState } from './account-state.js';
/** A group member as the campaign score sees it (only its behaviour is read here). */
interface Member {
  state: AccountState;
  score: { risk: number };
}
import { pct, ramp, type Finding } from './findings.js';
import { HABIT_MIN_USES, kindOf, type IndicatorKey } from '../link/indicators.js';
import { valueKey } from './count-table.js';

/**
 * Exchanges before an account's habit (wrapping or paraphrasing) is judged. Not fewer: a share
 * of a dozen prompts is a few prompts, which people reach by chance. From the tenth exchange, a
 * student who wrapped six of thirteen prompts in two sentences the adaptive operator also uses
 * was taken into its campaign (`small` seed 1), and one who wrote three of eleven around bank
 * items in words of their own (`adaptive` seed 2).
 */
const MIN_EXCHANGES = 15;
/** Share of its prompts an account wraps in a sentence of its own habit (people: under 0.25 in the simulator's populations). */
export const MIN_WRAPPED_SHARE = 0.4;
/**
 * The same share for a member of a group that a stock of sentences ties already: an operator
 * hiding its bank among cover traffic (a third to a half of ordinary requests) wraps less of
 * what it sends; people stay under 0.25.
 */
const MIN_MEMBER_WRAPPED_SHARE = 0.3;
/** Share of prompts distinct: re-sending one item under one wrapper is a re-run, not a bank. */
const MIN_DISTINCT_SHARE = 0.7;
/** Pairs of members whose prompts are compared, at most: the comparison is 256 words a pair. */
const MAX_COMPARED = 24;
/** Share of items two members both sent above which their coverage is not disjoint. */
const MAX_OVERLAP = 0.05;
/** Share of members with a combination of shared sentences of their own (see `variety`). */
const MIN_VARIETY = 0.5;
/**
 * Weights of the two findings: together at full strength they reach the default campaign bar
 * (1 - 0.6 x 0.4 = 0.76 >= 0.75), neither alone does; harvesting content on top adds to them.
 */
const WRAPPING_WEIGHT = 0.4;
const STOCK_WEIGHT = 0.6;

/**
 * Share of an account's wrapped prompts that one sentence must wrap to be one of its
 * wrappers. An operator's account draws each prompt's ask from a few sentences (up to four),
 * so one of them wraps a quarter or more; a sentence of a public problem bank (a templated
 * word problem with its numbers masked) is one of the bank's many forms, each about a tenth of
 * its items, in a product or an evaluation run that sends the bank as in the operator that
 * splits it.
 */
const MIN_SENTENCE_SHARE = 0.2;

/** Other accounts that must have sent a sentence before it counts as a public item's text. */
export const PUBLIC_ITEM_USERS = 2;
/** Share of its prompts an account sends as a public item inside fresh text (people: at most 0.06 in the simulator). */
export const MIN_FRESH_WRAPPED_SHARE = 0.25;
/**
 * Mean share of the group's paraphrasing members that hold each item sentence they share,
 * above which they walk the same items (a class's homework, runs of one benchmark) rather
 * than cover a bank between them.
 */
const MAX_ITEM_DENSITY = 0.7;

/** Does this account send public items inside a paraphrase written afresh for each of them? */
export function paraphrasesItems(s: AccountState): boolean {
  return s.n >= MIN_EXCHANGES && s.freshWrapped >= MIN_FRESH_WRAPPED_SHARE * s.n && s.prompts.size >= MIN_DISTINCT_SHARE * s.n;
}

/** Is this sentence one of the account's own wrappers, rather than the text of items it sends? */
export function wrapsWith(s: AccountState, phrase: string): boolean {
  return wrapsWithKey(s, valueKey(phrase));
}

/** `wrapsWith` for a sentence's key (`valueKey`), as the account's sentence table holds it. */
function wrapsWithKey(s: AccountState, key: number): boolean {
  const uses = s.phrases.get(key);
  return uses >= HABIT_MIN_USES && uses >= MIN_SENTENCE_SHARE * s.wrapped;
}

/** Does this account wrap most of its different prompts in sentences of its own habit? */
export function wrapsItems(s: AccountState, share = MIN_WRAPPED_SHARE): boolean {
  return s.n >= MIN_EXCHANGES && s.wrapped >= share * s.n && s.prompts.size >= MIN_DISTINCT_SHARE * s.n;
}

/** `wrapsItems` for a member of a group tied by a stock of sentences. */
export const wrapsItemsAsMember = (s: AccountState): boolean => wrapsItems(s, MIN_MEMBER_WRAPPED_SHARE);

export interface WrapperEvidence {
  findings: Finding[];
  /** Both kinds hold for most of the group: its members are under common control. */
  coordinated: boolean;
}

const NONE: WrapperEvidence = { findings: [], coordinated: false };

/**
 * The group's shared-wrapper evidence. `tiedOtherwise`: a client, card or addresses tie the
 * group already, and then this adds nothing.
 */
export function sharedWrapperEvidence(indicators: ReadonlyMap<IndicatorKey, number>, members: readonly Member[], tiedOtherwise: boolean, suspectRisk: number): WrapperEvidence {
  if (tiedOtherwise) return NONE;
  const stock = sentencesOf(indicators, 'phrase');
  const bank = sentencesOf(indicators, 'item');
  if (stock.size === 0 && bank.size === 0) return NONE;
  const wrapping = members.filter((m) => wrapsItemsAsMember(m.state) && holdsAny(m.state, stock));
  const paraphrasing = members.filter((m) => !wrapping.includes(m) && paraphrasesItems(m.state) && sentAny(m.state, bank));
  // Shares among the group's suspects: honest accounts that a common SDK ties to some members
  // are in the group too, and are judged one by one (each needs its own wrapping habit).
  const k = members.filter((m) => m.score.risk >= suspectRisk || wrapsItemsAsMember(m.state) || paraphrasesItems(m.state)).length;
  const own = wrapping.length + paraphrasing.length;
  if (own < 3) return NONE;
  const findings: Finding[] = [];
  const share = ramp(own / k, 0.3, 0.7);
  if (share > 0) findings.push({ code: 'campaign_wrapped_items', family: 'content', strength: Math.min(1, share), weight: WRAPPING_WEIGHT, detail: `${own} of ${k} accounts wrap most of their different prompts in sentences of their own, or each in a new paraphrase` });
  let tie = 0;
  if (wrapping.length >= paraphrasing.length) {
    const overlap = itemOverlap([...wrapping, ...paraphrasing]);
    const varied = variety(wrapping, stock);
    if (overlap <= MAX_OVERLAP && varied >= MIN_VARIETY) tie = ramp(own / k, 0.3, 0.8);
    if (tie > 0) findings.push({ code: 'shared_phrasing', family: 'coordination', strength: Math.min(1, tie), weight: STOCK_WEIGHT, detail: `${own} of ${k} accounts wrap disjoint items (${pct(overlap)} overlap) in sentences from one stock, combined ${pct(varied)} differently` });
  } else {
    // Every paraphrased prompt is new, so whole prompts cannot overlap (only cover traffic
    // does): whether members walk the same items is read from the items' own sentences.
    const density = itemDensity(indicators, bank, paraphrasing.length);
    if (density <= MAX_ITEM_DENSITY) tie = ramp(own / k, 0.3, 0.8);
    if (tie > 0) findings.push({ code: 'shared_bank', family: 'coordination', strength: Math.min(1, tie), weight: STOCK_WEIGHT, detail: `${own} of ${k} accounts each cover their own part of one bank (each item sentence they share held by ${pct(density)} of them), every item in a new paraphrase` });
  }
  return { findings, coordinated: tie >= 0.5 };
}

/** The group's sentences of one kind held by three or more members: their keys (`valueKey`) and text. */
function sentencesOf(indicators: ReadonlyMap<IndicatorKey, number>, kind: 'phrase' | 'item'): Map<number, string> {
  const out = new Map<number, string>();
  for (const [key, holders] of indicators) {
    if (holders < 3 || kindOf(key) !== kind) continue;
    const sentence = key.slice(key.indexOf(':') + 1);
    out.set(valueKey(sentence), sentence);
  }
  return out;
}

/** Did the account send one of these item sentences inside fresh text of its own? */
function sentAny(s: AccountState, items: ReadonlyMap<number, string>): boolean {
  for (const [p] of s.phrases.entries()) if (items.has(p)) return true;
  return false;
}

/**
 * Mean share of `n` members holding each shared item sentence: near 1 when they all send the
 * same items, low when each covers a part of the bank and only its commonest forms recur.
 */
export function itemDensity(indicators: ReadonlyMap<IndicatorKey, number>, items: ReadonlyMap<number, string>, n: number): number {
  let sum = 0;
  for (const p of items.values()) sum += indicators.get(`item:${p}`) ?? 0;
  return items.size > 0 && n > 0 ? Math.min(1, sum / items.size / n) : 1;
}

/**
 * Share of wrapping members whose set of shared sentences no other member has: an operator
 * writing each account's wrappers afresh from one stock combines its sentences differently;
 * the users of one public template (a library's default prompt) all hold the same few.
 */
export function variety(members: readonly Member[], phrases: ReadonlyMap<number, string>): number {
  const combos = new Set<string>();
  for (const m of members) {
    const held: number[] = [];
    for (const [p, c] of m.state.phrases.entries()) if (c >= HABIT_MIN_USES && phrases.has(p)) held.push(p);
    combos.add(held.sort((x, y) => x - y).join(' '));
  }
  return members.length > 0 ? combos.size / members.length : 0;
}

/** Does the account wrap its prompts in one of the group's sentences (not merely send items that hold one)? */
function holdsAny(s: AccountState, phrases: ReadonlyMap<number, string>): boolean {
  for (const [p] of s.phrases.entries()) if (phrases.has(p) && wrapsWithKey(s, p)) return true;
  return false;
}

/**
 * Share of items that two members both sent, over sampled pairs: near 0 when one bank is
 * split across the accounts, high when they walk the same public bank. Pairs, not the whole
 * group's union, so that the estimate stays within the counters' range.
 */
export function itemOverlap(members: readonly Member[]): number {
  const sample = members.slice(0, MAX_COMPARED);
  let shared = 0;
  let smaller = 0;
  for (let i = 0; i < sample.length; i++) {
    for (let j = i + 1; j < sample.length; j++) {
      // The wrapped prompts only: cover traffic (ordinary requests) overlaps other accounts'.
      const a = sample[i]!.state.wrappedPrompts ?? sample[i]!.state.prompts;
      const b = sample[j]!.state.wrappedPrompts ?? sample[j]!.state.prompts;
      shared += a.shared(b);
      smaller += Math.min(a.size, b.size);
    }
  }
  return smaller > 0 ? shared / smaller : 0;
}
