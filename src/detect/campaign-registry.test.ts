import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountId, type AccountId, type CampaignId } from '../core/ids.js';
import { indicatorKey, type IndicatorKey } from '../link/indicators.js';
import { createLinker, type Linker } from '../link/linker.js';
import { AccountBook } from './account-book.js';
import { CampaignRegistry } from './campaign-registry.js';
import { scoreCampaign } from './campaign-score.js';
import { DEFAULT_PARAMS } from './params.js';
import { feat } from './_test-features.js';

const T0 = Date.parse('2026-04-22T00:00:00Z');
const HOUR = 3_600_000;

/** A book, a linker and a registry over them, with accounts flagged into campaigns by hand. */
function world(): { book: AccountBook; linker: Linker; registry: CampaignRegistry; pool: (prefix: string, n: number, keys: IndicatorKey[]) => AccountId[]; flagInto: (id: CampaignId, accounts: readonly AccountId[]) => void; record: (id: CampaignId, accounts: readonly AccountId[]) => void; flagged: (accounts: readonly AccountId[]) => CampaignId } {
  const book = new AccountBook(DEFAULT_PARAMS);
  const linker = createLinker('full', { genericAccounts: DEFAULT_PARAMS.genericIndicatorAccounts, resolution: DEFAULT_PARAMS.louvainResolution });
  const registry = new CampaignRegistry(book, linker, 3);
  const pool = (prefix: string, n: number, keys: IndicatorKey[]): AccountId[] =>
    Array.from({ length: n }, (_, i) => {
      const a = accountId(`${prefix}${i}`);
      book.observe(feat({ account_id: a, ts: T0 + i }));
      for (const k of keys) linker.addKey(a, k);
      linker.setSuspect(a, true);
      return a;
    });
  const flagInto = (id: CampaignId, accounts: readonly AccountId[]): void => {
    for (const a of accounts) {
      book.get(a)!.campaignId = id;
      registry.joined(id);
    }
  };
  const record = (id: CampaignId, accounts: readonly AccountId[]): void => {
    const members = accounts.map((a) => ({ state: book.get(a)!, score: book.scoreOf(a) }));
    const score = scoreCampaign({ accounts: [...accounts], indicators: new Map() }, members, DEFAULT_PARAMS, { headHour: 0, modelFirstSeen: book.modelFirstSeen, intel: null });
    registry.record(id, T0 + HOUR, score, new Map(), members.map((m) => m.state));
  };
  /** A campaign for `accounts`, its members flagged into it and its score recorded. */
  const flagged = (accounts: readonly AccountId[]): CampaignId => {
    const id = registry.idFor(accounts.map((a) => book.get(a)!));
    flagInto(id, accounts);
    record(id, accounts);
    return id;
  };
  return { book, linker, registry, pool, flagInto, record, flagged };
}

const publicWrapper = indicatorKey('template', 'public-wrapper');

describe('CampaignRegistry', () => {
  it('keeps two operators apart when one account of the second lands in the first group by a public template only', () => {
    const w = world();
    const hydra = w.pool('hydra', 8, [indicatorKey('harness', 'h-hydra'), indicatorKey('system', 's-hydra'), publicWrapper]);
    const evaders = w.pool('evader', 6, [indicatorKey('harness', 'h-evader'), indicatorKey('system', 's-evader'), publicWrapper]);
    const a = w.flagged(hydra);
    const b = w.flagged(evaders);
    assert.notEqual(a, b);
    // A later linking run hangs one evader on the hydra's group by the wrapper both copied.
    const group = [...hydra, evaders[0]!];
    w.record(w.registry.idFor(group.map((a) => w.book.get(a)!)), group);
    assert.ok(w.registry.campaigns.has(b), 'the second operator keeps its campaign');
    for (const e of evaders) assert.equal(w.book.get(e)!.campaignId, b, `${e} stays in its own campaign`);
    for (const h of hydra) assert.equal(w.book.get(h)!.campaignId, a);
  });

  it('folds two campaigns into one when an account of one shares a specific harness with the other group', () => {
    const w = world();
    const first = w.pool('first', 8, [indicatorKey('harness', 'h-op'), publicWrapper]);
    const second = w.pool('second', 6, [indicatorKey('harness', 'h-op-2'), publicWrapper]);
    // The same operator: one account of its second pool still runs the first pool's client.
    w.linker.addKey(second[0]!, indicatorKey('harness', 'h-op'));
    const a = w.flagged(first);
    const b = w.flagged(second);
    const group = [...first, second[0]!];
    w.record(w.registry.idFor(group.map((a) => w.book.get(a)!)), group);
    assert.ok(!w.registry.campaigns.has(b), 'the second campaign is absorbed');
    for (const s of second) assert.equal(w.book.get(s)!.campaignId, a);
  });
});
