/**
 * Marking: each markable word takes the form its key chooses for its context, a bit of
 * HMAC-SHA256(key, pair and context). The same text and key always give the same marked
 * text, and a stream's pieces, marked in order by one `TextMarker`, give the same text as
 * the whole answer marked at once.
 */
import { createHmac } from 'node:crypto';
import type { WatermarkKey } from './keys.js';
import type { LexiconPair } from './lexicon.js';
import { WordScanner } from './scan.js';

/** The form of `pair` that `key` chooses after `context`: 0 or 1, each with probability 1/2 over keys. */
export function keyedForm(key: WatermarkKey, pair: LexiconPair, context: string): 0 | 1 {
  const mac = createHmac('sha256', key).update(`${pair.id}\u0000${context}`).digest();
  return (mac[0]! & 1) as 0 | 1;
}

/** Marks one text (a choice or a content block) read in pieces, in order. */
export class TextMarker {
  private readonly scanner = new WordScanner();
  /** Words read and words whose form was changed, for the share of words changed. */
  words = 0;
  changed = 0;

  constructor(private readonly key: WatermarkKey) {}

  mark(piece: string): string {
    return this.scanner.scan(piece, (site) => {
      const form = keyedForm(this.key, site.pair, site.context);
      if (form !== site.index) this.changed++;
      return form;
    });
  }
}

/** A whole text marked. Example: `markText(key, 'The colour is often grey.')`. */
export function markText(key: WatermarkKey, text: string): string {
  return new TextMarker(key).mark(text);
}
