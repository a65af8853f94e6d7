/**
 * Detector parameters, validated once. Defaults are chosen from the threat model's
 * indicators, not fitted to any one data set; every one can be overridden from a file.
 */
import { z } from 'zod';

export const DetectorParamsSchema = z.strictObject({
  /** Event time between two linking runs, in ms. @default 1 hour */
  linkIntervalMs: z.number().int().positive().default(3_600_000),
  /**
   * A linking run between the hourly ones, as soon as this many accounts have become suspects
   * by their first exchanges' content since the last run: a pool that starts together crosses
   * the content bar together, often between two hourly runs, and honest accounts rarely cross
   * it at all, so these runs are few. @default 5
   */
  earlyLinkSuspects: z.number().int().positive().default(5),
  /** Event time at least between such a run and the run before it, in ms. @default 15 minutes */
  earlyLinkSpacingMs: z.number().int().positive().default(900_000),
  /** Exchanges an account needs before content shares count. @default 5 */
  minExchangesContent: z.number().int().positive().default(5),
  /**
   * Content shares of an account with fewer exchanges than this count the missing ones as
   * asking for nothing: five eliciting prompts of five weigh as five of eight, so a few early
   * prompts of a person who likes worked answers do not make a suspect, while an operator's
   * account whose every prompt elicits is one after five. @default 8
   */
  contentShareOver: z.number().int().positive().default(8),
  /** An account this many days old or younger at its first request is new. @default 3 */
  newAccountDays: z.number().positive().default(3),
  /** First-day exchanges that make a new account's start "full throughput". @default 50 */
  rampUpExchanges: z.number().positive().default(50),
  /** Exchanges per active day that count as heavy on a non-enterprise tier. @default 200 */
  heavyPerDay: z.number().positive().default(200),
  /** Account risk from which an account takes part in linking. @default 0.3 */
  suspectRisk: z.number().min(0).max(1).default(0.3),
  /** Account risk and evidence families for a verdict on an account alone. */
  aloneDistillationRisk: z.number().min(0).max(1).default(0.9),
  aloneDistillationFamilies: z.number().int().min(1).max(4).default(3),
  suspiciousRisk: z.number().min(0).max(1).default(0.6),
  /**
   * An account alone is judged only once it has harvested for this long (event time between
   * its first and last exchange): a bounded evaluation run is over within hours. @default 36
   */
  aloneMinSpanHours: z.number().nonnegative().default(36),
  /** ...and while at least this share of its prompts are distinct (re-runs of one benchmark are not). @default 0.6 */
  aloneMinDistinctShare: z.number().min(0).max(1).default(0.6),
  /** Accounts a linked group needs to be a campaign. @default 3 */
  minCampaignAccounts: z.number().int().min(2).default(3),
  /** Campaign confidence from which its members are acted on. @default 0.75 */
  campaignConfidence: z.number().min(0).max(1).default(0.75),
  /** IPs per account used for linking (most accounts have a few; proxies have hundreds, and a few suffice to tie them). @default 8 */
  linkIpsPerAccount: z.number().int().positive().default(8),
  /** An indicator shared by more accounts than this links only suspects (it is generic). @default 2000 */
  genericIndicatorAccounts: z.number().int().positive().default(2000),
  /**
   * Louvain resolution: higher splits more. Below 1 because one operator's accounts form a
   * dense, uniform block (every account holds the same harness) that modularity at 1 cuts
   * into arbitrary pieces. @default 0.5
   */
  louvainResolution: z.number().positive().default(0.5),
  /**
   * A linked component of at least this many accounts that only grew since it was last
   * clustered keeps its communities until it grew enough or enough runs passed (link/defer.ts):
   * an operation of tens of thousands of accounts is not clustered again on every run. None of
   * the benchmark's small or medium scenarios reaches it. @default 2000
   */
  deferAccounts: z.number().int().positive().default(2000),
  /** Growth in accounts (a share) that makes such a component due for clustering. @default 0.02 */
  deferAccountGrowth: z.number().nonnegative().default(0.02),
  /** Growth in what its accounts hold (account, key pairs; a share) that makes it due. @default 0.1 */
  deferHoldingGrowth: z.number().nonnegative().default(0.1),
  /** Linking runs after which it is due whatever it grew. @default 24 */
  deferRuns: z.number().int().positive().default(24),
  /**
   * Accounts it may lose meanwhile (a share of its accounts at the last clustering, over every
   * run since) and keep its communities without them: bystanders on an operation's networks
   * that were suspects for a while and are cleared leave it. @default 0.02
   */
  deferAccountLoss: z.number().min(0).max(0.25).default(0.02),
});
export type DetectorParams = z.infer<typeof DetectorParamsSchema>;

export const DEFAULT_PARAMS: DetectorParams = DetectorParamsSchema.parse({});

export function parseParams(input: unknown): { ok: true; value: DetectorParams } | { ok: false; error: string } {
  const r = DetectorParamsSchema.safeParse(input ?? {});
  if (r.success) return { ok: true, value: r.data };
  const issue = r.error.issues[0];
  return { ok: false, error: `Invalid detector parameter "${issue?.path.join('.') ?? ''}": ${issue?.message ?? 'unknown error'}` };
}
