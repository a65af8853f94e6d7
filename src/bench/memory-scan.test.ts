import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from './detection.js';

describe('memoryScan', () => {
  it('gives the verdicts, times and campaigns of a scan through the store', async () => {
    const [stored, memory] = [await runScenario({ scenario: 'demo', seed: 13 }), await runScenario({ scenario: 'demo', seed: 13, scan: 'memory' })];
    assert.ok(stored.detectors[0]!.tp > 0, 'the demo has campaigns to find');
    assert.deepEqual(memory.detectors, stored.detectors);
    assert.deepEqual(memory.reconstruction, stored.reconstruction);
    assert.deepEqual(memory.ttdSamples, stored.ttdSamples);
    assert.equal(memory.exchanges, stored.exchanges);
    assert.equal(memory.accounts, stored.accounts);
  });
});
