/** `GET /readyz`: whether this replica should be sent traffic, and why not. No token: probes cannot carry one. */
import type { GatewayConfig } from '../config.js';
import type { GatewayState } from '../state.js';
import { json, type AdminAnswer } from './http.js';

export interface ReadyRouteDeps {
  state: GatewayState;
  sharedState: boolean;
  log: { readonly depth: number; readonly dropped: number };
  analysis: { readonly backlog: number };
  wal?: { readonly unlogged: number } | null;
  /** The config in force now (it changes on reload). */
  config(): Pick<GatewayConfig, 'redisFailure' | 'logFailure'>;
  /** True from the start of a drain. */
  draining(): boolean;
  /** False while exchanges cannot reach the disk (full disk). */
  logWritable(): boolean;
}

export function readiness(deps: ReadyRouteDeps): AdminAnswer {
  const config = deps.config();
  const draining = deps.draining();
  const redis = !deps.sharedState ? 'not_configured' : deps.state.available() ? 'up' : 'down';
  const log = deps.logWritable() ? 'ok' : 'failing';
  const ready = !draining && (redis !== 'down' || config.redisFailure === 'open') && (log === 'ok' || config.logFailure === 'serve');
  return json(ready ? 200 : 503, {
    ready,
    draining,
    redis,
    redis_failure: config.redisFailure,
    log,
    log_failure: config.logFailure,
    log_queue: deps.log.depth,
    analysis_backlog: deps.analysis.backlog,
    exchanges_unlogged: deps.wal?.unlogged ?? 0,
    exchanges_dropped: deps.log.dropped,
  });
}
