import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { knownIndicators } from '../intel/known.js';
import { INDICATOR_KINDS, indicatorKey, kindOf, parseIndicatorKey } from './indicators.js';

describe('indicator keys', () => {
  it('reads back the kind every key was built with, whatever its value holds', () => {
    for (const kind of INDICATOR_KINDS) {
      for (const value of ['', 'x', '203.0.113.7', '2001:db8::1', 'a:b:c', 'ip:subnet', '9f3a'.repeat(16)]) {
        assert.equal(kindOf(indicatorKey(kind, value)), kind, `${kind} ${value}`);
      }
    }
  });

  it('takes text from outside only when it names a kind of indicator', () => {
    assert.equal(parseIndicatorKey('harness:9f3a'), 'harness:9f3a');
    assert.equal(parseIndicatorKey('ip:2001:db8::1'), 'ip:2001:db8::1');
    for (const text of ['hash:9f3a', 'ipv6:2001:db8::1', 'Harness:9f3a', ':9f3a', 'harness', '', 'sys:x', 'phrases:x']) {
      assert.equal(parseIndicatorKey(text), null, text);
    }
  });

  it('leaves out an imported mark whose kind is not one the engine keys on, though it starts like one', () => {
    const record = (key: string) => ({ bundleId: 'bundle--1', producer: 'Lab A', indicatorId: `indicator--${key}`, key, pattern: `[x:value = '${key}']`, confidence: 80, validFrom: null });
    const set = knownIndicators([record('hash:9f3a'), record('system:5e1d'), record('payload:77'), record('harness:9f3a')]);
    assert.equal(set.size, 2);
    assert.equal(set.lookup(indicatorKey('harness', '9f3a')).length, 1);
    assert.equal(set.lookup(indicatorKey('system', '5e1d')).length, 1);
  });
});
