/** The messages between the proxy's thread and the analysis worker. All plain data. */
import type { ExchangeFeatures } from '../core/features.js';
import type { AccountVerdict } from '../detect/engine.js';
import type { DetectorParams } from '../detect/params.js';
import type { RiskUpdate } from './online.js';
import type { ExchangeLogFields, HandedRequest, RecordOptions, RefusalLogFields } from './record.js';

export interface AnalysisSettings extends RecordOptions {
  linkIntervalMs: number;
  publishRisk: number;
  params?: Partial<DetectorParams>;
  /** Failpoint for tests: the worker exits, without answering, on this batch. */
  exitOnBatch?: number;
}

export type ToWorker =
  | { type: 'record'; batch: number; requests: HandedRequest[] }
  | { type: 'verdict'; query: number; accountId: string }
  | { type: 'link'; query: number }
  /** The policy was reloaded: publish standings from this risk on. */
  | { type: 'publish-risk'; risk: number };

export type FromWorker =
  | { type: 'recorded'; batch: number; rows: ExchangeFeatures[]; logs: ExchangeLogFields[]; refusals: RefusalLogFields[]; failures: { id: string; account: string; error: string }[] }
  | { type: 'verdict'; query: number; verdict: AccountVerdict | null; observed: number }
  | { type: 'linked'; query: number }
  | { type: 'risk'; updates: RiskUpdate[] };
