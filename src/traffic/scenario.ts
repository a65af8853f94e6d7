/**
 * Named scenarios, small to large. All sizes in one place; `scale` multiplies account counts.
 */

export interface BenignMix {
  ordinary: number;
  saas: number;
  saasPerDay: number;
  enterprises: number;
  employees: number;
  classes: number;
  students: number;
  evalRuns: number;
  codingAgents: number;
  releaseMovers: number;
  moverPerDay: number;
  /** Honest users at home behind an exit of the proxy pool or the cloud NAT that attackers use too. */
  bystanders: number;
  /** A proxy reseller's honest customers: every request from another exit of its pool. */
  resellerCustomers: number;
  /** Companies' batch pipelines, each several accounts on one harness and card. */
  batchPipelines: number;
  batchAccounts: number;
  batchPerDay: number;
}

export type PlaybookName = 'hydra' | 'synchronized' | 'capability_sweep' | 'model_pivot' | 'entry_point_farming' | 'adaptive' | 'ban_evasion' | 'relay';

export interface AttackSpec {
  playbook: PlaybookName;
  /** The adaptive attacker's variant: `heldout` is kept out of tuning and reported apart. */
  variant?: 'dev' | 'heldout';
  /**
   * How the adaptive attacker writes its wrappers: a few per account (`per-account`), or a
   * paraphrase written afresh for every prompt (`per-prompt`), so no sentence of its own recurs.
   * @default 'per-account'
   */
  wrapping?: 'per-account' | 'per-prompt';
  /** The adaptive attacker's mean share of cover traffic (ordinary requests), as [low, high). @default [0.1, 0.35) */
  offBank?: readonly [number, number];
  accounts: number;
  /** Exchanges per account per day. */
  perDay: number;
}

export interface ScenarioSpec {
  description: string;
  start: string;
  days: number;
  /** Hours after the start when the new model is released. */
  releaseAfterHours: number;
  benign: BenignMix;
  attacks: AttackSpec[];
  /** Whether `scale` multiplies the attackers too. @default true */
  scaleAttacks?: boolean;
  /**
   * Shards the actors are cut into, so several threads can write the scenario; the traffic
   * depends on it (each shard has its own id and jitter streams), never on the thread count.
   * @default 1
   */
  shards?: number;
}

const BYSTANDERS = { bystanders: 60, resellerCustomers: 30, batchPipelines: 2, batchAccounts: 6, batchPerDay: 300 };
const SMALL_BENIGN: BenignMix = { ordinary: 1500, saas: 2, saasPerDay: 2500, enterprises: 2, employees: 40, classes: 2, students: 60, evalRuns: 3, codingAgents: 25, releaseMovers: 1, moverPerDay: 1500, ...BYSTANDERS };
const LITE_BENIGN: BenignMix = { ordinary: 600, saas: 2, saasPerDay: 1500, enterprises: 1, employees: 30, classes: 1, students: 50, evalRuns: 2, codingAgents: 10, releaseMovers: 1, moverPerDay: 1000, ...BYSTANDERS, bystanders: 30, resellerCustomers: 15, batchPipelines: 1 };

const ALL_ATTACKS: AttackSpec[] = [
  { playbook: 'hydra', accounts: 240, perDay: 30 },
  { playbook: 'synchronized', accounts: 40, perDay: 120 },
  { playbook: 'capability_sweep', accounts: 30, perDay: 150 },
  { playbook: 'model_pivot', accounts: 25, perDay: 120 },
  { playbook: 'entry_point_farming', accounts: 45, perDay: 100 },
  { playbook: 'adaptive', accounts: 80, perDay: 15 },
  { playbook: 'ban_evasion', accounts: 30, perDay: 100 },
  { playbook: 'relay', accounts: 40, perDay: 150 },
];

function focused(playbook: PlaybookName): ScenarioSpec {
  return {
    description: `the ${playbook} playbook alone among a benign population with every hard negative`,
    start: '2026-04-22T00:00:00Z',
    days: 5,
    releaseAfterHours: 60,
    benign: LITE_BENIGN,
    attacks: ALL_ATTACKS.filter((a) => a.playbook === playbook),
  };
}

export const SCENARIOS: Record<string, ScenarioSpec> = {
  demo: {
    description: 'a small benign population with every hard negative, one hydra campaign and one synchronized cluster',
    start: '2026-04-22T00:00:00Z',
    days: 3,
    releaseAfterHours: 36,
    benign: { ordinary: 350, saas: 2, saasPerDay: 1000, enterprises: 1, employees: 25, classes: 1, students: 40, evalRuns: 2, codingAgents: 8, releaseMovers: 1, moverPerDay: 800, bystanders: 20, resellerCustomers: 10, batchPipelines: 1, batchAccounts: 5, batchPerDay: 300 },
    attacks: [
      { playbook: 'hydra', accounts: 80, perDay: 25 },
      { playbook: 'synchronized', accounts: 20, perDay: 100 },
    ],
  },
  small: {
    description: 'every playbook and every hard negative, about 200k exchanges over a week',
    start: '2026-04-22T00:00:00Z',
    days: 7,
    releaseAfterHours: 84,
    benign: SMALL_BENIGN,
    attacks: ALL_ATTACKS,
  },
  'benign-only': {
    description: 'no attacker: every flag is a false positive',
    start: '2026-04-22T00:00:00Z',
    days: 7,
    releaseAfterHours: 84,
    benign: SMALL_BENIGN,
    attacks: [],
  },
  hydra: focused('hydra'),
  sync: focused('synchronized'),
  sweep: focused('capability_sweep'),
  pivot: focused('model_pivot'),
  farming: focused('entry_point_farming'),
  adaptive: focused('adaptive'),
  // Development variants of the adaptive attacker, tuned against (the held-back one is not).
  'adaptive-paraphrase': { ...focused('adaptive'), description: 'the adaptive attacker paraphrasing its wrapper afresh for every prompt, with more accounts', attacks: [{ playbook: 'adaptive', accounts: 100, perDay: 15, wrapping: 'per-prompt' }] },
  'adaptive-cover': { ...focused('adaptive'), description: 'the adaptive attacker hiding its bank among heavy cover traffic (30-50% ordinary requests), more accounts at a slower pace', attacks: [{ playbook: 'adaptive', accounts: 120, perDay: 10, offBank: [0.3, 0.5] }] },
  'adaptive-heldout': { ...focused('adaptive'), description: 'the held-back variant of the adaptive attacker (other words, bank mix and networks), kept out of tuning', attacks: [{ playbook: 'adaptive', accounts: 80, perDay: 15, variant: 'heldout' }] },
  'at-scale': {
    description: 'a hydra, a relay and a ban-evasion operator among a large honest population with every hard negative and bystander; --scale grows the honest population only',
    start: '2026-04-22T00:00:00Z',
    days: 5,
    releaseAfterHours: 60,
    benign: { ...LITE_BENIGN, ordinary: 1700, bystanders: 60, resellerCustomers: 30, batchPipelines: 2 },
    attacks: ALL_ATTACKS.filter((a) => a.playbook === 'hydra' || a.playbook === 'relay' || a.playbook === 'ban_evasion'),
    scaleAttacks: false,
  },
  'ban-evasion': focused('ban_evasion'),
  relay: focused('relay'),
  medium: {
    description: 'every playbook among a larger population, about 2M exchanges over two weeks',
    start: '2026-04-22T00:00:00Z',
    days: 14,
    releaseAfterHours: 7 * 24,
    benign: { ordinary: 9000, saas: 6, saasPerDay: 6000, enterprises: 6, employees: 60, classes: 5, students: 80, evalRuns: 8, codingAgents: 120, releaseMovers: 2, moverPerDay: 3000, ...BYSTANDERS, bystanders: 200, resellerCustomers: 100, batchPipelines: 5 },
    attacks: ALL_ATTACKS.map((a) => ({ ...a, accounts: a.accounts * 3 })),
  },
  'hydra-28m': {
    description: '~25,000 hydra accounts and ~28.8M campaign exchanges over Apr 22 – Jun 5 among a benign population several times larger',
    start: '2026-04-22T00:00:00Z',
    days: 44,
    releaseAfterHours: 20 * 24,
    benign: { ordinary: 100_000, saas: 20, saasPerDay: 8000, enterprises: 30, employees: 80, classes: 20, students: 100, evalRuns: 40, codingAgents: 1500, releaseMovers: 5, moverPerDay: 5000, ...BYSTANDERS, bystanders: 2000, resellerCustomers: 1000, batchPipelines: 20 },
    attacks: [{ playbook: 'hydra', accounts: 25_000, perDay: 26 }],
    shards: 16,
  },
};
