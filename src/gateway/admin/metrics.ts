/** `GET /metrics`: Prometheus text, with the gauges that are read rather than counted brought up to date. */
import type { GatewayMetrics } from '../metrics.js';
import type { GatewayState } from '../state.js';
import type { AdminAnswer } from './http.js';

export interface MetricsRouteDeps {
  metrics: GatewayMetrics;
  state: GatewayState;
  sharedState: boolean;
  log: { readonly depth: number; readonly spooled: number; readonly dropped: number };
  analysis: { readonly backlog: number };
  wal?: { readonly unlogged: number; readonly unsettled: number; readonly unwritten: number; readonly committed: number; readonly groups: number } | null;
  /** False while exchanges cannot reach the disk (full disk). */
  logWritable(): boolean;
}

export async function metricsText(deps: MetricsRouteDeps): Promise<AdminAnswer> {
  const m = deps.metrics;
  m.queueDepth.set(deps.log.depth);
  m.spooled.set(deps.log.spooled);
  m.analysisBacklog.set(deps.analysis.backlog);
  if (deps.sharedState) m.redisUp.set(deps.state.available() ? 1 : 0);
  m.logWritable.set(deps.logWritable() ? 1 : 0);
  m.unlogged.set(deps.wal?.unlogged ?? 0);
  m.dropped.set(deps.log.dropped);
  m.walUnsettled.set(deps.wal?.unsettled ?? 0);
  if (deps.wal) m.publishWal(deps.wal);
  return { kind: 'text', status: 200, contentType: m.registry.contentType, text: await m.registry.metrics() };
}
