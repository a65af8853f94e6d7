import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleFeatures } from './contract.js';
import { encodeExchange, EXCHANGE_NAMES, rowFits, rowProblem } from './exchange-columns.js';

test('encodeExchange encodes a row the store can take as one JSON object of its columns', () => {
  const row = sampleFeatures(3);
  const e = encodeExchange(row, 0);
  assert.equal(typeof e, 'string');
  assert.deepEqual(JSON.parse(e as string), row);
});

test('encodeExchange names the first column whose value the store cannot take', () => {
  assert.deepEqual(encodeExchange({ ...sampleFeatures(3), elicitation: Number.NaN }, 0), {
    problem: `Cannot store exchange "${sampleFeatures(3).id}": "elicitation" is NaN, expected a finite number`,
  });
  assert.deepEqual(encodeExchange({ ...sampleFeatures(3), id: 7 as unknown as string }, 4), {
    problem: 'Cannot store exchange 5 of the batch: "id" is 7, expected a string',
  });
  assert.deepEqual(encodeExchange({ ...sampleFeatures(3), n_messages: 2 ** 31 }, 0), {
    problem: `Cannot store exchange "${sampleFeatures(3).id}": "n_messages" is ${2 ** 31}, expected a whole number below 2^31`,
  });
});

test('rowFits agrees with rowProblem for every column and every kind of value', () => {
  const probes: unknown[] = [
    null, undefined, '', 'x', 'é😀', 0, -0, 1, -1, 0.5, 2 ** 31 - 1, 2 ** 31, -(2 ** 31), -(2 ** 31) - 1,
    2 ** 53 - 1, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, true, false, {}, [], 10n,
  ];
  let checked = 0;
  for (const base of [sampleFeatures(1), sampleFeatures(3)]) {
    assert.equal(rowFits(base), true);
    for (const name of EXCHANGE_NAMES) {
      for (const v of probes) {
        const row = { ...base, [name]: v };
        assert.equal(rowFits(row), rowProblem(row, 0) === null, `"${name}" set to ${String(v)}`);
        checked++;
      }
      // A column missing from the row altogether.
      const row: Record<string, unknown> = { ...base };
      delete row[name];
      assert.equal(rowFits(row as never), rowProblem(row as never, 0) === null, `"${name}" missing`);
    }
  }
  assert.equal(checked, 2 * EXCHANGE_NAMES.length * probes.length);
});
