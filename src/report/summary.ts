/**
 * The readable summary printed after a scan: campaigns first, then the riskiest accounts.
 */
import type { DecisionNote, ScanReport } from '../core/report.js';

const KIND_NAMES: Record<string, string> = { payment: 'payment method', harness: 'client harness', system: 'system prompt', template: 'prompt template' };

/**
 * The ties of common control a person can check, e.g. "system prompt 0ba9097f, shared by 20
 * accounts": hashes cut to 8 characters (report.json keeps them whole), each with its reach.
 */
function readableControlTies(c: ScanReport['campaigns'][number]): string[] {
  if (c.shared_indicators) {
    return c.shared_indicators
      .filter((i) => i.kind in KIND_NAMES)
      .slice(0, 4)
      .map((i) => `${KIND_NAMES[i.kind]} ${i.value.slice(0, 8)}, shared by ${i.accounts} accounts`);
  }
  const ind = c.indicators;
  return [
    ind.payment_fingerprints.length ? `payment ${ind.payment_fingerprints.slice(0, 3).join(', ')}` : '',
    ind.harnesses.length ? `harness ${ind.harnesses.slice(0, 2).join(', ')}` : '',
    ind.templates.length ? `templates ${ind.templates.slice(0, 2).join(', ')}` : '',
  ];
}

function describeDecision(d: DecisionNote): string {
  const what = d.kind === 'dismiss' ? `dismissed (${d.reason})` : d.kind === 'snooze' ? `snoozed until ${d.until}` : `${d.kind === 'confirm' ? 'confirmed' : d.kind === 'allowlist' ? 'allowlisted' : 'blocked'}`;
  return `${what} by ${d.actor} on ${d.at}${d.on === 'campaign' ? ' (campaign)' : ''}`;
}

export function formatSummary(r: ScanReport, opts: { maxAccounts?: number; color?: boolean } = {}): string {
  const bold = (s: string): string => (opts.color ? `\x1b[1m${s}\x1b[0m` : s);
  const lines: string[] = [];
  const flagged = r.accounts.filter((a) => a.verdict === 'distillation').length;
  const suspicious = r.accounts.filter((a) => a.verdict === 'suspicious').length;
  lines.push(bold('DistillWatch scan'));
  lines.push(
    `  ${r.input.exchanges} exchanges from ${r.input.accounts} accounts, ${r.input.bad_records} bad records set aside`,
  );
  const sources = r.input.sources ?? [];
  const shown = sources.slice(0, 10).map((s) => `${s.path} (${s.lines} lines${s.complete ? '' : ', partly read'}${s.this_scan ? '' : ', earlier scan'})`);
  if (sources.length > shown.length) shown.push(`and ${sources.length - shown.length} more (report.json lists them)`);
  if (shown.length) lines.push(`  inputs: ${shown.join(', ')}`);
  lines.push(`  ${r.campaigns.length} campaigns, ${flagged} accounts flagged for action, ${suspicious} for review`);
  lines.push('');
  if (r.campaigns.length === 0) lines.push('No campaigns found.');
  for (const c of r.campaigns) {
    lines.push(bold(`Campaign ${c.id}`) + `  confidence now ${c.confidence.toFixed(2)}`);
    if (c.decision) lines.push(`  decision     ${describeDecision(c.decision)}`);
    if (c.successor_of) lines.push(`  successor of ${c.successor_of.campaign_id} (confirmed): shares ${c.successor_of.marks.length} of its harness marks`);
    lines.push(`  accounts     ${c.accounts.length}   exchanges ${c.exchanges}`);
    lines.push(`  active       ${c.first_seen} → ${c.last_seen}`);
    if (c.first_flagged_at) lines.push(`  flagged at   ${c.first_flagged_at}`);
    const caps = Object.entries(c.capabilities)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${Math.round(v * 100)}%`)
      .join(', ');
    lines.push(`  capabilities ${caps}`);
    lines.push(`  tactics      ${c.tactics.join(', ') || '-'}`);
    const ind = c.indicators;
    const top = [
      ind.ips.length ? `IPs ${ind.ips.slice(0, 3).join(', ')}${ind.ips.length > 3 ? ', …' : ''}` : '',
      ind.asns.length ? `ASNs ${ind.asns.slice(0, 3).join(', ')}${ind.asns.length > 3 ? ', …' : ''}` : '',
      ...readableControlTies(c),
    ].filter(Boolean);
    lines.push(`  indicators   ${top.join('; ') || '-'}`);
    lines.push(`  why          ${c.explanation}`);
    lines.push('');
  }
  const max = opts.maxAccounts ?? 10;
  const risky = r.accounts.slice(0, max);
  if (risky.length) {
    lines.push(bold('Riskiest accounts'));
    for (const a of risky) {
      lines.push(`  ${a.account_id}  ${a.verdict}  risk ${a.risk.toFixed(2)}${a.campaign_id ? `  ${a.campaign_id}` : ''}${a.decision ? `  [${describeDecision(a.decision)}]` : ''}`);
      for (const reason of a.reasons.slice(0, 3)) lines.push(`      - ${reason}`);
    }
  }
  while (lines.at(-1) === '') lines.pop();
  return lines.join('\n');
}
