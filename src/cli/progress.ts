/**
 * Progress on the terminal while a scan reads: records/s and bad records so far. Silent
 * when stderr is not a terminal (CI logs, pipes), where a redrawn line is only noise.
 */
import cliProgress from 'cli-progress';
import type { ScanProgress } from '../pipeline/scan.js';

export function progressReporter(enabled: boolean): { update: (p: ScanProgress) => void; stop: () => void } {
  if (!enabled) return { update: () => {}, stop: () => {} };
  const started = Date.now();
  let phase: ScanProgress['phase'] | null = null;
  let bar: cliProgress.SingleBar | null = null;
  const stop = (): void => {
    bar?.stop();
    bar = null;
  };
  return {
    update(p) {
      if (p.phase !== phase) {
        stop();
        phase = p.phase;
        bar = new cliProgress.SingleBar(
          {
            format:
              p.phase === 'ingest'
                ? 'ingest  {value} records | {rate} records/s | {bad} bad | {dups} already stored'
                : 'detect  [{bar}] {percentage}% | {value}/{total} exchanges | {rate} exchanges/s',
            hideCursor: true,
            stream: process.stderr,
            fps: 5,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(p.total ?? 0, 0, { rate: 0, bad: 0, dups: 0 });
      }
      const secs = Math.max(0.001, (Date.now() - started) / 1000);
      if (p.total !== undefined) bar?.setTotal(p.total);
      bar?.update(p.done, { rate: Math.round(p.done / secs), bad: p.bad, dups: p.duplicates });
    },
    stop,
  };
}
