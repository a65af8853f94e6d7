/**
 * Reads answer text word by word, as the watermark sees it, for marking and for the test
 * alike: which words may be marked, and the context each is keyed on. Text is read in
 * pieces (a stream's deltas cut at whitespace); the state between pieces makes a text read
 * in any such pieces give exactly what it gives read whole.
 *
 * Never marked: fenced and indented code, inline code, anything inside braces or brackets
 * (JSON, links), quoted text, and an answer that starts as JSON. The context of a word is
 * the word before it, with a lexicon word standing for its pair, so that marking one word
 * never changes the context of the next.
 */
import { lookupForm, type LexiconPair } from './lexicon.js';

/** A word the watermark may choose the form of. */
export interface WordSite {
  pair: LexiconPair;
  /** Which of the pair's forms the text has. */
  index: 0 | 1;
  /** The word before it, as keyed: lower case, a lexicon word as `#<pair id>`, `^` at the start, `#` for anything else. */
  context: string;
}

/** Called on each markable word; returns the form to write instead, or undefined to keep it. */
export type Visit = (site: WordSite) => 0 | 1 | undefined;

const WORD = /^([^A-Za-z]*)([A-Za-z]+)([^A-Za-z]*)$/;
/** Characters that open or close a span never marked. */
const PROTECTING = /[`{}[\]"\u201c\u201d]/;
const LONGEST_WORD = 40;
const VOWEL = /^[aeiou]/;

export class WordScanner {
  private prev = '^';
  private started = false;
  private json = false;
  private atLineStart = true;
  private lineIndent = 0;
  private lineIsCode = false;
  private inFence = false;
  private inInline = false;
  private inQuote = false;
  private depth = 0;
  /** The last piece ended inside a token (a long run without whitespace cut by the holder). */
  private midToken = false;

  /** Reads a piece of text; returns it with the forms `visit` chose written in. */
  scan(piece: string, visit: Visit): string {
    let out = '';
    const tokens = piece.match(/\s+|\S+/g) ?? [];
    for (let i = 0; i < tokens.length; i++) {
      const tok = tokens[i]!;
      if (/^\s/.test(tok)) {
        this.whitespace(tok);
        out += tok;
      } else if (i === 0 && this.midToken) {
        this.track(tok);
        out += tok;
      } else {
        out += this.token(tok, visit);
      }
    }
    if (piece.length > 0) this.midToken = !/\s$/.test(piece);
    return out;
  }

  private whitespace(ws: string): void {
    const nl = ws.lastIndexOf('\n');
    if (nl >= 0) {
      this.atLineStart = true;
      this.lineIndent = 0;
      this.lineIsCode = false;
      this.inInline = false;
      this.inQuote = false;
    }
    if (this.atLineStart) for (const ch of ws.slice(nl + 1)) this.lineIndent += ch === '\t' ? 4 : 1;
  }

  private token(tok: string, visit: Visit): string {
    const lineStart = this.atLineStart;
    this.atLineStart = false;
    if (!this.started) {
      this.started = true;
      this.json = tok[0] === '{' || tok[0] === '[';
    }
    let fence = false;
    if (lineStart && this.lineIndent <= 3 && /^(```|~~~)/.test(tok)) {
      this.inFence = !this.inFence;
      fence = true;
    } else if (lineStart && this.lineIndent >= 4) {
      this.lineIsCode = true;
    }
    const guarded = fence || this.json || this.inFence || this.lineIsCode || this.inInline || this.inQuote || this.depth > 0 || PROTECTING.test(tok);
    this.track(tok);

    const m = WORD.exec(tok);
    const lower = m && m[2]!.length <= LONGEST_WORD ? m[2]!.toLowerCase() : null;
    const found = lower !== null ? lookupForm(lower) : undefined;
    const context = this.prev;
    this.prev = found ? `#${found.pair.id}` : (lower ?? '#');
    if (guarded || !found || !m) return tok;
    const { pair, index } = found;
    if (pair.after !== undefined && pair.after !== context) return tok;
    // "a huge" must not become "a enormous": the article before is already sent.
    if ((context === 'a' || context === 'an') && VOWEL.test(pair.forms[0]) !== VOWEL.test(pair.forms[1])) return tok;
    const chosen = visit({ pair, index, context });
    if (chosen === undefined || chosen === index) return tok;
    return m[1]! + withCaseOf(m[2]!, pair.forms[chosen]) + m[3]!;
  }

  /** Spans opened and closed by a token's characters. Inside code only the code's own end counts. */
  private track(tok: string): void {
    if (this.json || this.inFence || this.lineIsCode) return;
    for (const ch of tok) {
      if (ch === '`') this.inInline = !this.inInline;
      else if (this.inInline) continue;
      else if (ch === '{' || ch === '[') this.depth++;
      else if (ch === '}' || ch === ']') this.depth = Math.max(0, this.depth - 1);
      else if (ch === '"') this.inQuote = !this.inQuote;
      else if (ch === '\u201c') this.inQuote = true;
      else if (ch === '\u201d') this.inQuote = false;
    }
  }
}

/** `word` written with the capitals of `like`: "Color" -> "Colour", "COLOR" -> "COLOUR". */
function withCaseOf(like: string, word: string): string {
  if (like.length > 1 && like === like.toUpperCase()) return word.toUpperCase();
  if (like[0] !== like[0]!.toLowerCase()) return word[0]!.toUpperCase() + word.slice(1);
  return word;
}
