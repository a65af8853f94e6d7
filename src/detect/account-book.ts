/**
 * The account book: every account's behaviour, its latest score, and which accounts changed
 * since the last scoring. Scoring touches only those, so a linking run costs what changed,
 * not every account the engine holds.
 */
import type { ExchangeFeatures } from '../core/features.js';
import { accountId, type AccountId } from '../core/ids.js';
import { AccountState, type ObserveDelta } from './account-state.js';
import { AccountScore, scoreAccount } from './account-score.js';
import type { DetectorParams } from './params.js';
import { EMPTY_TABLE, MAP_ENTRY, objectBytes, typedArrayBytes } from './state-bytes.js';

/** The score of an account not scored yet: nothing fired. Never written (`scoreNow` gives each account its own). */
const UNSCORED = new AccountScore();

export class AccountBook {
  private readonly states = new Map<AccountId, AccountState>();
  /**
   * Accounts observed since they were last scored, each once (`AccountState.queued`): a list
   * and a flag on the state rather than a set, which took a hash lookup on every exchange.
   */
  private readonly changed: AccountState[] = [];
  /** Event time each model was first seen (for release pivots). */
  readonly modelFirstSeen = new Map<string, number>();

  constructor(private readonly params: DetectorParams) {}

  /** Counts one exchange of its account (see `AccountState.observe`). */
  observe(f: ExchangeFeatures, phrases?: readonly string[], delta?: ObserveDelta): AccountState {
    if (!this.modelFirstSeen.has(f.model)) this.modelFirstSeen.set(f.model, f.ts);
    const id = accountId(f.account_id);
    let s = this.states.get(id);
    if (!s) {
      s = new AccountState(id);
      this.states.set(id, s);
    }
    s.observe(f, phrases, delta);
    if (!s.queued) {
      s.queued = true;
      this.changed.push(s);
    }
    return s;
  }

  /** Rescores every account observed since the last call; `each` sees its score as it now stands (the account's own, rewritten). */
  rescore(each: (s: AccountState, score: AccountScore) => void): void {
    for (const s of this.changed) {
      s.queued = false;
      each(s, this.scoreNow(s));
    }
    this.changed.length = 0;
  }

  private scoreNow(s: AccountState): AccountScore {
    const score = scoreAccount(s, this.params, s.score ?? new AccountScore());
    s.score = score;
    s.dirty = false;
    return score;
  }

  /**
   * The account's score as of its last exchange (scored now if it changed since). It stays
   * due for the next `rescore`, which is what moves it in or out of the suspects: the gateway
   * asks for a verdict on every request, and an account it had asked about must not be left
   * out of linking.
   */
  freshScore(s: AccountState): AccountScore {
    return s.dirty ? this.scoreNow(s) : AccountBook.scoreOfState(s);
  }

  get(id: AccountId): AccountState | undefined {
    return this.states.get(id);
  }
  scoreOf(id: AccountId): AccountScore {
    const s = this.states.get(id);
    return s === undefined ? UNSCORED : AccountBook.scoreOfState(s);
  }
  /** The latest score of an account whose state is at hand. */
  static scoreOfState(s: AccountState): AccountScore {
    return s.score ?? UNSCORED;
  }
  values(): IterableIterator<AccountState> {
    return this.states.values();
  }
  get size(): number {
    return this.states.size;
  }

  /** Bytes of every account's state, and of their latest scores (state-bytes.ts). */
  stateBytes(): { accounts: number; scores: number } {
    let accounts = EMPTY_TABLE + this.states.size * MAP_ENTRY;
    for (const s of this.states.values()) accounts += s.stateBytes();
    let scores = 0;
    for (const s of this.states.values()) {
      const sc = s.score;
      if (sc === null) continue;
      // Its slot on the state; the score (risk and its number, the strengths, three sets of bits); the strengths.
      scores += 8 + objectBytes(5) + 16 + typedArrayBytes(sc.strengths);
    }
    return { accounts, scores };
  }
}
