import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import type { ExchangeFeatures } from '../core/features.js';
import { BOOL_NULL, columnBuffers, columnsOfRows, concatColumns, ExchangeColumnsBuilder, rowsOfColumns, sizeOf, sliceColumns, UNREAD_BY_ENGINE, withoutUnread, type ExchangeColumns } from './column-batch.js';
import { sampleFeatures } from './contract.js';
import { decodeExchange, encodeExchange, EXCHANGE_KINDS, EXCHANGE_NAMES } from './exchange-columns.js';

/** Full rows (every nullable column set, text with escapes and non-ASCII) and bare ones (nulls, an absent column). */
function sampleRows(n: number): ExchangeFeatures[] {
  return Array.from({ length: n }, (_, i) => {
    if (i % 3 === 0) return sampleFeatures(i);
    const bare: Record<string, unknown> = { ...sampleFeatures(i, { org_id: null, ip: null, stream: null, max_tokens: null, verified: null, asn: null, status: null, prompt_preview: null }) };
    if (i % 3 === 2) delete bare.tier;
    return bare as unknown as ExchangeFeatures;
  });
}

function columns(rows: readonly ExchangeFeatures[]): ExchangeColumns {
  const c = columnsOfRows(rows);
  if (!c.ok) throw new Error(c.problem);
  return c.columns;
}

test('rowsOfColumns gives back the rows laid out as columns, as decoding their JSON would', () => {
  const rows = sampleRows(40);
  const back = rowsOfColumns(columns(rows));
  // The engine was handed decodeExchange's objects before: every column present, null where absent.
  assert.deepEqual(
    back,
    rows.map((r, i) => decodeExchange(encodeExchange(r, i) as Parameters<typeof decodeExchange>[0])),
  );
  for (const r of back) assert.deepEqual(Object.keys(r).sort(), [...EXCHANGE_NAMES].sort());
});

test('the builder grows past its first capacity and counts each row\'s size', () => {
  const rows = sampleRows(10);
  const b = new ExchangeColumnsBuilder(1);
  rows.forEach((r, i) => assert.equal(b.add(r, i), null));
  const c = b.build();
  assert.equal(c.length, 10);
  assert.deepEqual(rowsOfColumns(c), rowsOfColumns(columns(rows)));
  // A row's size is its text's characters and 8 bytes a number.
  const r0 = rows[0]!;
  let text = 0;
  let numbers = 0;
  EXCHANGE_NAMES.forEach((name, c) => {
    const v = r0[name];
    if (EXCHANGE_KINDS[c]!.startsWith('text')) text += typeof v === 'string' ? v.length : 0;
    else numbers++;
  });
  assert.equal(c.sizes[0], text + 8 * numbers);
  assert.equal(sizeOf(c), c.sizes.reduce((a, x) => a + x, 0));
  // Built again, it starts empty.
  assert.equal(b.build().length, 0);
});

test('the builder refuses a row the store cannot take, naming the column, and keeps the rows before it', () => {
  const b = new ExchangeColumnsBuilder(4);
  assert.equal(b.add(sampleFeatures(1), 0), null);
  assert.equal(b.add({ ...sampleFeatures(2), elicitation: Number.NaN }, 1), `Cannot store exchange "${sampleFeatures(2).id}": "elicitation" is NaN, expected a finite number`);
  assert.deepEqual(columnsOfRows([sampleFeatures(1), { ...sampleFeatures(3), ts: 1.5 }]), { ok: false, problem: `Cannot store exchange "${sampleFeatures(3).id}": "ts" is 1.5, expected a whole number below 2^53` });
  assert.deepEqual(rowsOfColumns(b.build()), rowsOfColumns(columns([sampleFeatures(1)])));
});

test('slices and concatenations keep the rows in order', () => {
  const rows = sampleRows(25);
  const all = columns(rows);
  const parts = [sliceColumns(all, 0, 7), sliceColumns(all, 7, 7), sliceColumns(all, 7, 25)];
  assert.deepEqual(parts.map((p) => p.length), [7, 0, 18]);
  const again = concatColumns(parts);
  assert.deepEqual(rowsOfColumns(again), rowsOfColumns(all));
  assert.deepEqual([...again.sizes], [...all.sizes]);
});

test('the columns cross threads with their typed arrays transferred, not copied', () => {
  const rows = sampleRows(12);
  const c = columns(rows);
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(c, columnBuffers(c));
    // Transferred: the sender's arrays are detached.
    assert.equal(c.sizes.length, 0);
    const got = receiveMessageOnPort(port2)?.message as ExchangeColumns;
    assert.deepEqual(rowsOfColumns(got), rowsOfColumns(columns(rows)));
  } finally {
    port1.close();
    port2.close();
  }
});

test('the engine\'s copy leaves out only the text columns it never reads, read back as null', () => {
  const rows = sampleRows(9);
  const all = columns(rows);
  const lean = withoutUnread(all);
  // The rows handed to the store are untouched.
  assert.deepEqual(rowsOfColumns(all), rowsOfColumns(columns(rows)));
  const left = new Set<string>(UNREAD_BY_ENGINE);
  for (const name of left) assert.ok(EXCHANGE_KINDS[EXCHANGE_NAMES.indexOf(name as (typeof EXCHANGE_NAMES)[number])]!.startsWith('text'), `${name} is a text column`);
  const full = rowsOfColumns(all);
  rowsOfColumns(lean).forEach((row, i) => {
    for (const name of EXCHANGE_NAMES) assert.deepEqual(row[name], left.has(name) ? null : full[i]![name], `${name} of row ${i}`);
  });
  // Less to copy across threads: the emptied columns hold nothing.
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(lean);
    const got = receiveMessageOnPort(port2)?.message as ExchangeColumns;
    assert.deepEqual(rowsOfColumns(got), rowsOfColumns(lean));
  } finally {
    port1.close();
    port2.close();
  }
});

test('the builder writes each column of a row into that column, nulls and absent values as null', () => {
  // A value of its own for every column of every row: a value written into another column shows.
  const rows = Array.from({ length: 24 }, (_, i) => {
    const r: Record<string, unknown> = {};
    EXCHANGE_NAMES.forEach((name, k) => {
      const kind = EXCHANGE_KINDS[k]!;
      if (kind.endsWith('?') && (i + k) % 4 === 0) {
        if ((i + k) % 8 !== 0) r[name] = null;
        return;
      }
      if (kind.startsWith('text')) r[name] = `${name}:${i}${i % 5 === 0 ? 'é' : ''}`;
      else if (kind.startsWith('bool')) r[name] = (i + k) % 2 === 1;
      else if (kind === 'float') r[name] = k + i / 8;
      else r[name] = k * 100 + i;
    });
    return r as unknown as ExchangeFeatures;
  });
  const c = columns(rows);
  EXCHANGE_NAMES.forEach((name, k) => {
    const col = c.columns[k]!;
    rows.forEach((row, i) => {
      const want = (row as unknown as Record<string, unknown>)[name] ?? null;
      const got = col.kind === 'text' ? col.values[i] : col.kind === 'bool' ? (col.values[i] === BOOL_NULL ? null : col.values[i] === 1) : Number.isNaN(col.values[i]!) ? null : col.values[i];
      assert.deepEqual(got, want, `${name} of row ${i}`);
    });
  });
  // Each row's size: 8 bytes a number or bool column, and its text's code units.
  const numbers = EXCHANGE_KINDS.filter((k) => !k.startsWith('text')).length;
  rows.forEach((row, i) => {
    let text = 0;
    EXCHANGE_NAMES.forEach((name, k) => {
      const v = (row as unknown as Record<string, unknown>)[name];
      if (EXCHANGE_KINDS[k]!.startsWith('text') && typeof v === 'string') text += v.length;
    });
    assert.equal(c.sizes[i], 8 * numbers + text, `size of row ${i}`);
  });
});
