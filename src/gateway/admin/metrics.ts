/** `GET /metrics`: Prometheus text, with the gauges that are read rather than counted brought up to date. */
import type { GatewayMetrics } from '../metrics.js';
import type { GatewayState } from '../state.js';
import type { AdminAnswer } from './http.js';

export interface MetricsRouteDeps {
  metrics: GatewayMetrics;
  state: GatewayState;
  sharedState: boolean;
  log: { readonly depth: number; readonly spooled: number };
  analysis: { readonly backlog: number };
}

export async function metricsText(deps: MetricsRouteDeps): Promise<AdminAnswer> {
  const m = deps.metrics;
  m.queueDepth.set(deps.log.depth);
  m.spooled.set(deps.log.spooled);
  m.analysisBacklog.set(deps.analysis.backlog);
  if (deps.sharedState) m.redisUp.set(deps.state.available() ? 1 : 0);
  return { kind: 'text', status: 200, contentType: m.registry.contentType, text: await m.registry.metrics() };
}
