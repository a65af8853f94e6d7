/**
 * `distillwatch prove`: the watermark test on a suspect model's answers, and (`--probes`)
 * the prompts to ask it, from a campaign's prompt families in the store.
 */
import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { readMasterKey } from '../watermark/keys.js';
import { prove, type ProveResult } from '../watermark/prove.js';
import { proposeProbes, type Probe } from '../watermark/probes.js';
import { UserError } from './errors.js';
import { openCommandStore, STORE_OPTION_HELP, storeName, storeUrlOf } from './store-option.js';

/** The texts of a JSONL file of `{"text": ...}` lines; any other line is an error naming it. */
export function readTexts(path: string): string[] {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UserError(`Cannot read the texts "${path}": ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  const texts: string[] = [];
  for (const [i, line] of raw.split('\n').entries()) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new UserError(`Cannot parse line ${i + 1} of "${path}": it is not JSON`);
    }
    const text = (v as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') throw new UserError(`Cannot read line ${i + 1} of "${path}": "text" is missing or not a string`);
    texts.push(text);
  }
  if (texts.length === 0) throw new UserError(`Cannot test "${path}": it holds no texts`);
  return texts;
}

function fmtP(p: number): string {
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

export function formatProve(r: ProveResult): string {
  const lines = [`Watermark test over ${r.texts} texts: ${r.scored} de-duplicated contexts scored (${r.occurrences} lexicon words read)`, ''];
  const w = Math.max(3, ...r.keys.map((k) => k.name.length));
  lines.push(`${'key'.padEnd(w)}  scored  matches  p-value`);
  for (const k of r.keys) lines.push(`${k.name.padEnd(w)}  ${String(k.scored).padStart(6)}  ${String(k.matches).padStart(7)}  ${fmtP(k.pValue)}`);
  lines.push('');
  lines.push(`p = ${fmtP(r.pValue)} (one-sided; ${r.correction}), smallest for the ${r.best.name} key`);
  return lines.join('\n');
}

function campaignList(v: string): string[] {
  return v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

async function campaignsInStore(db: string): Promise<string[]> {
  const store = await openCommandStore(db, { readOnly: true });
  try {
    const report = await store.latestReport();
    if (!report) throw new UserError(`No report in the store "${storeName(db)}": no scan has finished into it`);
    return report.campaigns.map((c) => c.id);
  } finally {
    await store.close();
  }
}

async function probesFromStore(db: string, only: string[] | undefined, perFamily: number, maxFamilies: number): Promise<Probe[]> {
  const store = await openCommandStore(db, { readOnly: true });
  try {
    const report = await store.latestReport();
    if (!report) throw new UserError(`No report in the store "${storeName(db)}": no scan has finished into it`);
    const campaigns = only ? report.campaigns.filter((c) => only.includes(c.id)) : report.campaigns;
    const unknown = (only ?? []).filter((id) => !report.campaigns.some((c) => c.id === id));
    if (unknown.length > 0) throw new UserError(`Cannot propose probes: no campaign "${unknown[0]}" in the store "${storeName(db)}"`);
    if (campaigns.length === 0) throw new UserError(`Cannot propose probes: the store "${storeName(db)}" has no flagged campaign`);
    const member = new Map<string, string>();
    for (const c of campaigns) for (const a of c.accounts) member.set(a, c.id);
    const rows = new Map<string, import('../core/features.js').ExchangeFeatures[]>();
    let previews = 0;
    for await (const batch of store.replay()) {
      for (const r of batch) {
        const c = member.get(r.account_id);
        if (c === undefined) continue;
        if (r.prompt_preview !== null) previews++;
        let list = rows.get(c);
        if (!list) rows.set(c, (list = []));
        list.push(r);
      }
    }
    if (previews === 0) throw new UserError(`Cannot propose probes: the store "${storeName(db)}" kept no prompt text for these campaigns (scan with --prompt-preview above 0)`);
    return campaigns.flatMap((c) => proposeProbes(c.id, rows.get(c.id) ?? [], { perFamily, maxFamilies }));
  } finally {
    await store.close();
  }
}

function count(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive whole number, got "${v}"`);
    return n;
  };
}

export function registerProveCommand(program: Command): void {
  program
    .command('prove')
    .description("Test a suspect model's answers for the output watermark, or (--probes) propose the prompts to ask it")
    .option('--key-file <file>', 'the watermark master key (the gateway config\'s watermark.keyFile)')
    .option('--texts <file>', 'the suspect model\'s answers: JSONL, one {"text": ...} a line')
    .option('--campaigns <ids>', 'campaigns whose keys to try too, comma-separated (default: those of the latest scan in --db, if given)', campaignList)
    .option('--db <file>', 'store: the campaigns to try, and the prompt families for --probes')
    .option('--store <url>', `the same store by URL: ${STORE_OPTION_HELP}`)
    .option('--json', 'print one JSON object (p_value, scored, ...)')
    .option('--probes', 'print probe prompts (JSONL) from the campaigns\' prompt families in --db instead of testing')
    .option('--per-family <n>', 'probe prompts per prompt family', count('--per-family'), 3)
    .option('--families <n>', 'prompt families per campaign, largest first', count('--families'), 50)
    .action(async (o) => {
      const storeUrl = storeUrlOf(o);
      if (o.probes) {
        if (!storeUrl) throw new UserError('prove --probes needs --db or --store: the store whose campaigns to probe for');
        const probes = await probesFromStore(storeUrl, o.campaigns, o.perFamily, o.families);
        process.stdout.write(probes.map((p) => JSON.stringify(p)).join('\n') + '\n');
        return;
      }
      if (!o.keyFile) throw new UserError('prove needs --key-file: the watermark master key');
      if (!o.texts) throw new UserError('prove needs --texts: the suspect model\'s answers (JSONL)');
      const master = readMasterKey(o.keyFile);
      if (!master.ok) throw new UserError(master.error);
      const texts = readTexts(o.texts);
      const campaigns: string[] = o.campaigns ?? (storeUrl ? await campaignsInStore(storeUrl) : []);
      const r = prove(master.value, texts, campaigns);
      if (o.json) {
        const out = {
          p_value: r.pValue,
          scored: r.scored,
          texts: r.texts,
          occurrences: r.occurrences,
          correction: r.correction,
          best_key: r.best.name,
          keys: r.keys.map((k) => ({ key: k.name, scored: k.scored, matches: k.matches, p_value: k.pValue })),
        };
        process.stdout.write(JSON.stringify(out) + '\n');
      } else {
        process.stdout.write(formatProve(r) + '\n');
      }
    });
}
