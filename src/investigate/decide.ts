/**
 * Making a decision: kept with its audit in the store, then turned into what enforcement reads
 * (each covered account's override and blocklist entry, the same record the gateway's admin
 * route writes) and pushed to the gateways through their shared state.
 */
import type { ScanReport } from '../core/report.js';
import { HARNESS_KINDS, type IndicatorKind } from '../link/indicators.js';
import type { AccountDecisions, Store } from '../store/store.js';
import type { GatewayState } from '../gateway/state.js';
import type { CaseDecision, DecisionTarget, DecisionVerdict, NewCaseDecision } from '../store/casework.js';
import type { TokenHolder } from '../gateway/admin/auth.js';
import { currentDecisions, decisionSummary, targetKey } from './decisions.js';

export type DecisionRequest = DecisionVerdict & { target: DecisionTarget; note: string };

export type DecideResult = { ok: true; decision: CaseDecision; accounts: { account_id: string; before: AccountDecisions; after: AccountDecisions }[] } | { ok: false; code: 'not_found'; message: string };

export interface DecideDeps {
  store: Pick<Store, 'recordCaseDecision' | 'caseDecisions' | 'currentDecisions' | 'recordDecision' | 'hasAccount'>;
  report: ScanReport | null;
  /** Where the gateways read decisions live (Redis shared state); null when none is configured. */
  enforcement: Pick<GatewayState, 'setOverride' | 'setBlocked'> | null;
  /** Names the server in each account decision it records. */
  origin: string;
  now?: () => Date;
}

/** What enforcement does to an account under each decision; null leaves it as it is. */
function enforced(kind: DecisionVerdict['kind']): AccountDecisions | null {
  switch (kind) {
    case 'confirm':
    case 'block':
      return { override: null, blocked: true };
    case 'dismiss':
    case 'allowlist':
      return { override: 'allow', blocked: false };
    case 'snooze':
      return null;
  }
}

/** The indicators a campaign decision keeps (see NewCaseDecision.marks). */
function marksOf(req: DecisionRequest, report: ScanReport | null): string[] {
  if (report === null) return [];
  // An account's decision is about what ties it to its campaign, when it is in one.
  const campaignId = req.target.kind === 'campaign' ? req.target.id : report.accounts.find((a) => a.account_id === req.target.id)?.campaign_id;
  const c = report.campaigns.find((x) => x.id === campaignId);
  const shared = c?.shared_indicators ?? [];
  // A burst of sign-ups is no trait of anyone's client: it marks nothing for later.
  if (req.kind === 'dismiss') return shared.filter((s) => s.kind !== 'burst').map((s) => `${s.kind}:${s.value}`);
  if (req.kind === 'confirm') return shared.filter((s) => HARNESS_KINDS.has(s.kind as IndicatorKind)).map((s) => `${s.kind}:${s.value}`);
  return [];
}

export async function decide(deps: DecideDeps, holder: TokenHolder, req: DecisionRequest): Promise<DecideResult> {
  const { store, report } = deps;
  let accounts: string[];
  if (req.target.kind === 'campaign') {
    const c = report?.campaigns.find((x) => x.id === req.target.id);
    if (!c) return { ok: false, code: 'not_found', message: `Cannot decide: no campaign "${req.target.id}" in the latest scan` };
    accounts = [...c.accounts];
  } else {
    const known = report?.accounts.some((a) => a.account_id === req.target.id) || (await store.hasAccount(req.target.id));
    if (!known) return { ok: false, code: 'not_found', message: `Cannot decide: no account "${req.target.id}" in the store` };
    accounts = [req.target.id];
  }
  const at = (deps.now?.() ?? new Date()).toISOString();
  const previous = currentDecisions(await store.caseDecisions()).get(targetKey(req.target));
  const d = { ...req, at, actor: holder.name, marks: marksOf(req, report), accounts } as NewCaseDecision;
  const why = [req.kind === 'dismiss' ? req.reason : '', req.kind === 'snooze' ? `until ${req.until}` : '', req.note].filter(Boolean).join(': ');
  const saved = await store.recordCaseDecision(d, {
    at,
    actor: holder.name,
    role: holder.role,
    action: `decision.${req.kind}`,
    target: req.target,
    why,
    before: decisionSummary(previous),
    after: decisionSummary(d as CaseDecision),
  });
  // Then what enforcement reads, account by account: the store first (its source of truth),
  // then the shared state that every gateway replica is told of at once.
  const after = enforced(req.kind);
  const changed: { account_id: string; before: AccountDecisions; after: AccountDecisions }[] = [];
  if (after !== null) {
    const current = new Map((await store.currentDecisions()).map((r) => [r.accountId, r.after]));
    for (const accountId of accounts) {
      const before = current.get(accountId) ?? { override: null, blocked: false };
      await store.recordDecision({ accountId, at, actor: holder.name, origin: deps.origin, before, after });
      if (deps.enforcement) {
        await deps.enforcement.setOverride(accountId, after.override as 'allow' | null);
        await deps.enforcement.setBlocked(accountId, after.blocked);
      }
      changed.push({ account_id: accountId, before, after });
    }
  }
  return { ok: true, decision: saved, accounts: changed };
}
