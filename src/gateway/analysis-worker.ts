/**
 * The analysis worker: builds each finished request's canonical exchange and features, and
 * runs the detection engine and its linking. All the per-exchange CPU work of the gateway
 * lives here, so that the proxy's thread only forwards bytes and reads standings.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { ExchangeFeatures } from '../core/features.js';
import type { AnalysisSettings, FromWorker, ToWorker } from './analysis-protocol.js';
import { OnlineDetector } from './online.js';
import { recordExchange, recordRefusal, type ExchangeLogFields, type RefusalLogFields } from './record.js';

const port = parentPort;
if (port === null) throw new Error('analysis-worker must run as a worker thread');
const settings = workerData as AnalysisSettings;
const send = (m: FromWorker): void => port.postMessage(m);

const online = new OnlineDetector({
  linkIntervalMs: settings.linkIntervalMs,
  publishRisk: settings.publishRisk,
  ...(settings.params ? { params: settings.params } : {}),
  publish: (updates) => send({ type: 'risk', updates }),
});

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'record': {
      if (settings.exitOnBatch === m.batch) process.exit(70);
      const rows: ExchangeFeatures[] = [];
      const logs: ExchangeLogFields[] = [];
      const refusals: RefusalLogFields[] = [];
      const failures: { id: string; account: string; error: string }[] = [];
      for (const f of m.requests) {
        if (f.refusal !== undefined) {
          // Logged for the analyst; not observed: the model never answered it.
          refusals.push(recordRefusal(f, settings));
          continue;
        }
        const r = recordExchange(f, settings);
        if (r === null) continue;
        if (!r.ok) {
          failures.push({ id: f.id, account: f.accountId, error: r.error });
          continue;
        }
        online.observe(r.value.features);
        rows.push(r.value.features);
        logs.push(r.value.log);
      }
      send({ type: 'recorded', batch: m.batch, rows, logs, refusals, failures });
      return;
    }
    case 'verdict':
      send({ type: 'verdict', query: m.query, verdict: online.engine.verdictOf(m.accountId), observed: online.engine.exchanges });
      return;
    case 'link':
      online.link();
      send({ type: 'linked', query: m.query });
      return;
    case 'publish-risk':
      online.publishRisk = m.risk;
      return;
  }
});
