/**
 * Identity of an input for resuming an interrupted ingest. The key changes when the file
 * is replaced or grows, so a checkpoint is never applied to different content.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { SourceKey } from '../store/store.js';
import { InputError } from './lines.js';

/**
 * The key of stdin and of other streams (named pipes, devices). A stream has no size or
 * modification time that would tell one run's input from the next, so it cannot resume:
 * an ingest from it always starts over, and callers must not look up or trust a
 * checkpoint for this key.
 */
export const STDIN_KEY = 'stdin';

/**
 * Identifies a file by its absolute path, size and modification time; `'-'` and other
 * streams get `STDIN_KEY`. Throws an `InputError` when the path cannot be examined or is a
 * directory.
 *
 * @example
 * const source = await sourceKey('logs/day1.jsonl.gz'); // { key: '3f1c…', path: '/abs/logs/day1.jsonl.gz' }
 */
export async function sourceKey(path: string): Promise<SourceKey> {
  if (path === '-') return { key: STDIN_KEY, path: '-' };
  const abs = resolve(path);
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
    throw new InputError(`Cannot read "${path}": ${(e as Error).message}`, code);
  }
  if (st.isDirectory()) throw new InputError(`Cannot read "${path}": it is a directory`, 'EISDIR');
  if (!st.isFile()) return { key: STDIN_KEY, path: abs };
  const key = createHash('sha256').update(`${abs}\n${st.size}\n${st.mtimeMs}`).digest('hex').slice(0, 32);
  return { key, path: abs };
}
