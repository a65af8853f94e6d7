/**
 * The DuckDB side of `CaseworkStore`: its tables and queries, given the store's connection.
 * Kept apart from store.ts, which is about ingest and scan results.
 */
import { listValue, type DuckDBConnection } from '@duckdb/node-api';
import { previewOf } from './previews.js';
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
  RollupInput,
  RolledTimeline,
  SearchKind,
} from '../casework.js';

export const CASEWORK_DDL = `
CREATE SEQUENCE IF NOT EXISTS case_decision_seq;
CREATE TABLE IF NOT EXISTS case_decisions (
  seq BIGINT PRIMARY KEY DEFAULT nextval('case_decision_seq'),
  target_kind VARCHAR NOT NULL,
  target_id VARCHAR NOT NULL,
  kind VARCHAR NOT NULL,
  decided_at TIMESTAMPTZ NOT NULL,
  actor VARCHAR NOT NULL,
  decision JSON NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS audit_seq;
CREATE TABLE IF NOT EXISTS audit_log (
  seq BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
  made_at TIMESTAMPTZ NOT NULL,
  actor VARCHAR NOT NULL,
  role VARCHAR NOT NULL,
  action VARCHAR NOT NULL,
  target_kind VARCHAR NOT NULL,
  target_id VARCHAR NOT NULL,
  why VARCHAR NOT NULL,
  before JSON,
  after JSON
);
CREATE TABLE IF NOT EXISTS rollup_meta (generated_at VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS rollup_activity (
  campaign_id VARCHAR NOT NULL,
  h BIGINT NOT NULL,
  verdict VARCHAR NOT NULL,
  exchanges BIGINT NOT NULL,
  accounts BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS rollup_capabilities (
  campaign_id VARCHAR NOT NULL,
  h BIGINT NOT NULL,
  capability VARCHAR NOT NULL,
  exchanges BIGINT NOT NULL,
  elicitation_sum DOUBLE NOT NULL
);
CREATE TABLE IF NOT EXISTS rollup_totals (h BIGINT NOT NULL, exchanges BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS rollup_graphs (campaign_id VARCHAR NOT NULL, graph JSON NOT NULL);
`;

const ISO = (col: string) => `strftime(${col} AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`;
const tsIso = (col: string) => `strftime(to_timestamp(${col} / 1000.0) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.%gZ')`;

/** The exchange columns each searchable indicator kind is matched against. */
const SEARCH_COLUMNS: Record<SearchKind, readonly string[]> = {
  ip: ['ip'],
  subnet: ['subnet'],
  asn: ['CAST(asn AS VARCHAR)'],
  payment: ['payment_fp'],
  user_agent: ['user_agent'],
  harness: ['harness_sig'],
  system: ['system_sig'],
  template: ['template_prefix', 'template_suffix'],
};

export async function insertCaseDecision(conn: DuckDBConnection, d: NewCaseDecision, audit: NewAuditEntry): Promise<CaseDecision> {
  await conn.run('BEGIN TRANSACTION');
  try {
    const r = await conn.runAndReadAll(
      'INSERT INTO case_decisions (target_kind, target_id, kind, decided_at, actor, decision) VALUES ($1, $2, $3, $4::TIMESTAMPTZ, $5, $6::JSON) RETURNING seq',
      [d.target.kind, d.target.id, d.kind, d.at, d.actor, JSON.stringify(d)],
    );
    await insertAudit(conn, audit);
    await conn.run('COMMIT');
    return { ...d, seq: Number(r.getRows()[0]![0]) };
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

export async function insertAudit(conn: DuckDBConnection, a: NewAuditEntry): Promise<void> {
  await conn.run(
    'INSERT INTO audit_log (made_at, actor, role, action, target_kind, target_id, why, before, after) VALUES ($1::TIMESTAMPTZ, $2, $3, $4, $5, $6, $7, $8::JSON, $9::JSON)',
    [a.at, a.actor, a.role, a.action, a.target.kind, a.target.id, a.why, JSON.stringify(a.before ?? null), JSON.stringify(a.after ?? null)],
  );
}

export async function selectCaseDecisions(conn: DuckDBConnection): Promise<CaseDecision[]> {
  const r = await conn.runAndReadAll('SELECT seq, decision::VARCHAR FROM case_decisions ORDER BY seq');
  return r.getRows().map((row) => ({ ...(JSON.parse(String(row[1])) as NewCaseDecision), seq: Number(row[0]) }));
}

export async function selectAudit(conn: DuckDBConnection, opts: { target?: DecisionTarget; limit: number; offset: number }): Promise<Page<AuditEntry>> {
  const where = opts.target ? 'WHERE target_kind = $1 AND target_id = $2' : '';
  const params = opts.target ? [opts.target.kind, opts.target.id] : [];
  const total = await conn.runAndReadAll(`SELECT count(*) FROM audit_log ${where}`, params);
  const n = params.length;
  const r = await conn.runAndReadAll(
    `SELECT seq, ${ISO('made_at')}, actor, role, action, target_kind, target_id, why, before::VARCHAR, after::VARCHAR FROM audit_log ${where} ORDER BY seq DESC LIMIT $${n + 1} OFFSET $${n + 2}`,
    [...params, opts.limit, opts.offset],
  );
  return {
    total: Number(total.getRows()[0]![0]),
    items: r.getRows().map((row) => ({
      seq: Number(row[0]),
      at: String(row[1]),
      actor: String(row[2]),
      role: String(row[3]),
      action: String(row[4]),
      target: { kind: String(row[5]) as DecisionTarget['kind'], id: String(row[6]) },
      why: String(row[7]),
      before: row[8] === null ? null : JSON.parse(String(row[8])),
      after: row[9] === null ? null : JSON.parse(String(row[9])),
    })),
  };
}

export async function selectAccountExchanges(conn: DuckDBConnection, accountId: string, opts: { limit: number; offset: number }, previewsApart: boolean): Promise<Page<ExchangePreview>> {
  const total = await conn.runAndReadAll('SELECT count(*) FROM exchanges WHERE account_id = $1', [accountId]);
  // The page first, then its previews: the lookup runs for the page's rows only.
  const r = await conn.runAndReadAll(
    `SELECT id, ${tsIso('ts')}, model, capability, elicitation, ip, user_agent, status, output_tokens, ${previewOf('e', previewsApart)}
     FROM (SELECT * FROM exchanges WHERE account_id = $1 ORDER BY ts DESC, id LIMIT $2 OFFSET $3) e ORDER BY e.ts DESC, e.id`,
    [accountId, opts.limit, opts.offset],
  );
  const num = (v: unknown) => (v === null ? null : Number(v));
  const str = (v: unknown) => (v === null ? null : String(v));
  return {
    total: Number(total.getRows()[0]![0]),
    items: r.getRows().map((row) => ({
      id: String(row[0]),
      ts: String(row[1]),
      model: String(row[2]),
      capability: String(row[3]),
      elicitation: Number(row[4]),
      ip: str(row[5]),
      user_agent: str(row[6]),
      status: num(row[7]),
      output_tokens: num(row[8]),
      prompt_preview: str(row[9]),
    })),
  };
}

export async function selectHourlyActivity(conn: DuckDBConnection, accountIds: readonly string[]): Promise<HourlyActivity[]> {
  if (accountIds.length === 0) return [];
  const r = await conn.runAndReadAll(
    `SELECT account_id, ${ISO("date_trunc('hour', to_timestamp(ts / 1000.0))")} AS hour, count(*)
     FROM exchanges WHERE account_id IN (SELECT unnest($1::VARCHAR[])) GROUP BY account_id, hour ORDER BY hour, account_id`,
    [listValue([...accountIds])],
  );
  return r.getRows().map((row) => ({ account_id: String(row[0]), hour: String(row[1]), exchanges: Number(row[2]) }));
}

export async function selectHourlyTotals(conn: DuckDBConnection): Promise<HourlyTotal[]> {
  // Grouped on the integer hour first and formatted after: formatting a million timestamps costs more than counting them.
  const r = await conn.runAndReadAll(
    `SELECT ${ISO('to_timestamp(h * 3600)')}, n FROM (SELECT (ts // 3600000) AS h, count(*) AS n FROM exchanges GROUP BY h) ORDER BY h`,
  );
  return r.getRows().map((row) => ({ hour: String(row[0]), exchanges: Number(row[1]) }));
}

export async function selectHourlyCapabilities(conn: DuckDBConnection, accountIds: readonly string[]): Promise<HourlyCapability[]> {
  if (accountIds.length === 0) return [];
  const r = await conn.runAndReadAll(
    `SELECT ${ISO('to_timestamp(h * 3600)')}, capability, n, e FROM (
       SELECT (ts // 3600000) AS h, capability, count(*) AS n, avg(elicitation) AS e
       FROM exchanges WHERE account_id IN (SELECT unnest($1::VARCHAR[])) GROUP BY h, capability)
     ORDER BY h, capability`,
    [listValue([...accountIds])],
  );
  return r.getRows().map((row) => ({ hour: String(row[0]), capability: String(row[1]), exchanges: Number(row[2]), elicitation: Number(row[3]) }));
}

export async function selectIndicatorHolders(conn: DuckDBConnection, kind: SearchKind, value: string, limit: number): Promise<IndicatorHolder[]> {
  const match = SEARCH_COLUMNS[kind].map((c) => `${c} = $1`).join(' OR ');
  const r = await conn.runAndReadAll(
    `SELECT account_id, count(*) AS n, ${tsIso('min(ts)')}, ${tsIso('max(ts)')} FROM exchanges WHERE ${match} GROUP BY account_id ORDER BY n DESC, account_id LIMIT $2`,
    [value, limit],
  );
  return r.getRows().map((row) => ({ account_id: String(row[0]), exchanges: Number(row[1]), first_seen: String(row[2]), last_seen: String(row[3]) }));
}

export async function selectIndicatorHoldings(conn: DuckDBConnection, accountIds: readonly string[], indicators: readonly { kind: SearchKind; value: string }[]): Promise<{ account_id: string; indicator: number }[]> {
  if (accountIds.length === 0 || indicators.length === 0) return [];
  // One pass over the accounts' exchanges answers for every indicator at once.
  const held = indicators.map((ind, i) => `bool_or(${SEARCH_COLUMNS[ind.kind].map((c) => `${c} = $${i + 2}`).join(' OR ')})`);
  const r = await conn.runAndReadAll(
    `SELECT account_id, ${held.join(', ')} FROM exchanges WHERE account_id IN (SELECT unnest($1::VARCHAR[])) GROUP BY account_id ORDER BY account_id`,
    [listValue([...accountIds]), ...indicators.map((i) => i.value)],
  );
  const out: { account_id: string; indicator: number }[] = [];
  for (const row of r.getRows()) for (let i = 0; i < indicators.length; i++) if (row[i + 1] === true) out.push({ account_id: String(row[0]), indicator: i });
  return out;
}

export async function accountExists(conn: DuckDBConnection, accountId: string): Promise<boolean> {
  const r = await conn.runAndReadAll('SELECT 1 FROM exchanges WHERE account_id = $1 LIMIT 1', [accountId]);
  return r.getRows().length > 0;
}

/**
 * Replaces the rollup with one for the report `input.generatedAt` names: each campaign
 * member's exchanges per hour and capability, the store's exchanges per hour, and each
 * campaign's graph as given. One transaction: a reader sees the old rollup or the new one.
 */
export async function replaceRollup(conn: DuckDBConnection, input: RollupInput): Promise<void> {
  const members = input.campaigns.flatMap((c) => c.members.map((m) => [c.id, m.account_id, m.verdict] as const));
  await conn.run('BEGIN TRANSACTION');
  try {
    for (const t of ['rollup_meta', 'rollup_activity', 'rollup_capabilities', 'rollup_totals', 'rollup_graphs']) await conn.run(`DELETE FROM ${t}`);
    if (members.length > 0) {
      // One pass over the members' exchanges, per member, hour and capability; both tables are sums of it.
      await conn.run(
        `CREATE OR REPLACE TEMP TABLE rollup_members AS
         SELECT m.campaign_id, e.account_id, m.verdict, e.ts // 3600000 AS h, e.capability, count(*) AS n, sum(e.elicitation) AS e
         FROM exchanges e JOIN (SELECT unnest($1::VARCHAR[]) AS campaign_id, unnest($2::VARCHAR[]) AS account_id, unnest($3::VARCHAR[]) AS verdict) m ON e.account_id = m.account_id
         GROUP BY ALL`,
        [listValue(members.map((m) => m[0])), listValue(members.map((m) => m[1])), listValue(members.map((m) => m[2]))],
      );
      await conn.run('INSERT INTO rollup_activity SELECT campaign_id, h, verdict, sum(n), count(DISTINCT account_id) FROM rollup_members GROUP BY ALL');
      await conn.run('INSERT INTO rollup_capabilities SELECT campaign_id, h, capability, sum(n), sum(e) FROM rollup_members GROUP BY ALL');
      await conn.run('DROP TABLE rollup_members');
    }
    await conn.run('INSERT INTO rollup_totals SELECT ts // 3600000, count(*) FROM exchanges GROUP BY 1');
    for (const g of input.graphs) await conn.run('INSERT INTO rollup_graphs VALUES ($1, $2::JSON)', [g.campaign_id, JSON.stringify(g.graph)]);
    await conn.run('INSERT INTO rollup_meta VALUES ($1)', [input.generatedAt]);
    await conn.run('COMMIT');
  } catch (e) {
    await conn.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Whether the rollup was made for the report `generatedAt` names (a store from before rollups has none). */
async function rollupIsFor(conn: DuckDBConnection, generatedAt: string): Promise<boolean> {
  try {
    const r = await conn.runAndReadAll('SELECT generated_at FROM rollup_meta');
    return r.getRows().length === 1 && String(r.getRows()[0]![0]) === generatedAt;
  } catch {
    // A store opened read-only that predates the rollup tables.
    return false;
  }
}

export async function selectRolledTimeline(conn: DuckDBConnection, generatedAt: string, campaignId: string): Promise<RolledTimeline | null> {
  if (!(await rollupIsFor(conn, generatedAt))) return null;
  const a = await conn.runAndReadAll(
    `SELECT ${ISO('to_timestamp(h * 3600)')}, verdict, exchanges, accounts FROM rollup_activity WHERE campaign_id = $1 ORDER BY h, verdict`,
    [campaignId],
  );
  const c = await conn.runAndReadAll(
    `SELECT ${ISO('to_timestamp(h * 3600)')}, capability, exchanges, elicitation_sum / exchanges FROM rollup_capabilities WHERE campaign_id = $1 ORDER BY h, capability`,
    [campaignId],
  );
  return {
    activity: a.getRows().map((row) => ({ hour: String(row[0]), verdict: String(row[1]) as HourlyVerdictActivity['verdict'], exchanges: Number(row[2]), accounts: Number(row[3]) })),
    capabilities: c.getRows().map((row) => ({ hour: String(row[0]), capability: String(row[1]), exchanges: Number(row[2]), elicitation: Number(row[3]) })),
  };
}

export async function selectRolledTotals(conn: DuckDBConnection, generatedAt: string): Promise<HourlyTotal[] | null> {
  if (!(await rollupIsFor(conn, generatedAt))) return null;
  const r = await conn.runAndReadAll(`SELECT ${ISO('to_timestamp(h * 3600)')}, exchanges FROM rollup_totals ORDER BY h`);
  return r.getRows().map((row) => ({ hour: String(row[0]), exchanges: Number(row[1]) }));
}

export async function selectRolledGraph(conn: DuckDBConnection, generatedAt: string, campaignId: string): Promise<unknown | null> {
  if (!(await rollupIsFor(conn, generatedAt))) return null;
  const r = await conn.runAndReadAll('SELECT graph::VARCHAR FROM rollup_graphs WHERE campaign_id = $1', [campaignId]);
  const row = r.getRows()[0];
  return row === undefined ? null : (JSON.parse(String(row[0])) as unknown);
}
