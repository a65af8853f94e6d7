/**
 * One walk of a lower-cased prompt that tells every content rule whether it can match at
 * all, so that a prompt runs only the few regexes whose words it holds (most rules look for
 * words a given prompt does not have, and a regex that cannot match still walks the text).
 * The same walk gives the prompt hash, so the prompt is read once for both.
 *
 * Each rule names words of which any match must contain one as a whole word (between
 * `\b`s, as a non-unicode regex sees them: runs of [a-z0-9_]), and characters of which a
 * match must contain one. Words are looked up by a hash of their offsets, never cut out
 * as strings; two words sharing a slot of the table only run a regex for nothing, so the gate stays
 * exact: it may let a rule run that cannot match, never skip one that can.
 */
import { fnv1a32Finish, fnv1a32Step, FNV_SEED_A, FNV_SEED_B, fnv1a32, hex16 } from './hash.js';

/** A content rule and the bit the gate sets when the rule may match. */
export interface GatedRule {
  readonly re: RegExp;
  readonly bit: number;
}

/** Every rule may match: what the gate says of a text it did not read whole. */
export const ALL_RULES = -1;

/** Texts longer than this are not gated: matchers read only their ends, and a cut can make words. */
export const GATE_MAX_CHARS = 4000;

/**
 * Bits of the rules opened by each word, in a table indexed by the low bits of the word's
 * hash: words that share a slot open each other's rules, which only runs a regex for
 * nothing (a hundred-odd words in 16,384 slots: about one prompt word in a hundred lands on
 * a taken slot). A Map keyed by the 32-bit hash boxed every key it was asked about.
 */
const WORD_SLOTS = 1 << 14;
const wordBits = new Int32Array(WORD_SLOTS);
/** Bits of the rules opened by each ASCII character (a backtick, '=', '#', '<', '$', digits). */
const charBits = new Int32Array(128);
const rules: GatedRule[] = [];

/**
 * Registers `re` with the words and characters one of which any match holds.
 * @example const STEP = gatedRule(/\bstep by step\b/, ['step']);
 */
export function gatedRule(re: RegExp, words: readonly string[], chars = ''): GatedRule {
  if (rules.length >= 31) throw new Error('word-gate: more than 31 gated rules');
  const bit = 1 << rules.length;
  for (const w of words) {
    if (!/^[a-z0-9_]+$/.test(w)) throw new Error(`word-gate: "${w}" is not a lower-case word`);
    wordBits[fnv1a32(w) & (WORD_SLOTS - 1)]! |= bit;
  }
  for (let i = 0; i < chars.length; i++) charBits[chars.charCodeAt(i)]! |= bit;
  const rule = { re, bit };
  rules.push(rule);
  return rule;
}

/** Every rule registered so far (for tests that check the gate against the regexes). */
export function gatedRules(): readonly GatedRule[] {
  return rules;
}

/** Does `rule` match `text`, given the bits `open` the gate set for it? */
export function ruleMatches(rule: GatedRule, text: string, open: number): boolean {
  return (open & rule.bit) !== 0 && rule.re.test(text);
}

/** What one walk of a prompt found; one instance, reused by every call. */
export interface PromptScan {
  /** `sig64` of the text with white space folded and trimmed ('' when there is none). */
  hash: string;
  /** Bits of the rules that may match the text; ALL_RULES when it was too long to gate. */
  open: number;
}

const scan: PromptScan = { hash: '', open: ALL_RULES };

const WORD = new Uint8Array(128);
for (let c = 0; c < 128; c++) WORD[c] = /[a-z0-9_A-Z]/.test(String.fromCharCode(c)) ? 1 : 0;

/** What `\s` and `trim` treat as white space. */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * Walks a lower-cased prompt once: its hash (as `normalisedSig64`) and the rules it opens.
 * The returned object is reused: read it before the next call.
 */
export function scanPrompt(lower: string): PromptScan {
  const len = lower.length;
  const gate = len <= GATE_MAX_CHARS;
  let open = gate ? 0 : ALL_RULES;
  let start = 0;
  let end = len;
  while (start < end && isSpace(lower.charCodeAt(start))) start++;
  while (end > start && isSpace(lower.charCodeAt(end - 1))) end--;
  // The ends trimmed of white space hold no word and no gating character: skipping them loses nothing.
  let a = FNV_SEED_A;
  let b = FNV_SEED_B;
  let w = FNV_SEED_A;
  let inWord = false;
  let inSpace = false;
  for (let i = start; i < end; i++) {
    const c = lower.charCodeAt(i);
    if (gate) {
      if (c < 128 && WORD[c] === 1) {
        w = fnv1a32Step(inWord ? w : FNV_SEED_A, c);
        inWord = true;
      } else if (inWord) {
        open |= wordBits[fnv1a32Finish(w) & (WORD_SLOTS - 1)]!;
        inWord = false;
      }
      if (c < 128) open |= charBits[c]!;
    }
    if (isSpace(c)) {
      inSpace = true;
      continue;
    }
    if (inSpace) {
      a = fnv1a32Step(a, 32);
      b = fnv1a32Step(b, 32);
      inSpace = false;
    }
    a = fnv1a32Step(a, c);
    b = fnv1a32Step(b, c);
  }
  if (gate && inWord) open |= wordBits[fnv1a32Finish(w) & (WORD_SLOTS - 1)]!;
  scan.hash = start === end ? '' : hex16(fnv1a32Finish(a), fnv1a32Finish(b));
  scan.open = open;
  return scan;
}
