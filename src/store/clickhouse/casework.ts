/**
 * The ClickHouse side of `CaseworkStore`: decisions and audit as rows ordered by a sequence
 * number the store hands out, and the investigation's aggregations (per account, per hour,
 * per indicator) as ClickHouse SQL over `exchanges FINAL`, so only their results reach Node.
 */
import type {
  AuditEntry,
  CaseDecision,
  DecisionTarget,
  ExchangePreview,
  HourlyActivity,
  HourlyCapability,
  HourlyTotal,
  HourlyVerdictActivity,
  IndicatorHolder,
  NewAuditEntry,
  NewCaseDecision,
  Page,
  RolledTimeline,
  RollupInput,
  SearchKind,
} from '../casework.js';
import { msOf } from '../schema.js';
import type { Sql } from './store.js';

const iso = (ms: number | string): string => new Date(Number(ms)).toISOString();

/** The exchange columns each searchable indicator kind is matched against. */
const SEARCH_COLUMNS: Record<SearchKind, readonly string[]> = {
  ip: ['ip'],
  subnet: ['subnet'],
  asn: ['toString(asn)'],
  payment: ['payment_fp'],
  user_agent: ['user_agent'],
  harness: ['harness_sig'],
  system: ['system_sig'],
  template: ['template_prefix', 'template_suffix'],
};

const msOrNow = (at: string): number => msOf(at) ?? Date.now();

export async function insertAudit(sql: Sql, seq: number, a: NewAuditEntry): Promise<void> {
  await sql.insertRows('audit_log', [
    {
      seq,
      made_at: msOrNow(a.at),
      actor: a.actor,
      role: a.role,
      action: a.action,
      target_kind: a.target.kind,
      target_id: a.target.id,
      why: a.why,
      before: JSON.stringify(a.before ?? null),
      after: JSON.stringify(a.after ?? null),
    },
  ]);
}

export async function insertCaseDecision(sql: Sql, seq: number, d: NewCaseDecision): Promise<CaseDecision> {
  await sql.insertRows('case_decisions', [{ seq, target_kind: d.target.kind, target_id: d.target.id, kind: d.kind, decided_at: msOrNow(d.at), actor: d.actor, decision: JSON.stringify(d) }]);
  return { ...d, seq };
}

export async function selectCaseDecisions(sql: Sql): Promise<CaseDecision[]> {
  const r = await sql.rows<{ seq: number; decision: string }>('SELECT seq, decision FROM {db}.case_decisions FINAL ORDER BY seq');
  return r.map((row) => ({ ...(JSON.parse(row.decision) as NewCaseDecision), seq: Number(row.seq) }));
}

export async function selectAudit(sql: Sql, opts: { target?: DecisionTarget; limit: number; offset: number }): Promise<Page<AuditEntry>> {
  const where = opts.target ? 'WHERE target_kind = {k:String} AND target_id = {t:String}' : '';
  const params = opts.target ? { k: opts.target.kind, t: opts.target.id } : {};
  const total = await sql.rows<{ n: number }>(`SELECT count() AS n FROM {db}.audit_log FINAL ${where}`, params);
  const r = await sql.rows<{ seq: number; at: number; actor: string; role: string; action: string; target_kind: string; target_id: string; why: string; before: string | null; after: string | null }>(
    `SELECT seq, toUnixTimestamp64Milli(made_at) AS at, actor, role, action, target_kind, target_id, why, before, after FROM {db}.audit_log FINAL ${where} ORDER BY seq DESC LIMIT {limit:UInt64} OFFSET {offset:UInt64}`,
    { ...params, limit: opts.limit, offset: opts.offset },
  );
  return {
    total: Number(total[0]?.n ?? 0),
    items: r.map((row) => ({
      seq: Number(row.seq),
      at: iso(row.at),
      actor: row.actor,
      role: row.role,
      action: row.action,
      target: { kind: row.target_kind as DecisionTarget['kind'], id: row.target_id },
      why: row.why,
      before: row.before === null ? null : JSON.parse(row.before),
      after: row.after === null ? null : JSON.parse(row.after),
    })),
  };
}

export async function selectAccountExchanges(sql: Sql, accountId: string, opts: { limit: number; offset: number }): Promise<Page<ExchangePreview>> {
  const total = await sql.rows<{ n: number }>('SELECT count() AS n FROM {db}.exchanges FINAL WHERE account_id = {a:String}', { a: accountId });
  const r = await sql.rows<Omit<ExchangePreview, 'ts'> & { ts: number }>(
    `SELECT id, toUnixTimestamp64Milli(ts) AS ts, model, capability, elicitation, ip, user_agent, status, output_tokens, prompt_preview
     FROM (SELECT * FROM {db}.exchanges FINAL WHERE account_id = {a:String} ORDER BY ts DESC, id LIMIT {limit:UInt64} OFFSET {offset:UInt64})
     ORDER BY ts DESC, id`,
    { a: accountId, limit: opts.limit, offset: opts.offset },
  );
  return {
    total: Number(total[0]?.n ?? 0),
    items: r.map((row) => ({ ...row, ts: iso(row.ts), status: row.status === null ? null : Number(row.status), output_tokens: row.output_tokens === null ? null : Number(row.output_tokens) })),
  };
}

export async function selectHourlyActivity(sql: Sql, accountIds: readonly string[]): Promise<HourlyActivity[]> {
  if (accountIds.length === 0) return [];
  const r = await sql.rows<{ account_id: string; h: number; n: number }>(
    `SELECT account_id, toUnixTimestamp(toStartOfHour(ts)) AS h, count() AS n FROM {db}.exchanges FINAL
     WHERE account_id IN {ids:Array(String)} GROUP BY account_id, h ORDER BY h, account_id`,
    { ids: [...accountIds] },
  );
  return r.map((row) => ({ account_id: row.account_id, hour: iso(Number(row.h) * 1000), exchanges: Number(row.n) }));
}

export async function selectHourlyTotals(sql: Sql): Promise<HourlyTotal[]> {
  const r = await sql.rows<{ h: number; n: number }>('SELECT toUnixTimestamp(toStartOfHour(ts)) AS h, count() AS n FROM {db}.exchanges FINAL GROUP BY h ORDER BY h');
  return r.map((row) => ({ hour: iso(Number(row.h) * 1000), exchanges: Number(row.n) }));
}

export async function selectHourlyCapabilities(sql: Sql, accountIds: readonly string[]): Promise<HourlyCapability[]> {
  if (accountIds.length === 0) return [];
  const r = await sql.rows<{ h: number; capability: string; n: number; e: number }>(
    `SELECT toUnixTimestamp(toStartOfHour(ts)) AS h, capability, count() AS n, avg(elicitation) AS e FROM {db}.exchanges FINAL
     WHERE account_id IN {ids:Array(String)} GROUP BY h, capability ORDER BY h, capability`,
    { ids: [...accountIds] },
  );
  return r.map((row) => ({ hour: iso(Number(row.h) * 1000), capability: row.capability, exchanges: Number(row.n), elicitation: Number(row.e) }));
}

export async function selectIndicatorHolders(sql: Sql, kind: SearchKind, value: string, limit: number): Promise<IndicatorHolder[]> {
  const match = SEARCH_COLUMNS[kind].map((c) => `${c} = {v:String}`).join(' OR ');
  const r = await sql.rows<{ account_id: string; n: number; lo: number; hi: number }>(
    `SELECT account_id, count() AS n, toUnixTimestamp64Milli(min(ts)) AS lo, toUnixTimestamp64Milli(max(ts)) AS hi FROM {db}.exchanges FINAL
     WHERE ${match} GROUP BY account_id ORDER BY n DESC, account_id LIMIT {limit:UInt64}`,
    { v: value, limit },
  );
  return r.map((row) => ({ account_id: row.account_id, exchanges: Number(row.n), first_seen: iso(row.lo), last_seen: iso(row.hi) }));
}

export async function selectIndicatorHoldings(sql: Sql, accountIds: readonly string[], indicators: readonly { kind: SearchKind; value: string }[]): Promise<{ account_id: string; indicator: number }[]> {
  if (accountIds.length === 0 || indicators.length === 0) return [];
  // One pass over the accounts' exchanges answers for every indicator at once.
  const held = indicators.map((ind, i) => `countIf(${SEARCH_COLUMNS[ind.kind].map((c) => `${c} = {v${i}:String}`).join(' OR ')}) > 0 AS h${i}`);
  const params: Record<string, unknown> = { ids: [...accountIds] };
  indicators.forEach((ind, i) => (params[`v${i}`] = ind.value));
  const r = await sql.rows<Record<string, unknown>>(
    `SELECT account_id, ${held.join(', ')} FROM {db}.exchanges FINAL WHERE account_id IN {ids:Array(String)} GROUP BY account_id ORDER BY account_id`,
    params,
  );
  const out: { account_id: string; indicator: number }[] = [];
  for (const row of r) for (let i = 0; i < indicators.length; i++) if (row[`h${i}`] === true || row[`h${i}`] === 1) out.push({ account_id: String(row['account_id']), indicator: i });
  return out;
}

export async function accountExists(sql: Sql, accountId: string): Promise<boolean> {
  const r = await sql.rows<{ x: number }>('SELECT 1 AS x FROM {db}.exchanges WHERE account_id = {a:String} LIMIT 1', { a: accountId });
  return r.length > 0;
}

const ROLLUP_TABLES = ['rollup_meta', 'rollup_activity', 'rollup_capabilities', 'rollup_totals', 'rollup_graphs'] as const;

/**
 * Replaces the rollup. ClickHouse has no transaction across tables, so the old rollup's meta row
 * goes first (readers then see none) and the new one's last (readers see it only once whole).
 */
export async function replaceRollup(sql: Sql, input: RollupInput): Promise<void> {
  for (const t of ROLLUP_TABLES) await sql.run(`TRUNCATE TABLE {db}.${t}`);
  const members = input.campaigns.flatMap((c) => c.members.map((m) => [c.id, m.account_id, m.verdict] as const));
  const g = input.generatedAt;
  if (members.length > 0) {
    // The members as a table from three bound arrays, joined to their exchanges in ClickHouse.
    const memberTable = `(SELECT t.1 AS campaign_id, t.2 AS account_id, t.3 AS verdict
       FROM (SELECT arrayJoin(arrayZip({c:Array(String)}, {a:Array(String)}, {v:Array(String)})) AS t))`;
    const params = { g, c: members.map((m) => m[0]), a: members.map((m) => m[1]), v: members.map((m) => m[2]) };
    await sql.run(
      `INSERT INTO {db}.rollup_activity
       SELECT {g:String}, m.campaign_id, toUnixTimestamp(toStartOfHour(e.ts)) AS h, m.verdict, count(), uniqExact(e.account_id)
       FROM {db}.exchanges AS e FINAL INNER JOIN ${memberTable} AS m ON e.account_id = m.account_id
       GROUP BY m.campaign_id, h, m.verdict`,
      params,
    );
    await sql.run(
      `INSERT INTO {db}.rollup_capabilities
       SELECT {g:String}, m.campaign_id, toUnixTimestamp(toStartOfHour(e.ts)) AS h, e.capability, count(), sum(e.elicitation)
       FROM {db}.exchanges AS e FINAL INNER JOIN ${memberTable} AS m ON e.account_id = m.account_id
       GROUP BY m.campaign_id, h, e.capability`,
      params,
    );
  }
  await sql.run(
    `INSERT INTO {db}.rollup_totals SELECT {g:String}, toUnixTimestamp(toStartOfHour(ts)) AS h, count() FROM {db}.exchanges FINAL GROUP BY h`,
    { g },
  );
  await sql.insertRows('rollup_graphs', input.graphs.map((x) => ({ generated_at: g, campaign_id: x.campaign_id, graph: JSON.stringify(x.graph) })));
  await sql.insertRows('rollup_meta', [{ generated_at: g }]);
}

/** Whether the rollup was made for the report `generatedAt` names. */
async function rollupIsFor(sql: Sql, generatedAt: string): Promise<boolean> {
  const r = await sql.rows<{ n: number | string }>('SELECT count() AS n FROM {db}.rollup_meta WHERE generated_at = {g:String}', { g: generatedAt });
  return Number(r[0]?.n ?? 0) > 0;
}

export async function selectRolledTimeline(sql: Sql, generatedAt: string, campaignId: string): Promise<RolledTimeline | null> {
  if (!(await rollupIsFor(sql, generatedAt))) return null;
  const p = { g: generatedAt, c: campaignId };
  const a = await sql.rows<{ h: number | string; verdict: string; exchanges: number | string; accounts: number | string }>(
    'SELECT h, verdict, exchanges, accounts FROM {db}.rollup_activity WHERE generated_at = {g:String} AND campaign_id = {c:String} ORDER BY h, verdict',
    p,
  );
  const c = await sql.rows<{ h: number | string; capability: string; exchanges: number | string; e: number }>(
    'SELECT h, capability, exchanges, elicitation_sum / exchanges AS e FROM {db}.rollup_capabilities WHERE generated_at = {g:String} AND campaign_id = {c:String} ORDER BY h, capability',
    p,
  );
  return {
    activity: a.map((row) => ({ hour: iso(Number(row.h) * 1000), verdict: row.verdict as HourlyVerdictActivity['verdict'], exchanges: Number(row.exchanges), accounts: Number(row.accounts) })),
    capabilities: c.map((row) => ({ hour: iso(Number(row.h) * 1000), capability: row.capability, exchanges: Number(row.exchanges), elicitation: Number(row.e) })),
  };
}

export async function selectRolledTotals(sql: Sql, generatedAt: string): Promise<HourlyTotal[] | null> {
  if (!(await rollupIsFor(sql, generatedAt))) return null;
  const r = await sql.rows<{ h: number | string; exchanges: number | string }>('SELECT h, exchanges FROM {db}.rollup_totals WHERE generated_at = {g:String} ORDER BY h', { g: generatedAt });
  return r.map((row) => ({ hour: iso(Number(row.h) * 1000), exchanges: Number(row.exchanges) }));
}

export async function selectRolledGraph(sql: Sql, generatedAt: string, campaignId: string): Promise<unknown | null> {
  if (!(await rollupIsFor(sql, generatedAt))) return null;
  const r = await sql.rows<{ graph: string }>('SELECT graph FROM {db}.rollup_graphs WHERE generated_at = {g:String} AND campaign_id = {c:String}', { g: generatedAt, c: campaignId });
  return r[0] === undefined ? null : (JSON.parse(r[0].graph) as unknown);
}
