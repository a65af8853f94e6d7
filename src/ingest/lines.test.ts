import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { collectAll, fixtureWriter } from './test-fixtures.js';
import { InputError, linesOfBlock, readLineBlocks, readLines, splitLines, type LineItem, type ReadLinesOptions } from './lines.js';

const fixture = fixtureWriter('dw-lines-');
const collect = (path: string, opts?: ReadLinesOptions): Promise<LineItem[]> => collectAll(readLines(path, opts));

async function collectFrom(chunks: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, opts?: ReadLinesOptions): Promise<LineItem[]> {
  const out: LineItem[] = [];
  const source = (async function* () {
    for await (const c of chunks) yield c;
  })();
  for await (const batch of splitLines(source, 'test', opts)) out.push(...batch);
  return out;
}

describe('readLines', () => {
  test('readLines yields each line with its number', async () => {
    const p = fixture('{"a":1}\n{"a":2}\n{"a":3}\n');
    assert.deepEqual(await collect(p), [
      { line: 1, text: '{"a":1}' },
      { line: 2, text: '{"a":2}' },
      { line: 3, text: '{"a":3}' },
    ]);
  });

  test('readLines strips CRLF line endings', async () => {
    const p = fixture('one\r\ntwo\r\nthree');
    assert.deepEqual(await collect(p), [
      { line: 1, text: 'one' },
      { line: 2, text: 'two' },
      { line: 3, text: 'three' },
    ]);
  });

  test('readLines drops a UTF-8 BOM at the start of the file only', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const p = fixture(Buffer.concat([bom, Buffer.from('first\n'), bom, Buffer.from('second\n')]));
    const items = await collect(p);
    assert.deepEqual(items[0], { line: 1, text: 'first' });
    assert.deepEqual(items[1], { line: 2, text: '\uFEFFsecond' });
  });

  test('readLines yields nothing for an empty file', async () => {
    assert.deepEqual(await collect(fixture('')), []);
  });

  test('readLines skips blank and whitespace-only lines but keeps their numbers', async () => {
    const p = fixture('\na\n\n  \t\r\nb\n\n');
    assert.deepEqual(await collect(p), [
      { line: 2, text: 'a' },
      { line: 5, text: 'b' },
    ]);
  });

  test('readLines reads a final line that has no newline', async () => {
    assert.deepEqual(await collect(fixture('a\nlast')), [
      { line: 1, text: 'a' },
      { line: 2, text: 'last' },
    ]);
  });

  test('readLines marks a line of invalid UTF-8 as bad and reads on', async () => {
    const bad = Buffer.concat([Buffer.from('{"x":"'), Buffer.from([0xff, 0xfe, 0x41]), Buffer.from('"}\n')]);
    const p = fixture(Buffer.concat([Buffer.from('ok\n'), bad, Buffer.from('after\n')]));
    const items = await collect(p);
    assert.equal(items.length, 3);
    assert.deepEqual(items[0], { line: 1, text: 'ok' });
    const b = items[1]!;
    assert.ok('bad' in b);
    assert.equal(b.line, 2);
    assert.match(b.bad, /UTF-8/);
    assert.ok(b.excerpt.startsWith('{"x":"'));
    assert.deepEqual(items[2], { line: 3, text: 'after' });
  });

  test('readLines keeps a real U+FFFD character, which is valid UTF-8', async () => {
    assert.deepEqual(await collect(fixture('a\uFFFDb\n')), [{ line: 1, text: 'a\uFFFDb' }]);
  });

  test('readLines marks a line over the limit as bad without buffering it', async () => {
    const limit = 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 0x61); // the same buffer again and again: the source costs nothing
    let external = 0;
    const before = process.memoryUsage().arrayBuffers;
    async function* source(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('{"first":true}\n');
      for (let i = 0; i < 256; i++) yield chunk; // a 256 MiB line
      external = process.memoryUsage().arrayBuffers;
      yield Buffer.from('\n{"next":true}\n');
    }
    const items = await collectFrom(source(), { maxLineBytes: limit });
    assert.equal(items.length, 3);
    const b = items[1]!;
    assert.ok('bad' in b);
    assert.equal(b.line, 2);
    assert.equal(b.bad, 'longer than the limit of 1 MiB');
    assert.equal(b.excerpt, 'a'.repeat(200));
    assert.deepEqual(items[2], { line: 3, text: '{"next":true}' });
    // Buffering the line would hold 256 MiB here; the reader may hold at most the limit.
    assert.ok(external - before < 32 * 1024 * 1024, `held ${(external - before) >> 20} MiB`);
  });

  test('readLines marks a line over the limit as bad when it lies within one chunk', async () => {
    const p = fixture(`short\n${'x'.repeat(100)}\nshort again`);
    const items = await collect(p, { maxLineBytes: 50 });
    assert.deepEqual(items[0], { line: 1, text: 'short' });
    assert.ok('bad' in items[1]!);
    assert.equal(items[1].line, 2);
    assert.deepEqual(items[2], { line: 3, text: 'short again' });
  });

  test('readLines marks a final over-long line with no newline as bad', async () => {
    const items = await collectFrom([Buffer.from('ok\n'), Buffer.alloc(40, 0x62), Buffer.alloc(40, 0x62)], { maxLineBytes: 50 });
    assert.equal(items.length, 2);
    assert.ok('bad' in items[1]!);
    assert.equal(items[1].line, 2);
  });

  test('readLines accepts a line of exactly the limit', async () => {
    const items = await collectFrom([Buffer.alloc(30, 0x62), Buffer.alloc(20, 0x62), Buffer.from('\n')], { maxLineBytes: 50 });
    assert.deepEqual(items, [{ line: 1, text: 'b'.repeat(50) }]);
  });

  test('readLines decompresses gzip recognised by its magic bytes, whatever the name', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => `{"i":${i},"s":"héllo"}`).join('\n') + '\n';
    const p = fixture(gzipSync(text), 'no-extension.log');
    const items = await collect(p);
    assert.equal(items.length, 1000);
    assert.deepEqual(items[999], { line: 1000, text: '{"i":999,"s":"héllo"}' });
  });

  test('readLines reads concatenated gzip members as one stream', async () => {
    const p = fixture(Buffer.concat([gzipSync('a\nb'), gzipSync('c\n')]), 'rotated.gz');
    assert.deepEqual(await collect(p), [
      { line: 1, text: 'a' },
      { line: 2, text: 'bc' },
    ]);
  });

  test('readLines reports a truncated gzip file as a bad line after the good ones', async () => {
    const lines = Array.from({ length: 20000 }, (_, i) => `{"i":${i},"pad":"${'z'.repeat(i % 97)}${i * 7919}"}`);
    const gz = gzipSync(lines.join('\n') + '\n');
    const p = fixture(gz.subarray(0, Math.floor(gz.length * 0.6)), 'cut.jsonl.gz');
    const items = await collect(p);
    const last = items[items.length - 1]!;
    assert.ok('bad' in last, 'the loss is reported');
    assert.match(last.bad, /^gzip data is truncated or corrupt/);
    const good = items.slice(0, -1);
    assert.ok(good.length > 1000);
    good.forEach((item, i) => assert.deepEqual(item, { line: i + 1, text: lines[i] }));
    assert.equal(last.line, good.length + 1);
  });

  test('readLines skipLines skips the first lines and numbers the rest from there', async () => {
    const p = fixture('a\n\nc\nd\ne');
    assert.deepEqual(await collect(p, { skipLines: 2 }), [
      { line: 3, text: 'c' },
      { line: 4, text: 'd' },
      { line: 5, text: 'e' },
    ]);
    assert.deepEqual(await collect(p, { skipLines: 5 }), []);
    assert.deepEqual(await collect(p, { skipLines: 50 }), []);
  });

  test('readLines skipLines does not decode the skipped lines', async () => {
    const p = fixture(Buffer.concat([Buffer.from([0xff, 0xff, 0x0a]), Buffer.alloc(100, 0x61), Buffer.from('\nok\n')]));
    assert.deepEqual(await collect(p, { skipLines: 2, maxLineBytes: 10 }), [{ line: 3, text: 'ok' }]);
  });

  test('readLines skipLines works inside gzip input', async () => {
    const p = fixture(gzipSync('a\nb\nc\n'), 'skip.gz');
    assert.deepEqual(await collect(p, { skipLines: 1 }), [
      { line: 2, text: 'b' },
      { line: 3, text: 'c' },
    ]);
  });

  test('readLines splits lines the same however the input is chunked', async () => {
    let seed = 42;
    const rnd = (k: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed % k;
    };
    const alphabet = ['a', 'b', ' ', '\n', '\n', '\r\n', 'é', '中', '😀', '{}', '\n\n'];
    for (let round = 0; round < 40; round++) {
      let text = '';
      const len = rnd(400);
      for (let i = 0; i < len; i++) text += alphabet[rnd(alphabet.length)];
      const bytes = Buffer.from(text);
      const chunks: Buffer[] = [];
      for (let pos = 0; pos < bytes.length; ) {
        const size = 1 + rnd(9);
        chunks.push(bytes.subarray(pos, pos + size));
        pos += size;
      }
      const expected: LineItem[] = [];
      const parts = text.split('\n');
      if (parts[parts.length - 1] === '') parts.pop();
      parts.forEach((raw, i) => {
        const t = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        if (t.trim() !== '') expected.push({ line: i + 1, text: t });
      });
      assert.deepEqual(await collectFrom(chunks), expected, JSON.stringify(text));
    }
  });

  test('readLines reads stdin when the path is "-"', () => {
    const script = `
      const { readLines } = await import(${JSON.stringify(new URL('./lines.js', import.meta.url).href)});
      const out = [];
      for await (const item of readLines('-')) out.push(item);
      process.stdout.write(JSON.stringify(out));`;
    const run = (input: Buffer): unknown =>
      JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { input }).toString());
    assert.deepEqual(run(Buffer.from('x\ny\n')), [
      { line: 1, text: 'x' },
      { line: 2, text: 'y' },
    ]);
    assert.deepEqual(run(gzipSync('z\n')), [{ line: 1, text: 'z' }]);
    assert.deepEqual(run(Buffer.alloc(0)), []);
  });

  test('readLines throws an InputError naming a file that does not exist', async () => {
    await assert.rejects(collect(join(dirname(fixture('')), 'missing.jsonl')), (e: unknown) => {
      assert.ok(e instanceof InputError);
      assert.equal(e.code, 'ENOENT');
      assert.match(e.message, /^Cannot read ".*missing\.jsonl": /);
      return true;
    });
  });

  test('readLines stops reading when the consumer stops early', async () => {
    const p = fixture(Array.from({ length: 10 }, (_, i) => String(i)).join('\n'));
    const seen: LineItem[] = [];
    for await (const item of readLines(p)) {
      seen.push(item);
      if (seen.length === 2) break;
    }
    assert.equal(seen.length, 2);
  });

  test('readLines rejects a limit that is not a positive integer', () => {
    assert.throws(() => readLines('x', { maxLineBytes: 0 }), RangeError);
    assert.throws(() => readLines('x', { skipLines: -1 }), RangeError);
  });
});

describe('readLineBlocks', () => {
  /** The lines of the blocks, each block cut apart from the others as a feature worker cuts it (its bytes copied, as if transferred). */
  async function viaBlocks(path: string, opts: ReadLinesOptions): Promise<LineItem[]> {
    const out: LineItem[] = [];
    for await (const items of readLineBlocks(path, opts)) {
      for (const item of items) {
        if (Array.isArray(item)) out.push(...item);
        else out.push(...linesOfBlock({ firstLine: item.firstLine, bytes: new Uint8Array(item.bytes) }, opts.maxLineBytes));
      }
    }
    return out;
  }

  test('blocks of whole lines give the lines readLines gives, whatever the chunk size, across long lines, blanks, CRLF and a BOM', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    const body = ['{"a":1}', '', '  ', 'x'.repeat(150), 'two\r', 'é😀 text', 'y'.repeat(99), 'z'.repeat(101), '', 'last without newline'].join('\n');
    const plain = fixture(Buffer.concat([bom, Buffer.from(body)]));
    const gz = fixture(gzipSync(Buffer.concat([bom, Buffer.from(body)])));
    for (const path of [plain, gz]) {
      // zlib takes chunks of 64 bytes or more.
      for (const chunkBytes of path === gz ? [64, 100, 1000] : [1, 7, 64, 1000]) {
        for (const skipLines of [0, 3]) {
          const opts = { chunkBytes, maxLineBytes: 100, skipLines };
          const expected = await collect(path, opts);
          assert.equal(expected.filter((i) => 'bad' in i).length, 2, 'two lines over the limit');
          assert.deepEqual(await viaBlocks(path, opts), expected, `chunks of ${chunkBytes} bytes, ${skipLines} lines skipped`);
        }
      }
    }
    // The lines themselves, to pin what both give.
    const lines = await collect(plain, { chunkBytes: 7, maxLineBytes: 100 });
    assert.deepEqual(lines.map((i) => i.line), [1, 4, 5, 6, 7, 8, 10]);
    assert.deepEqual(lines[0], { line: 1, text: '{"a":1}' });
    assert.equal((lines[1] as { bad: string }).bad, 'longer than the limit of 100 bytes');
    assert.deepEqual(lines[6], { line: 10, text: 'last without newline' });
  });

  test('a gzip input cut short gives its whole lines as blocks, then the broken line as bad', async () => {
    const lines = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ i, pad: 'p'.repeat(i % 97) }));
    const whole = gzipSync(Buffer.from(lines.join('\n') + '\n'));
    const p = fixture(whole.subarray(0, Math.floor(whole.length / 2)));
    const expected = await collect(p, { chunkBytes: 4096 });
    const items = await viaBlocks(p, { chunkBytes: 4096 });
    assert.deepEqual(items, expected);
    assert.ok(items.length > 100, `${items.length} lines before the cut`);
    const last = items.at(-1)!;
    assert.match((last as { bad: string }).bad, /^gzip data is truncated or corrupt/);
    assert.equal(last.line, items.length);
  });
});

