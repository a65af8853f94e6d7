/**
 * Reads server-sent events out of a byte stream as it passes through, without holding
 * the stream: only the unfinished tail of the last event is kept between chunks.
 */
import { StringDecoder } from 'node:string_decoder';

export interface SseEvent {
  event: string | null;
  data: string;
}

export class SseReader {
  private readonly decoder = new StringDecoder('utf8');
  private tail = '';

  /** Feeds one chunk; returns the events it completed. */
  push(chunk: Buffer): SseEvent[] {
    this.tail += this.decoder.write(chunk);
    const out: SseEvent[] = [];
    for (;;) {
      const m = /\r?\n\r?\n/.exec(this.tail);
      if (!m) break;
      const block = this.tail.slice(0, m.index);
      this.tail = this.tail.slice(m.index + m[0].length);
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) event = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length > 0 || event !== null) out.push({ event, data: data.join('\n') });
    }
    return out;
  }
}
