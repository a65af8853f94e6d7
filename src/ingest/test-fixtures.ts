/** Test helpers shared by the ingest tests: input files in a temp folder removed afterwards. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A function that writes a file with the given content into a fresh temp folder and returns its path. */
export function fixtureWriter(prefix: string): (content: string | Buffer, name?: string) => string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return (content, name = `f${++n}.jsonl`) => {
    const p = join(dir, name);
    writeFileSync(p, content);
    return p;
  };
}

export async function collectAll<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
