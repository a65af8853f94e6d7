/**
 * Small, fast, non-cryptographic hashes for signatures computed on every exchange.
 * Hand-written because they run on the hot path: node:crypto's per-call overhead is
 * several times the cost of hashing a short string here.
 */

export const FNV_SEED_A = 0x811c9dc5;
export const FNV_SEED_B = 0x9747b28c;

/** One UTF-16 code unit into a running FNV-1a state. */
export const fnv1a32Step = (h: number, c: number): number => Math.imul(h ^ c, 0x01000193);

/** Final avalanche (murmur3 fmix) so that nearby inputs differ in every bit. */
export function fnv1a32Finish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a over UTF-16 code units, with a seed to get independent hashes. */
export function fnv1a32(s: string, seed = FNV_SEED_A): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) h = fnv1a32Step(h, s.charCodeAt(i));
  return fnv1a32Finish(h);
}

/** Character codes of the hex digits. */
const HEX_CODES = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_CODES[i] = '0123456789abcdef'.charCodeAt(i);
const hexAt = (n: number, shift: number): number => HEX_CODES[(n >>> shift) & 15]!;

/**
 * 8 hex characters of a 32-bit number. Made by one `String.fromCharCode`, one flat string:
 * joining eight one-character strings allocated seven strings on the way, on every
 * signature of every exchange.
 */
export function hex8(n: number): string {
  return String.fromCharCode(hexAt(n, 28), hexAt(n, 24), hexAt(n, 20), hexAt(n, 16), hexAt(n, 12), hexAt(n, 8), hexAt(n, 4), hexAt(n, 0));
}

/** Pushes the character codes of `hex8(n)` to `out`. */
export function hexCodes(n: number, out: number[]): void {
  for (let shift = 28; shift >= 0; shift -= 4) out.push(hexAt(n, shift));
}

/** `hex8(a) + hex8(b)` as one flat string (a joined one is a pair of strings the encoder flattens again). */
export function hex16(a: number, b: number): string {
  return String.fromCharCode(
    hexAt(a, 28), hexAt(a, 24), hexAt(a, 20), hexAt(a, 16), hexAt(a, 12), hexAt(a, 8), hexAt(a, 4), hexAt(a, 0),
    hexAt(b, 28), hexAt(b, 24), hexAt(b, 20), hexAt(b, 16), hexAt(b, 12), hexAt(b, 8), hexAt(b, 4), hexAt(b, 0),
  );
}

/** 64-bit signature of a string as 16 hex characters ('' stays ''). */
export function sig64(s: string): string {
  if (s.length === 0) return '';
  return hex16(fnv1a32(s), fnv1a32(s, FNV_SEED_B));
}

/**
 * `sig64(parts.join(sep))` built part by part, for a signature over a few fields that would
 * otherwise need an array and a joined string on every exchange. One instance is reused:
 * `begin` resets it. Parts are turned to strings as `join` does them (numbers, booleans);
 * the joined text of several parts is never empty, so neither is the signature.
 */
export class Sig64Builder {
  private a = FNV_SEED_A;
  private b = FNV_SEED_B;
  private parts = 0;
  constructor(private readonly sep: number) {}
  begin(): this {
    this.a = FNV_SEED_A;
    this.b = FNV_SEED_B;
    this.parts = 0;
    return this;
  }
  add(part: string | number | boolean): this {
    if (this.parts++ > 0) {
      this.a = fnv1a32Step(this.a, this.sep);
      this.b = fnv1a32Step(this.b, this.sep);
    }
    const s = typeof part === 'string' ? part : String(part);
    let a = this.a;
    let b = this.b;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      a = fnv1a32Step(a, c);
      b = fnv1a32Step(b, c);
    }
    this.a = a;
    this.b = b;
    return this;
  }
  digest(): string {
    if (this.parts === 0) return '';
    return hex16(fnv1a32Finish(this.a), fnv1a32Finish(this.b));
  }
}
