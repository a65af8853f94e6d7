import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { InputError } from './lines.js';
import { STDIN_KEY, sourceKey } from './source.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-source-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('sourceKey', () => {
  test('sourceKey is the same for the same unchanged file, however the path is written', async () => {
    const p = join(dir, 'a.jsonl');
    writeFileSync(p, '{}\n');
    const a = await sourceKey(p);
    const b = await sourceKey(relative(process.cwd(), p));
    assert.equal(a.key, b.key);
    assert.equal(a.path, p);
    assert.match(a.key, /^[0-9a-f]{32}$/);
  });

  test('sourceKey changes when the file grows or is touched', async () => {
    const p = join(dir, 'b.jsonl');
    writeFileSync(p, '{}\n');
    utimesSync(p, new Date('2026-01-01T00:00:00Z'), new Date('2026-01-01T00:00:00Z'));
    const first = await sourceKey(p);
    utimesSync(p, new Date('2026-01-02T00:00:00Z'), new Date('2026-01-02T00:00:00Z'));
    const touched = await sourceKey(p);
    assert.notEqual(touched.key, first.key);
    appendFileSync(p, '{}\n');
    utimesSync(p, new Date('2026-01-02T00:00:00Z'), new Date('2026-01-02T00:00:00Z'));
    assert.notEqual((await sourceKey(p)).key, touched.key);
  });

  test('sourceKey gives stdin a key that cannot resume', async () => {
    assert.deepEqual(await sourceKey('-'), { key: STDIN_KEY, path: '-' });
  });

  test('sourceKey throws an InputError for a missing file or a directory', async () => {
    await assert.rejects(sourceKey(join(dir, 'nope.jsonl')), (e: unknown) => e instanceof InputError && e.code === 'ENOENT');
    await assert.rejects(sourceKey(dir), (e: unknown) => e instanceof InputError && e.code === 'EISDIR' && /it is a directory$/.test(e.message));
  });
});
