/**
 * API keys as the gateway holds them: by their SHA-256, so that a config file that leaks
 * gives nothing a client could present. The config may list a key in plain text or as
 * `sha256:<hex>`; both end up hashed, and a presented key is hashed once and looked up.
 */
import { createHash } from 'node:crypto';
import { err, ok, type Result } from '../core/result.js';

/** The lowercase hex SHA-256 of an API key. */
export type KeyHash = string & { readonly __brand: 'KeyHash' };

const HASHED = /^sha256:([0-9a-fA-F]{64})$/;
export const HASH_PREFIX = 'sha256:';

export function hashKey(key: string): KeyHash {
  return createHash('sha256').update(key, 'utf8').digest('hex') as KeyHash;
}

/** The form to write in the config's `keys`. Example: `hashedKeyEntry('sk-1')` is `sha256:…`. */
export function hashedKeyEntry(key: string): string {
  return HASH_PREFIX + hashKey(key);
}

/** Key -> account, looked up by the key's hash. */
export class KeyTable {
  /**
   * Per connection, the last key presented on it and its account. A keep-alive connection
   * presents the same key with every request: its SHA-256 is computed once, not per request.
   * Held as long as the connection (whose requests carry the key anyway), and only in this
   * table: a reload, which builds a new table, starts afresh.
   */
  private readonly lastOn = new WeakMap<object, { key: string; account: string | undefined }>();

  private constructor(private readonly byHash: ReadonlyMap<KeyHash, string>) {}

  /**
   * Builds the table from the config's `keys`. Errors never quote a plain key: the
   * message may be logged.
   */
  static from(entries: Readonly<Record<string, string>>): Result<KeyTable, string> {
    const byHash = new Map<KeyHash, string>();
    for (const [entry, account] of Object.entries(entries)) {
      let hash: KeyHash;
      if (entry.startsWith(HASH_PREFIX)) {
        const m = HASHED.exec(entry);
        if (!m) return err(`the entry for "${account}" starts with "${HASH_PREFIX}" but is not 64 hex digits after it`);
        hash = m[1]!.toLowerCase() as KeyHash;
      } else {
        if (entry === '') return err(`the entry for "${account}" is an empty key`);
        hash = hashKey(entry);
      }
      const before = byHash.get(hash);
      if (before !== undefined && before !== account) return err(`one key is listed for both "${before}" and "${account}"`);
      byHash.set(hash, account);
    }
    return ok(new KeyTable(byHash));
  }

  /** The account of a presented key, or undefined. */
  accountOf(key: string): string | undefined {
    return this.byHash.get(hashKey(key));
  }

  /** As `accountOf`, for a key presented on `connection` (its socket): hashed once per connection and key. */
  accountOfOn(key: string, connection: object): string | undefined {
    const last = this.lastOn.get(connection);
    if (last !== undefined && last.key === key) return last.account;
    const account = this.accountOf(key);
    this.lastOn.set(connection, { key, account });
    return account;
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Its hashes only, so that a config printed or compared shows nothing usable. */
  toJSON(): Record<string, string> {
    return Object.fromEntries([...this.byHash].map(([h, a]) => [HASH_PREFIX + h, a]));
  }
}
