/**
 * Text normalisation shared by the signals: lower-case, variable parts masked, so that
 * two prompts built from one template with different fillers look alike. The prompt is
 * lower-cased once by the caller; what follows walks it without copying it again where a
 * hash over offsets does (the prompt hash, the words of a template).
 */
import { fnv1a32Step, fnv1a32Finish, FNV_SEED_A, FNV_SEED_B, hex16 } from './hash.js';

const CODE_BLOCK = /```[\s\S]*?(```|$)/g;
const URL = /\bhttps?:\/\/\S+/g;
const EMAIL = /\b[\w.+-]+@[\w-]+\.[\w.-]+\b/g;
const QUOTED = /"[^"\n]{1,200}"|'[^'\n]{1,200}'|`[^`\n]{1,200}`/g;
const NUMBER = /\b\d+(?:[.,]\d+)*\b/g;
const WS = /\s+/g;
const HAS_QUOTE = /["'`]/;
const HAS_DIGIT = /\d/;

/** Masks the parts of a prompt that a template fills in: code, URLs, quotes, numbers. */
export function maskVariableParts(text: string): string {
  return maskLowered(text.toLowerCase());
}

/**
 * `maskVariableParts` of an already lower-cased text. Each replacement runs only when the
 * text holds the character it starts with: most prompts have no code fence, URL or e-mail,
 * and a regex that cannot match still walks the whole text.
 */
export function maskLowered(lower: string): string {
  return maskForWords(lower).replace(WS, ' ').trim();
}

/**
 * `maskLowered` without folding its white space: what the template signature reads, since
 * it reads only the words (white space is never part of one, and folding it neither joins
 * nor splits words), and folding costs a walk and a copy of the text.
 */
export function maskForWords(lower: string): string {
  let s = lower;
  if (s.includes('```')) s = s.replace(CODE_BLOCK, ' <code> ');
  if (s.includes('http')) s = s.replace(URL, ' <url> ');
  if (s.includes('@')) s = s.replace(EMAIL, ' <email> ');
  if (HAS_QUOTE.test(s)) s = s.replace(QUOTED, ' <q> ');
  if (HAS_DIGIT.test(s)) s = s.replace(NUMBER, '#');
  return s;
}

/** Words of a masked text (letters, digits, the mask tokens), at most `limit` of them. */
export function words(masked: string, limit = 4000): string[] {
  const out: string[] = [];
  const re = /<\w+>|#|[\p{L}\p{N}_]+/gu;
  let m: RegExpExecArray | null;
  while ((m = re.exec(masked)) !== null && out.length < limit) out.push(m[0]);
  return out;
}

/** Whitespace-normalised, case-folded text: two sends of the same item compare equal. */
export function normalise(text: string): string {
  return text.toLowerCase().replace(WS, ' ').trim();
}

/** What `\s` and `trim` treat as white space. */
function isSpace(c: number): boolean {
  if (c <= 32) return c === 32 || (c >= 9 && c <= 13);
  if (c < 0xa0) return false;
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

/**
 * `sig64(normalise(text))` of an already lower-cased text, hashed as it is walked: runs of
 * white space count as one space and the ends are trimmed, with no normalised copy made.
 */
export function normalisedSig64(lower: string): string {
  let start = 0;
  let end = lower.length;
  while (start < end && isSpace(lower.charCodeAt(start))) start++;
  while (end > start && isSpace(lower.charCodeAt(end - 1))) end--;
  if (start === end) return '';
  let a = FNV_SEED_A;
  let b = FNV_SEED_B;
  let inSpace = false;
  for (let i = start; i < end; i++) {
    const c = lower.charCodeAt(i);
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
  return hex16(fnv1a32Finish(a), fnv1a32Finish(b));
}
