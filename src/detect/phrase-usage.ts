/**
 * Which shared sentences are an operator's wrapper and which are public text. A wrapper
 * sentence is repeated by each account that writes it, around different items; a sentence
 * of a public problem bank or a common follow-up ("why is that?") is met once or twice by
 * most of the accounts that send it. So a sentence ties accounts only when most of its
 * users use it as a habit: an evaluation run walking a public bank repeats the bank's
 * question sentences, but the ordinary users who ask a few of the same items do not.
 */
import type { AccountId } from '../core/ids.js';
import { arrayBytes, EMPTY_TABLE, MAP_ENTRY, SET_ENTRY, stringBytes } from './state-bytes.js';

/** Accounts that must use a sentence as a habit before it can tie them. */
export const MIN_WRAPPER_HOLDERS = 3;
/** Share of a sentence's users that use it as a habit before it is a wrapper. */
export const MIN_HABIT_SHARE = 0.5;

export class PhraseUsage {
  /** Accounts that used each sentence at least once. */
  private readonly users = new Map<string, number>();
  /** Accounts that use each sentence as a habit, until it is a wrapper. */
  private readonly holders = new Map<string, AccountId[]>();
  /** Sentences found to be wrappers: from then on every habit holder is tied. */
  private readonly wrappers = new Set<string>();

  /** Accounts that used a sentence so far. */
  usersOf(phrase: string): number {
    return this.users.get(phrase) ?? 0;
  }

  /** An account used a sentence for the first time; returns the accounts that used it before. */
  firstUse(phrase: string): number {
    const before = this.users.get(phrase) ?? 0;
    this.users.set(phrase, before + 1);
    return before;
  }

  /**
   * An account made a sentence its habit. Returns the accounts to tie by it now: none while
   * it may still be public text, every holder so far when it is found to be a wrapper, the
   * account alone once it is known to be one.
   */
  habit(phrase: string, account: AccountId): readonly AccountId[] {
    if (this.wrappers.has(phrase)) return [account];
    const held = this.holders.get(phrase) ?? [];
    held.push(account);
    this.holders.set(phrase, held);
    if (held.length < MIN_WRAPPER_HOLDERS || held.length / (this.users.get(phrase) ?? held.length) < MIN_HABIT_SHARE) return [];
    this.wrappers.add(phrase);
    this.holders.delete(phrase);
    return held;
  }

  /**
   * Bytes held (state-bytes.ts). Sentences come only from accounts' tracked sentences
   * (`AccountState.phrases`, capped per account), so this grows with accounts, not exchanges.
   */
  stateBytes(): number {
    let b = 3 * EMPTY_TABLE + this.users.size * MAP_ENTRY + this.holders.size * MAP_ENTRY + this.wrappers.size * SET_ENTRY;
    for (const p of this.users.keys()) b += stringBytes(p.length);
    for (const h of this.holders.values()) b += arrayBytes(h.length);
    return b;
  }
}
