/**
 * Phrase sketch of a prompt: the hashes of its sentences once lower-cased and masked
 * (numbers, quotes, code). An operator that writes its wrappers afresh per account still
 * draws them from one stock of phrasings, so its accounts share whole sentences that are
 * not the item they wrap; two people asking for the same thing rarely write the same
 * sentence, and the items of a public bank are held by honest accounts as well, which is
 * why the linker lets a shared phrase tie only accounts that are already suspects.
 */
import { fnv1a32, hex8 } from './hash.js';

/** Sentences kept per prompt: the wrapper's sentences are at its ends, so the first and last. */
export const MAX_PHRASES = 8;
/** Fewer words than this is an interjection ("hi!", "thanks"), which everyone writes. */
const MIN_WORDS = 3;
const MAX_CHARS = 240;
const SENTENCE_END = /(?<=[.?!:;])\s+|\n+/;
const WS = /\s+/g;
/** Characters read at each end of a long prompt. */
const ENDS_CHARS = 1500;

/**
 * Space-separated 8-hex hashes of the prompt's sentences, de-duplicated, first and last
 * sentences kept when there are more than MAX_PHRASES; '' for an empty prompt.
 * @example phraseSigs(maskForWords('Thanks a lot. Ana has # apples.')) // 'xxxxxxxx yyyyyyyy'
 */
export function phraseSigs(masked: string): string {
  // A wrapper sits at the ends of a prompt; a pasted file in between is not split at all.
  const all = masked.length <= 2 * ENDS_CHARS ? sentences(masked) : [...sentences(masked.slice(0, ENDS_CHARS)).slice(0, -1), ...sentences(masked.slice(-ENDS_CHARS)).slice(1)];
  const kept = all.length <= MAX_PHRASES ? all : [...all.slice(0, MAX_PHRASES / 2), ...all.slice(-MAX_PHRASES / 2)];
  return [...new Set(kept.map((s) => hex8(fnv1a32(s))))].join(' ');
}

/** Sentences of a masked text, white space folded, interjections and overlong runs left out. */
function sentences(masked: string): string[] {
  const out: string[] = [];
  for (const raw of masked.split(SENTENCE_END)) {
    const s = raw.replace(WS, ' ').trim();
    if (s.length === 0 || s.length > MAX_CHARS) continue;
    if (s.split(' ').length < MIN_WORDS) continue;
    out.push(s);
  }
  return out;
}

/** The hashes of a `phraseSigs` string. */
export const phrasesOf = (sigs: string): string[] => (sigs ? sigs.split(' ') : []);
