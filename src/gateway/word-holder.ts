/** Whole words out of a stream's text deltas, for a watermark that marks words. */

/** Past this many characters without whitespace, held text goes anyway (code, CJK text). */
const MAX_HELD = 200;

/**
 * Cuts a stream's text into whole words for the watermark: a delta gives back what it
 * completes, up to its last whitespace, and the unfinished word waits for the next delta
 * or for the end of its slot (a choice or a content block, by index).
 */
export class WordHolder {
  private readonly held = new Map<number, string>();

  push(slot: number, delta: string): string {
    const text = (this.held.get(slot) ?? '') + delta;
    let cut = text.length;
    while (cut > 0 && !/\s/.test(text[cut - 1]!)) cut--;
    if (cut === 0) {
      if (text.length < MAX_HELD) {
        this.held.set(slot, text);
        return '';
      }
      cut = text.length;
    }
    this.held.set(slot, text.slice(cut));
    return text.slice(0, cut);
  }

  /** The slot's held text, given up: its text is complete. */
  end(slot: number): string {
    const rest = this.held.get(slot) ?? '';
    this.held.delete(slot);
    return rest;
  }

  /** Every slot's held text, given up: the stream ends. */
  endAll(): [number, string][] {
    const out = [...this.held].filter(([, t]) => t.length > 0);
    this.held.clear();
    return out;
  }
}
