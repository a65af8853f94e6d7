/** `GET|PUT /admin/accounts/:id`: an account's standing, verdict, and the operator's say on it. */
import { z } from 'zod';
import type { Logger } from 'pino';
import type { Analysis } from '../analysis.js';
import type { GatewayState } from '../state.js';
import { ActionSchema, decide, type Policy } from '../policy.js';
import type { Store } from '../../store/store.js';
import { adminError, json, type AdminAnswer } from './http.js';
import type { TokenHolder } from './auth.js';

export interface AccountRouteDeps {
  state: GatewayState;
  analysis: Pick<Analysis, 'verdictOf'>;
  logger: Logger;
  /** The policy in force now (it changes on reload). */
  policy(): Policy;
  /** Ends the account's requests in flight (a block takes effect at once). */
  cutAccount(accountId: string): void;
  /** Where decisions are recorded (audited) before they take effect; null without a store. */
  store?: Pick<Store, 'recordDecision'> | null;
  /** This replica's id, kept with each decision. */
  replicaId(): string;
}

/** What an operator may change: `{}` changes nothing, a key not listed here is an error. */
export const AccountChangeSchema = z.strictObject({
  override: ActionSchema.nullable().optional(),
  blocked: z.boolean().optional(),
});
export type AccountChange = z.infer<typeof AccountChangeSchema>;

/** Reads a PUT body: a JSON object of `AccountChangeSchema`, or the reason it is not one. */
export function parseAccountChange(body: Buffer): { ok: true; change: AccountChange } | { ok: false; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, error: 'Cannot change the account: the body is not JSON' };
  }
  const r = AccountChangeSchema.safeParse(value);
  if (r.success) return { ok: true, change: r.data };
  const issue = r.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') return { ok: false, error: `Cannot change the account: unknown key ${issue.keys.map((k) => `"${k}"`).join(', ')} (known: "override", "blocked")` };
  if (issue.path.length === 0) return { ok: false, error: 'Cannot change the account: the body must be a JSON object such as {"blocked": true}' };
  const key = String(issue.path[0]);
  const expected = key === 'override' ? 'allow, flag, throttle, degrade, block or null' : 'true or false';
  return { ok: false, error: `Cannot change the account: "${key}" must be ${expected}` };
}

export async function showAccount(deps: AccountRouteDeps, accountId: string): Promise<AdminAnswer> {
  const standing = await deps.state.standing(accountId);
  const { verdict } = await deps.analysis.verdictOf(accountId);
  return json(200, {
    account_id: accountId,
    standing,
    decision: decide(deps.policy(), accountId, standing),
    requests: await deps.state.requestCount(accountId),
    verdict: verdict && { risk: verdict.risk, verdict: verdict.verdict, campaign_id: verdict.campaignId, reasons: verdict.reasons, exchanges: verdict.exchanges },
  });
}

/** `holder` is who the audit names; null only when called with no token to check (tests of the handler alone). */
export async function changeAccount(deps: AccountRouteDeps, accountId: string, body: Buffer | null, holder: TokenHolder | null = null): Promise<AdminAnswer> {
  if (body === null) return adminError(413, 'request_too_large', 'Cannot change the account: the body is too large');
  const p = parseAccountChange(body);
  if (!p.ok) return adminError(400, 'invalid_request_error', p.error);
  const { override, blocked } = p.change;
  const now = await deps.state.standing(accountId);
  const before = { override: now.override, blocked: now.blocked };
  const after = { override: override !== undefined ? override : before.override, blocked: blocked ?? before.blocked };
  // The store is the decision's source of truth and its audit: recorded first, or not made.
  const store = deps.store ?? null;
  if (store !== null) {
    try {
      const at = new Date().toISOString();
      const actor = holder?.name ?? 'admin';
      const audit = { at, actor, role: holder?.role ?? 'admin', action: 'account.change', target: { kind: 'account' as const, id: accountId }, why: '', before, after };
      await store.recordDecision({ accountId, at, actor, origin: deps.replicaId(), before, after }, audit);
    } catch (e) {
      deps.logger.error({ account: accountId, err: (e as Error).message }, 'cannot record the decision');
      return adminError(503, 'server_error', 'Cannot record the decision: the store refused it; nothing was changed');
    }
  }
  if (override !== undefined) await deps.state.setOverride(accountId, override);
  if (blocked !== undefined) await deps.state.setBlocked(accountId, blocked);
  deps.logger.info({ account: accountId, override, blocked }, 'operator changed account');
  const decided = decide(deps.policy(), accountId, await deps.state.standing(accountId));
  if (decided.action === 'block') deps.cutAccount(accountId);
  return showAccount(deps, accountId);
}
