import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ScanReport } from '../core/report.js';
import { exportBundle } from './export.js';
import { readBundle } from './import.js';
import { knownIndicators } from './known.js';
import { stixVendorDir } from './_test-stix-schemas.js';

const report: ScanReport = {
  generated_at: '2026-04-26T00:00:00.000Z',
  input: { exchanges: 100, accounts: 10, bad_records: 0 },
  accounts: [],
  campaigns: [
    {
      id: 'cmp_1',
      confidence: 0.9,
      accounts: ['a', 'b', 'c'],
      exchanges: 90,
      first_seen: '2026-04-22T00:00:00.000Z',
      last_seen: '2026-04-23T00:00:00.000Z',
      capabilities: { coding: 0.5 },
      tactics: [],
      indicators: { ips: ['203.0.113.7'], asns: [64500], payment_fingerprints: ['pm_1'], templates: ['t1'], user_agents: ['ua/1'], harnesses: ['h1', 'system:s1'], subnets: ['203.0.113.0/24'] },
      explanation: '',
      links: {},
    },
  ],
};

describe('STIX import', () => {
  it('reads back what an export wrote: each indicator with its source, confidence and the key it matches', () => {
    const out = exportBundle(report, { producer: 'Lab A' });
    assert.ok(out.ok);
    const r = readBundle(JSON.stringify(out.bundle), 'bundle.json');
    assert.ok(r.ok);
    assert.equal(r.value.bundleId, out.bundle.id);
    assert.deepEqual(r.value.skipped, []);
    assert.equal(r.value.indicators, 8);
    const keys = r.value.records.map((x) => x.key).sort((a, b) => String(a).localeCompare(String(b)));
    assert.deepEqual(keys, ['harness:h1', 'ip:203.0.113.7', null, null, 'payment:pm_1', 'subnet:203.0.113.0/24', 'system:s1', 'template:t1']);
    for (const x of r.value.records) {
      assert.equal(x.producer, 'Lab A');
      assert.equal(x.confidence, 90);
      assert.equal(x.bundleId, out.bundle.id);
      assert.equal(x.validFrom, '2026-04-22T00:00:00.000Z');
    }
  });

  it('matches on harness, prompt, template and payment marks only, not on addresses', () => {
    const out = exportBundle(report, { producer: 'Lab A' });
    assert.ok(out.ok);
    const r = readBundle(JSON.stringify(out.bundle), 'bundle.json');
    assert.ok(r.ok);
    const known = knownIndicators(r.value.records);
    assert.equal(known.size, 4);
    assert.deepEqual(known.lookup('payment:pm_1').map((k) => [k.bundleId, k.producer, k.confidence]), [[out.bundle.id, 'Lab A', 90]]);
    assert.deepEqual(known.lookup('ip:203.0.113.7'), []);
  });

  it('reads an OASIS example bundle, naming an absent producer as unknown', () => {
    const text = readFileSync(join(stixVendorDir(), 'examples', 'indicator-for-c2-ip-address.json'), 'utf8');
    const r = readBundle(text, 'c2.json');
    assert.ok(r.ok);
    assert.deepEqual(r.value.records, [
      { bundleId: 'bundle--44af6c39-c09b-49c5-9de2-394224b04982', producer: 'unknown producer', indicatorId: 'indicator--33fe3b22-0201-47cf-85d0-97c02164528d', pattern: "[ipv4-addr:value = '10.0.0.0']", confidence: null, validFrom: '2014-05-08T09:00:00.000000Z', key: 'ip:10.0.0.0' },
    ]);
  });

  it('sets aside an indicator whose pattern does not parse or is not STIX, keeping the rest', () => {
    const bundle = {
      type: 'bundle',
      id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
      objects: [
        { type: 'indicator', id: 'indicator--0f4ad4b8-8a4e-4f4a-b5a0-1c8d3d7c1e11', pattern_type: 'stix', pattern: "[ipv4-addr:value = '198.51.100.1'" },
        { type: 'indicator', id: 'indicator--0f4ad4b8-8a4e-4f4a-b5a0-1c8d3d7c1e12', pattern_type: 'sigma', pattern: 'title: x' },
        { type: 'indicator', id: 'indicator--0f4ad4b8-8a4e-4f4a-b5a0-1c8d3d7c1e13', pattern_type: 'stix', pattern: "[distillation-mark:kind = 'harness' AND distillation-mark:value = 'ab']", confidence: 101 },
        { type: 'indicator', id: 'indicator--0f4ad4b8-8a4e-4f4a-b5a0-1c8d3d7c1e14', pattern_type: 'stix', pattern: "[distillation-mark:kind = 'harness' AND distillation-mark:value = 'ab']", confidence: 70 },
      ],
    };
    const r = readBundle(JSON.stringify(bundle), 'partner.json');
    assert.ok(r.ok);
    assert.deepEqual(r.value.skipped, [
      { id: 'indicator--0f4ad4b8-8a4e-4f4a-b5a0-1c8d3d7c1e11', reason: 'pattern does not parse: expected ] at character 34, found the end' },
      { id: 'indicator--0f4ad4b8-8a4e-4f4a-b5a0-1c8d3d7c1e12', reason: 'pattern_type "sigma" (only "stix" is read)' },
      { id: 'indicator--0f4ad4b8-8a4e-4f4a-b5a0-1c8d3d7c1e13', reason: 'object 3: "confidence" Too big: expected number to be <=100' },
    ]);
    assert.deepEqual(r.value.records.map((x) => [x.key, x.confidence]), [['harness:ab', 70]]);
  });

  it('refuses a file that is not JSON or not a bundle, in one line naming the file', () => {
    const bad = readBundle('{"type": "bundle", ', 'x.json');
    assert.equal(bad.ok, false);
    if (!bad.ok) assert.match(bad.error, /^Cannot read "x\.json": not JSON \(.+\)$/);
    assert.deepEqual(readBundle('{"type": "report"}', 'y.json'), { ok: false, error: 'Cannot read "y.json": not a STIX 2.1 bundle ("type": Invalid input: expected "bundle")' });
  });
});
