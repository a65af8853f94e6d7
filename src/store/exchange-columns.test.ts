import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sampleFeatures } from './contract.js';
import { encodeExchange } from './exchange-columns.js';

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
