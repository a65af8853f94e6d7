/**
 * CPU seconds of the calling thread alone (Linux, from /proc/thread-self/stat), for the
 * benchmarks: on a shared machine a thread's CPU time says which thread bounds the scan
 * where process-wide figures and wall time cannot. Null where the kernel does not tell.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)). */
const TICKS_PER_SECOND = 100;

export function thisThreadCpuSeconds(): number | null {
  return statCpuSeconds('/proc/thread-self/stat');
}

/** CPU seconds (user + system) in a /proc `stat` file (a process's, or a thread's under `task/`); null when it cannot be read. */
export function statCpuSeconds(path: string): number | null {
  let stat: string;
  try {
    stat = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  // The thread's name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]);
  return Number.isFinite(ticks) ? ticks / TICKS_PER_SECOND : null;
}
