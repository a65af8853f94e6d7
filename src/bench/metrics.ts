/**
 * Detection metrics against a simulation's ground truth. Pure functions: the benchmark
 * reads the report and the truth file, the detector never sees the truth.
 */
import type { ScanReport } from '../core/report.js';

export interface TruthAccount {
  population: string;
  malicious: boolean;
  playbook?: string;
  operator?: string;
}

export interface TruthLike {
  accounts: Record<string, TruthAccount>;
}

/** When an account was flagged (ms), from a detector or a baseline. */
export type Flags = ReadonlyMap<string, number>;

export interface Confusion {
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number;
  recall: number;
  f1: number;
}

export function confusion(truth: TruthLike, flagged: ReadonlySet<string>, filter?: (a: TruthAccount) => boolean): Confusion {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  let tn = 0;
  for (const [id, a] of Object.entries(truth.accounts)) {
    if (filter && !filter(a)) continue;
    const f = flagged.has(id);
    if (a.malicious) f ? tp++ : fn++;
    else f ? fp++ : tn++;
  }
  // Flagged accounts the truth does not know are false positives too (they cannot be attackers).
  if (!filter) for (const id of flagged) if (!(id in truth.accounts)) fp++;
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { tp, fp, fn, tn, precision, recall, f1 };
}

/** Recall per playbook (its accounts caught) and, over benign accounts, false positives per population. */
export function perGroup(truth: TruthLike, flagged: ReadonlySet<string>): {
  playbooks: Record<string, { accounts: number; caught: number; recall: number }>;
  populations: Record<string, { accounts: number; flagged: number; fpr: number }>;
} {
  const playbooks: Record<string, { accounts: number; caught: number; recall: number }> = {};
  const populations: Record<string, { accounts: number; flagged: number; fpr: number }> = {};
  for (const [id, a] of Object.entries(truth.accounts)) {
    if (a.malicious) {
      const k = a.playbook ?? 'unknown';
      const g = (playbooks[k] ??= { accounts: 0, caught: 0, recall: 0 });
      g.accounts++;
      if (flagged.has(id)) g.caught++;
    } else {
      const g = (populations[a.population] ??= { accounts: 0, flagged: 0, fpr: 0 });
      g.accounts++;
      if (flagged.has(id)) g.flagged++;
    }
  }
  for (const g of Object.values(playbooks)) g.recall = g.accounts ? g.caught / g.accounts : 1;
  for (const g of Object.values(populations)) g.fpr = g.accounts ? g.flagged / g.accounts : 0;
  return { playbooks, populations };
}

/**
 * Campaign reconstruction: an operator is split when its flagged accounts land in more than
 * one campaign; a campaign is merged when it holds accounts of more than one operator (or
 * benign accounts).
 */
export function reconstruction(truth: TruthLike, report: ScanReport): { operators: number; split: number; campaigns: number; merged: number; details: Record<string, number> } {
  const campaignsOf = new Map<string, Set<string>>();
  let merged = 0;
  for (const c of report.campaigns) {
    const owners = new Set<string>();
    for (const a of c.accounts) {
      const t = truth.accounts[a];
      owners.add(t?.malicious ? (t.operator ?? 'unknown') : 'benign');
      if (t?.malicious && t.operator) {
        let s = campaignsOf.get(t.operator);
        if (!s) campaignsOf.set(t.operator, (s = new Set()));
        s.add(c.id);
      }
    }
    if (owners.size > 1) merged++;
  }
  let split = 0;
  const details: Record<string, number> = {};
  for (const [op, cs] of campaignsOf) {
    details[op] = cs.size;
    if (cs.size > 1) split++;
  }
  return { operators: campaignsOf.size, split, campaigns: report.campaigns.length, merged, details };
}

export function quantile(sorted: readonly number[], q: number): number | null {
  if (sorted.length === 0) return null;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function flagsFromReport(report: ScanReport): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of report.accounts) {
    if (a.verdict === 'distillation' && a.first_flagged_at) out.set(a.account_id, Date.parse(a.first_flagged_at));
  }
  return out;
}
