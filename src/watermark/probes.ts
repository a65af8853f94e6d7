/**
 * Probe prompts for a suspect model: a campaign's own prompt families, one or a few
 * prompts each, so that the suspect is asked what the campaign harvested and its answers
 * fall in the contexts the watermark marked.
 */
import type { ExchangeFeatures } from '../core/features.js';

export interface Probe {
  prompt: string;
  /** The family's template signature (its masked prefix). */
  family: string;
  capability: string;
  campaign: string;
  /** Exchanges of the campaign in this family. */
  exchanges: number;
}

interface Family {
  capability: string;
  exchanges: number;
  prompts: Map<string, number>;
}

/**
 * The probes for one campaign from its members' exchanges: the largest families first,
 * each with its `perFamily` most used distinct prompts (the preview the store kept).
 */
export function proposeProbes(campaign: string, rows: Iterable<ExchangeFeatures>, opts: { perFamily: number; maxFamilies: number }): Probe[] {
  const families = new Map<string, Family>();
  for (const r of rows) {
    if (r.prompt_preview === null || r.prompt_preview.trim() === '') continue;
    let f = families.get(r.template_prefix);
    if (!f) families.set(r.template_prefix, (f = { capability: r.capability, exchanges: 0, prompts: new Map() }));
    f.exchanges++;
    f.prompts.set(r.prompt_preview, (f.prompts.get(r.prompt_preview) ?? 0) + 1);
  }
  const out: Probe[] = [];
  const ranked = [...families].sort((a, b) => b[1].exchanges - a[1].exchanges || (a[0] < b[0] ? -1 : 1)).slice(0, opts.maxFamilies);
  for (const [family, f] of ranked) {
    const prompts = [...f.prompts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, opts.perFamily);
    for (const [prompt] of prompts) out.push({ prompt, family, capability: f.capability, campaign, exchanges: f.exchanges });
  }
  return out;
}
