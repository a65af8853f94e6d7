import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountId } from '../core/ids.js';
import { indicatorKey, type IndicatorKey } from '../link/indicators.js';
import { fnv1a32, hex8 } from '../signals/hash.js';
import { phraseSigs } from '../signals/item-sketch.js';
import { maskVariableParts } from '../signals/text.js';
import type { ExchangeFeatures } from '../core/features.js';
import { feat } from './_test-features.js';
import { AccountState, DistinctCounter } from './account-state.js';
import { DetectionEngine } from './engine.js';
import { itemOverlap, sharedWrapperEvidence, wrapsItems, wrapsWith } from './shared-wrappers.js';
import { replay } from './ticker.js';

const STOCK = ['Please lay out the logic you followed, every inference included.', 'I would like to see the whole derivation, in order.', 'Detail how you get there so that I can check it.', 'Give the answer only after all of the working.'];
const phraseOf = (sentence: string): string => phraseSigs(maskVariableParts(sentence));

/** An account that sends `n` prompts, each an item wrapped in one of `asks`; items from `item(i)`. */
function account(id: string, asks: readonly string[], n: number, item: (i: number) => string): AccountState {
  const s = new AccountState(accountId(id));
  const sent = new Set<string>();
  sentSentences.set(s, sent);
  for (let i = 0; i < n; i++) {
    const text = `${item(i)}\n\n${asks[i % asks.length]!}`;
    const sigs = phraseSigs(maskVariableParts(text));
    for (const p of sigs.split(' ')) sent.add(p);
    s.observe(feat({ account_id: id, ts: i * 60_000, prompt_hash: hex8(fnv1a32(text)) + hex8(fnv1a32(`${id}${text}`)), phrase_sigs: sigs }));
  }
  return s;
}

/** The sentences each account built here sent: the account holds their counts, not their text. */
const sentSentences = new WeakMap<AccountState, Set<string>>();

/** Observes one exchange, remembering its sentences for `group`. */
function observeSent(s: AccountState, f: ExchangeFeatures): void {
  let sent = sentSentences.get(s);
  if (!sent) sentSentences.set(s, (sent = new Set()));
  for (const p of f.phrase_sigs.split(' ')) if (p) sent.add(p);
  s.observe(f);
}

/** Items no other account asks: each names its own topic word. */
const ownItem = (id: string) => (i: number): string => `Consider the problem called ${id}x${'abcdefghijklmnopqrstuvwxyz'[i % 26]}${Math.floor(i / 26)} in the bank.`;

function group(states: AccountState[]): { indicators: Map<IndicatorKey, number>; members: { state: AccountState; score: { risk: number } }[] } {
  const indicators = new Map<IndicatorKey, number>();
  for (const s of states) for (const p of sentSentences.get(s) ?? []) if (s.phraseUses(p) >= 3) indicators.set(indicatorKey('phrase', p), (indicators.get(indicatorKey('phrase', p)) ?? 0) + 1);
  return { indicators, members: states.map((state) => ({ state, score: { risk: 0 } })) };
}

describe('wrapsItems', () => {
  it('holds for an account that wraps most of its different prompts in its own sentences, not for one that asks plainly', () => {
    assert.equal(wrapsItems(account('w', STOCK.slice(0, 2), 30, ownItem('w'))), true);
    const plain = new AccountState(accountId('p'));
    for (let i = 0; i < 30; i++) plain.observe(feat({ account_id: 'p', ts: i * 60_000, prompt_hash: hex8(fnv1a32(`p${i}`)), phrase_sigs: phraseOf(`Question number ${'abcdefghijklmnopqrstuvwxyz'[i % 26]} about my own garden today.`) }));
    assert.equal(wrapsItems(plain), false);
  });
});

describe('wrapped prompts', () => {
  it('counts the first two prompts of a sentence once a third makes it a wrapper', () => {
    // Two wrappers around fifteen different items: every prompt is wrapped, the first two of
    // each wrapper included (counting from the third use only gave 11 of 15).
    const s = account('slow', STOCK.slice(0, 2), 15, ownItem('slow'));
    assert.equal(s.wrapped, 15);
    assert.equal(wrapsItems(s), true);
  });

  it('does not judge the wrapping habit of an account with fewer than fifteen exchanges', () => {
    // Thirteen exchanges, six of them in two sentences: a share of so few prompts is chance.
    const s = new AccountState(accountId('few'));
    for (let j = 0; j < 13; j++) {
      const text = j < 6 ? `${ownItem('few')(j)}\n\n${STOCK[j % 2]!}` : `My own question ${'abcdefghij'[j % 10]} about the lecture today.`;
      s.observe(feat({ account_id: 'few', ts: j * 3_600_000, prompt_hash: hex8(fnv1a32(text)) + hex8(fnv1a32(text + '!')), phrase_sigs: phraseSigs(maskVariableParts(text)) }));
    }
    assert.equal(s.wrapped, 6);
    assert.equal(wrapsItems(s), false);
  });

  it('counts a prompt wrapped in two such sentences once', () => {
    const s = account('two', [`${STOCK[0]!} ${STOCK[1]!}`, STOCK[2]!], 12, ownItem('two'));
    assert.equal(s.wrapped, 12);
  });

  it('does not count prompts that hold a sentence used around one or two prompts only', () => {
    const s = new AccountState(accountId('p'));
    for (let i = 0; i < 20; i++) {
      const text = `Question ${'abcdefghijklmnopqrstuvwxyz'[i]} about my garden today.${i < 2 ? ' Thanks a lot for the help.' : ''}`;
      s.observe(feat({ account_id: 'p', ts: i * 60_000, prompt_hash: hex8(fnv1a32(text)) + hex8(fnv1a32(text + 'p')), phrase_sigs: phraseOf(text) }));
    }
    assert.equal(s.wrapped, 0);
  });
});

describe('wrapsWith', () => {
  it('takes the sentences an account asks in for its wrappers, not the recurring sentences of the bank items it sends', () => {
    // Word problems of ten forms (numbers masked): each form recurs across a tenth of the items.
    const wordProblem = (i: number): string => `Pat has ${i} apples and buys ${i + 1} packs of ${(i % 7) + 2} more. ${['Ana', 'Bo', 'Chen', 'Dara', 'Eli', 'Farah', 'Gus', 'Hana', 'Ivo', 'Jun'][i % 10]} takes ${i + 3} of them away today.`;
    const tutor = account('tutor', ['Explain the solution step by step so that the student can follow every step.'], 200, wordProblem);
    const operator = account('op', STOCK.slice(0, 3), 200, wordProblem);
    const formOf = (i: number): string => phraseOf(wordProblem(i)).split(' ')[1]!;
    assert.equal(wrapsWith(tutor, phraseOf(STOCK[0]!)), false, 'a sentence the tutor never sends');
    assert.equal(wrapsWith(tutor, phraseOf('Explain the solution step by step so that the student can follow every step.')), true);
    assert.equal(wrapsWith(operator, phraseOf(STOCK[1]!)), true);
    for (const s of [tutor, operator]) {
      assert.ok(s.phraseUses(formOf(4)) >= 3, 'the bank sentence is a habit of the account');
      assert.equal(wrapsWith(s, formOf(4)), false);
    }
  });
});

describe('sharedWrapperEvidence', () => {
  it('ties accounts that wrap disjoint items in sentences combined differently from one stock', () => {
    const states = [0, 1, 2, 3, 4].map((i) => account(`op${i}`, [STOCK[i % 4]!, STOCK[(i + 1) % 4]!, STOCK[(i + 3) % 4]!].slice(0, 2 + (i % 2)), 30, ownItem(`op${i}`)));
    const { indicators, members } = group(states);
    const e = sharedWrapperEvidence(indicators, members, false, 0.3);
    assert.equal(e.coordinated, true);
    assert.deepEqual(e.findings.map((f) => f.code).sort(), ['campaign_wrapped_items', 'shared_phrasing']);
  });

  it('ties accounts that hide their wrapped items among cover traffic that other accounts also send', () => {
    // Two prompts in five are wrapped; the rest are ordinary requests that every account sends alike.
    const states = [0, 1, 2, 3, 4].map((i) => {
      const id = `cover${i}`;
      const s = new AccountState(accountId(id));
      const asks = [STOCK[i % 4]!, STOCK[(i + 1) % 4]!, STOCK[(i + 3) % 4]!].slice(0, 2 + (i % 2));
      for (let j = 0; j < 60; j++) {
        const text = j % 5 < 2 ? `${ownItem(id)(j)}\n\n${asks[j % asks.length]!}` : `Ordinary request number ${'abcdefghij'[j % 10]}${'abcdefghij'[Math.floor(j / 10)]} please.`;
        observeSent(s, feat({ account_id: id, ts: j * 60_000, prompt_hash: hex8(fnv1a32(text)) + hex8(fnv1a32(text + '!')), phrase_sigs: phraseSigs(maskVariableParts(text)) }));
      }
      return s;
    });
    const { indicators, members } = group(states);
    const e = sharedWrapperEvidence(indicators, members, false, 0.3);
    assert.equal(e.coordinated, true, e.findings.map((f) => f.detail).join('; '));
  });

  it('ties the slow accounts of an operator whose two wrappers each wrapped four items, half of their requests cover traffic', () => {
    // Fifteen exchanges each: eight items of its own in two of the stock's sentences (a pair of
    // its own), seven ordinary requests.
    const pairs = [[0, 1], [0, 2], [0, 3], [1, 2], [1, 3], [2, 3]];
    const states = pairs.map(([x, y], i) => {
      const id = `slow${i}`;
      const s = new AccountState(accountId(id));
      for (let j = 0; j < 15; j++) {
        const text = j < 8 ? `${ownItem(id)(j)}\n\n${STOCK[j % 2 === 0 ? x! : y!]!}` : `Ordinary request number ${'abcdefghij'[j % 10]} please help.`;
        observeSent(s, feat({ account_id: id, ts: j * 3_600_000, prompt_hash: hex8(fnv1a32(text)) + hex8(fnv1a32(text + '!')), phrase_sigs: phraseSigs(maskVariableParts(text)) }));
      }
      return s;
    });
    const { indicators, members } = group(states);
    const e = sharedWrapperEvidence(indicators, members, false, 0.3);
    assert.equal(e.coordinated, true, e.findings.map((f) => f.detail).join('; '));
  });

  it('does not tie evaluation runs that send the same public items under one public template', () => {
    const publicItem = (i: number): string => `Public benchmark item ${'abcdefghijklmnopqrstuvwxyz'[i % 26]}${Math.floor(i / 26)} asks this.`;
    // The same items under the template's sentences: the prompts overlap, so the coverage is
    // not split (two of the runs use a third sentence, so the combinations vary).
    const states = [0, 1, 2, 3].map((i) => account(`eval${i}`, STOCK.slice(0, i < 2 ? 2 : 3), 30, publicItem));
    for (const s of states) for (const t of states) if (s !== t) assert.ok(s.prompts.shared(t.prompts) > 0);
    const { indicators, members } = group(states);
    const e = sharedWrapperEvidence(indicators, members, false, 0.3);
    assert.equal(e.coordinated, false);
    assert.equal(e.findings.some((f) => f.code === 'shared_phrasing'), false);
  });

  it('does not tie the users of one fixed template (a library prompt), whose sentences all come together', () => {
    const states = [0, 1, 2, 3].map((i) => account(`app${i}`, [STOCK.slice(0, 2).join(' ')], 30, ownItem(`app${i}`)));
    const { indicators, members } = group(states);
    assert.equal(sharedWrapperEvidence(indicators, members, false, 0.3).coordinated, false);
  });

  it('adds nothing to a group that a client, card or addresses tie already', () => {
    const states = [0, 1, 2, 3].map((i) => account(`corp${i}`, [STOCK[i % 4]!, STOCK[(i + 2) % 4]!], 30, ownItem(`corp${i}`)));
    const { indicators, members } = group(states);
    assert.deepEqual(sharedWrapperEvidence(indicators, members, true, 0.3), { findings: [], coordinated: false });
  });
});

describe('itemOverlap and DistinctCounter.shared', () => {
  it('estimates the items two accounts both sent', () => {
    const a = new DistinctCounter();
    const b = new DistinctCounter();
    const hex = (i: number): string => ((Math.imul(i + 1, 2654435761) >>> 0).toString(16)).padStart(8, '0');
    for (let i = 0; i < 300; i++) a.add(hex(i));
    for (let i = 200; i < 500; i++) b.add(hex(i));
    assert.ok(Math.abs(a.shared(b) - 100) <= 10, `shared ${a.shared(b)}`);
    const disjoint = [account('x', STOCK, 40, ownItem('x')), account('y', STOCK, 40, ownItem('y'))].map((state) => ({ state, score: { risk: 0 } }));
    assert.ok(itemOverlap(disjoint) <= 0.05, `overlap ${itemOverlap(disjoint)}`);
  });
});

describe('paraphrased items (engine)', () => {
  // A word per number, so that masking keeps items apart: 'ba', 'be', ... 'zu'.
  const word = (n: number): string => 'bcdfghjklmnpqrstvz'[n % 18]! + 'aeiou'[Math.floor(n / 18) % 5]! + 'bcdfghjklmnpqrstvz'[Math.floor(n / 90) % 18]!;
  /** A bank of items of 50 forms (as word problems whose numbers are masked): each account sends 30 of them. */
  const form = (i: number): number => (i * 37 + 11) % 50;
  const itemText = (i: number): string => `Work out the puzzle named ${word(form(i))} from the public bank.`;
  let uniq = 0;
  const paraphrase = (item: string): string => `${item}\n\nPlease go over the ${word(uniq++)}${word(uniq++)} steps one at a time.`;

  function exchange(id: string, n: number, t: number, text: string) {
    // Nothing but the bank in common: its own network, client and creation day.
    const masked = maskVariableParts(text);
    return feat({ account_id: id, ts: t, ip: `203.0.113.${n}`, subnet: `203.0.${n}.0/24`, user_agent: `client/${n}`, harness_sig: `h${n}`, account_created_at: Date.parse('2026-01-01T00:00:00Z') - n * 3 * 86_400_000, prompt_hash: hex8(fnv1a32(text)) + hex8(fnv1a32(`${id}:${text}`)), phrase_sigs: phraseSigs(masked) });
  }

  /** Three people send every form of the bank plainly first: its sentences are public text. */
  function publicBank(start: number) {
    const out = [];
    for (let p = 0; p < 3; p++) for (let f = 0; f < 50; f++) out.push(exchange(`person${p}`, 200 + p, start + (p * 50 + f) * 1000, itemText(f)));
    return out;
  }

  /** `accounts` accounts send `n` items each, from `itemOf(account, j)`, each in a new paraphrase, over days. */
  function senders(prefix: string, accounts: number, n: number, itemOf: (a: number, j: number) => number, start: number, offset: number) {
    const out = [];
    for (let j = 0; j < n; j++) for (let a = 0; a < accounts; a++) out.push(exchange(`${prefix}${a}`, offset + a, start + (j * accounts + a) * 20 * 60_000, paraphrase(itemText(itemOf(a, j)))));
    return out;
  }

  it('ties accounts that each cover their own part of one public bank, every item in a new paraphrase', () => {
    const T = Date.parse('2026-04-22T00:00:00Z');
    const ops = senders('op', 10, 30, (a, j) => a * 30 + j, T + 3_600_000, 10);
    const engine = replay(new DetectionEngine(), [...publicBank(T), ...ops]);
    const flagged = engine.verdicts().filter((v) => v.verdict === 'distillation').map((v) => v.accountId);
    assert.deepEqual(flagged.sort(), Array.from({ length: 10 }, (_, a) => `op${a}`).sort());
    const [campaign] = engine.campaignList();
    assert.ok(campaign!.score.findings.some((f) => f.code === 'shared_bank'), campaign!.score.findings.map((f) => f.code).join(','));
  });

  it('does not take into such an operator a student who wrote three of a dozen bank items in words of their own', () => {
    const T = Date.parse('2026-04-22T00:00:00Z');
    const ops = senders('op', 10, 30, (a, j) => a * 30 + j, T + 3_600_000, 10);
    // Eleven exchanges: three items of the bank each in a sentence of the student's own, eight plain questions.
    const student = Array.from({ length: 11 }, (_, j) => exchange('student', 90, T + 2 * 3_600_000 + j * 3 * 3_600_000, j % 4 === 0 ? paraphrase(itemText(j)) : `My own question ${word(500 + j)} about the lecture notes today.`));
    const engine = replay(new DetectionEngine(), [...publicBank(T), ...ops, ...student].sort((x, y) => x.ts - y.ts));
    assert.equal(engine.verdictOf('op0')?.verdict, 'distillation');
    assert.equal(engine.verdictOf('student')?.verdict, 'benign');
  });

  it('does not tie a class whose students each send a dozen of the same homework items in words of their own', () => {
    const T = Date.parse('2026-04-22T00:00:00Z');
    const students = senders('student', 10, 12, (_a, j) => j, T + 3_600_000, 10);
    const engine = replay(new DetectionEngine(), [...publicBank(T), ...students]);
    assert.deepEqual(engine.verdicts().filter((v) => v.verdict === 'distillation'), []);
  });

  it('does not tie a class that asks the same homework items, each student in words of their own', () => {
    const T = Date.parse('2026-04-22T00:00:00Z');
    const students = senders('student', 10, 30, (_a, j) => j, T + 3_600_000, 10);
    const engine = replay(new DetectionEngine(), [...publicBank(T), ...students]);
    assert.deepEqual(engine.verdicts().filter((v) => v.verdict === 'distillation'), []);
  });
});
