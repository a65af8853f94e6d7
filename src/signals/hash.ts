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

const HEX = '0123456789abcdef';
export function hex8(n: number): string {
  return (
    HEX[(n >>> 28) & 15]! + HEX[(n >>> 24) & 15]! + HEX[(n >>> 20) & 15]! + HEX[(n >>> 16) & 15]! +
    HEX[(n >>> 12) & 15]! + HEX[(n >>> 8) & 15]! + HEX[(n >>> 4) & 15]! + HEX[n & 15]!
  );
}

/** 64-bit signature of a string as 16 hex characters ('' stays ''). */
export function sig64(s: string): string {
  if (s.length === 0) return '';
  return hex8(fnv1a32(s)) + hex8(fnv1a32(s, FNV_SEED_B));
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
    return hex8(fnv1a32Finish(this.a)) + hex8(fnv1a32Finish(this.b));
  }
}
