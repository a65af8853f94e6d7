/**
 * Text normalisation shared by the signals: lower-case, variable parts masked, so that
 * two prompts built from one template with different fillers look alike.
 */

const CODE_BLOCK = /```[\s\S]*?(```|$)/g;
const URL = /\bhttps?:\/\/\S+/g;
const EMAIL = /\b[\w.+-]+@[\w-]+\.[\w.-]+\b/g;
const QUOTED = /"[^"\n]{1,200}"|'[^'\n]{1,200}'|`[^`\n]{1,200}`/g;
const NUMBER = /\b\d+(?:[.,]\d+)*\b/g;
const WS = /\s+/g;

/** Masks the parts of a prompt that a template fills in: code, URLs, quotes, numbers. */
export function maskVariableParts(text: string): string {
  return text
    .toLowerCase()
    .replace(CODE_BLOCK, ' <code> ')
    .replace(URL, ' <url> ')
    .replace(EMAIL, ' <email> ')
    .replace(QUOTED, ' <q> ')
    .replace(NUMBER, '#')
    .replace(WS, ' ')
    .trim();
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
