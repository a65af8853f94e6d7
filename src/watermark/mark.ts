/**
 * Marking: each markable word takes the form its key chooses for its context, a bit of
 * HMAC-SHA256(key, pair and context). The same text and key always give the same marked
 * text, and a stream's pieces, marked in order by one `TextMarker`, give the same text as
 * the whole answer marked at once.
 */
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { WatermarkKey } from './keys.js';
import type { LexiconPair } from './lexicon.js';
import { WordScanner } from './scan.js';

/** Most choices remembered per key; beyond, the memory starts again. */
const MEMORY = 50_000;

interface KeyState {
  secret: KeyObject;
  chosen: Map<string, 0 | 1>;
}

// One HMAC costs microseconds, mostly in setting up the key: the key object is made once
// per key, and the choices a key made are remembered (the same contexts come back).
const states = new WeakMap<WatermarkKey, KeyState>();

/** The form of `pair` that `key` chooses after `context`: 0 or 1, each with probability 1/2 over keys. */
export function keyedForm(key: WatermarkKey, pair: LexiconPair, context: string): 0 | 1 {
  let st = states.get(key);
  if (!st) states.set(key, (st = { secret: createSecretKey(key), chosen: new Map() }));
  const input = `${pair.id}\u0000${context}`;
  let form = st.chosen.get(input);
  if (form === undefined) {
    form = (createHmac('sha256', st.secret).update(input).digest()[0]! & 1) as 0 | 1;
    if (st.chosen.size >= MEMORY) st.chosen.clear();
    st.chosen.set(input, form);
  }
  return form;
}

/** Marks one text (a choice or a content block) read in pieces, in order. */
export class TextMarker {
  private readonly scanner = new WordScanner();
  /** Words whose form was changed, for the share of words changed. */
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
