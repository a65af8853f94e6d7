/**
 * From the engine's state to report.json (the contract in EXCHANGE.md, plus extra fields).
 */
import type { AccountReport, CampaignReport, Indicators, ScanReport } from '../core/report.js';
import type { CampaignView, DetectionEngine } from '../detect/engine.js';
import { describe as describeFinding } from '../detect/findings.js';
import { kindOf } from '../link/indicators.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const MAX_INDICATORS = 20;

function indicatorsOf(c: CampaignView): Indicators {
  const out: Indicators = {
    ips: [],
    asns: c.asns.map(([asn]) => asn),
    payment_fingerprints: [],
    templates: [],
    user_agents: c.userAgents.map(([ua]) => ua),
    harnesses: [],
    subnets: [],
  };
  // Most-shared first: the indicators worth blocking or sharing with other providers.
  const ranked = [...c.indicators].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  for (const [key] of ranked) {
    const value = key.slice(key.indexOf(':') + 1);
    const list: string[] | null =
      kindOf(key) === 'ip' ? out.ips
      : kindOf(key) === 'payment' ? out.payment_fingerprints
      : kindOf(key) === 'template' ? out.templates
      : kindOf(key) === 'harness' || kindOf(key) === 'system' ? out.harnesses
      : kindOf(key) === 'subnet' ? out.subnets
      : null;
    if (list && list.length < MAX_INDICATORS) list.push(kindOf(key) === 'system' ? 'system:' + value : value);
  }
  return out;
}

/** The indicators members share, most shared first, with how many members hold each. */
function sharedIndicators(c: CampaignView): NonNullable<CampaignReport['shared_indicators']> {
  return [...c.indicators]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, MAX_INDICATORS)
    .map(([key, accounts]) => ({ kind: kindOf(key), value: key.slice(key.indexOf(':') + 1), accounts }));
}

function explain(c: CampaignView, accounts: number): string {
  const s = c.score;
  const top = [...s.findings].sort((a, b) => b.weight * b.strength - a.weight * a.strength).slice(0, 4);
  const caps = Object.entries(s.capabilities)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([k, v]) => `${k} ${Math.round(v * 100)}%`)
    .join(', ');
  const links = Object.entries(s.links)
    .sort((a, b) => b[1] - a[1])
    .map(([k]) => k)
    .join(', ');
  return (
    `${accounts} accounts linked by shared ${links || 'indicators'} made ${s.exchanges} exchanges ` +
    `between ${iso(s.firstSeen).slice(0, 16)}Z and ${iso(s.lastSeen).slice(0, 16)}Z, targeting ${caps || 'mixed capabilities'}. ` +
    `Evidence: ${top.map((f) => f.detail).join('; ')}. ` +
    (c.replacementAccounts > 0 ? `${c.replacementAccounts} accounts that first appeared after the flag, as most earlier members went quiet, reuse its harness (a replacement pool). ` : '') +
    `First flagged at ${iso(c.firstFlaggedAt)}; confidence now ${s.confidence.toFixed(2)}.`
  );
}

/**
 * An account's reasons with its campaign's findings as the report's campaign states them:
 * the engine's verdict quotes the campaign's last linking run, whose group may have held a
 * bystander that is no member, while the report scores the members at the end of the data.
 */
function currentReasons(reasons: readonly string[], c: CampaignView | undefined): string[] {
  if (!c) return [...reasons];
  const prefix = `campaign ${c.id} now: `;
  const at = reasons.findIndex((r) => r.startsWith(prefix));
  const rest = reasons.filter((r) => !r.startsWith(prefix));
  const current = [...c.score.findings]
    .sort((a, b) => b.weight * b.strength - a.weight * a.strength)
    .slice(0, 3)
    .map((f) => prefix + describeFinding(f));
  const where = at < 0 ? Math.min(1, rest.length) : at;
  return [...rest.slice(0, where), ...current, ...rest.slice(where)];
}

export function buildReport(engine: DetectionEngine, input: ScanReport['input'], now = new Date()): ScanReport {
  const views = engine.campaignList();
  const viewOf = new Map(views.map((c) => [c.id, c]));
  const campaigns: CampaignReport[] = views.map((c) => {
    const members = engine.membersOfCampaign(c.id);
    return {
      id: c.id,
      confidence: Math.round(c.score.confidence * 1000) / 1000,
      accounts: members,
      exchanges: c.score.exchanges,
      first_seen: iso(c.score.firstSeen),
      last_seen: iso(c.score.lastSeen),
      first_flagged_at: iso(c.firstFlaggedAt),
      capabilities: c.score.capabilities,
      tactics: c.score.tactics,
      indicators: indicatorsOf(c),
      shared_indicators: sharedIndicators(c),
      explanation: explain(c, members.length),
      links: c.score.links,
      findings: c.score.findings.map(describeFinding),
      ...(c.intelBundles.length > 0 ? { intel_bundles: c.intelBundles.map((b) => ({ bundle_id: b.bundleId, producer: b.producer, accounts: b.accounts })) } : {}),
    } as CampaignReport;
  });
  const accounts: AccountReport[] = engine.verdicts().map((v) => {
    const a: AccountReport = {
      account_id: v.accountId,
      risk: Math.round(v.risk * 1000) / 1000,
      verdict: v.verdict,
      reasons: currentReasons(v.reasons, v.campaignId ? viewOf.get(v.campaignId) : undefined),
      exchanges: v.exchanges,
    };
    if (v.campaignId) a.campaign_id = v.campaignId;
    if (v.flaggedAt !== null) a.first_flagged_at = iso(v.flaggedAt);
    return a;
  });
  return {
    generated_at: now.toISOString(),
    input,
    campaigns,
    accounts,
    engine: { version: '1', params: { ...engine.params } },
  };
}
