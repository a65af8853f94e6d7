import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { CampaignReport, ScanReport } from '../core/report.js';
import { exportBundle, type StixBundle } from './export.js';
import { parsePattern } from './pattern.js';
import { stixValidator } from './_test-stix-schemas.js';
import { MARK_EXTENSION } from './vocabulary.js';

function campaign(id: string, over: Partial<CampaignReport> = {}): CampaignReport {
  return {
    id,
    confidence: 0.934,
    accounts: ['acct_1', 'acct_2', 'acct_3'],
    exchanges: 4200,
    first_seen: '2026-04-22T03:10:00.000Z',
    last_seen: '2026-04-25T22:48:12.345Z',
    first_flagged_at: '2026-04-22T09:00:00.000Z',
    capabilities: { coding: 0.41, reasoning: 0.3, general_chat: 0.02 },
    tactics: ['cot_elicitation', 'hydra_proxy'],
    indicators: {
      ips: ['203.0.113.7', '2001:db8::42', 'hmac:5f2a9c0d'],
      asns: [64500, 64501],
      payment_fingerprints: ['pm_fp_1a2b3c'],
      templates: ['99c09743365dc17a'],
      // A quote and a backslash must be escaped in the pattern's string literal.
      user_agents: ['litellm/1.52.0', "harvest's \\client/2"],
      harnesses: ['2507bcaaa04a9cea', 'system:4fe4fe3dff44b5b7'],
      subnets: ['203.0.113.0/24', '2001:db8:0::/48', 'hmac:77aa'],
    },
    explanation: '3 accounts linked by shared harness made 4200 exchanges.',
    links: { harness: 3 },
    ...over,
  };
}

function report(campaigns: CampaignReport[]): ScanReport {
  return { generated_at: '2026-04-26T00:00:00.000Z', input: { exchanges: 9000, accounts: 40, bad_records: 0 }, campaigns, accounts: [] };
}

const byId = (b: StixBundle) => new Map(b.objects.map((o) => [o.id, o]));

describe('STIX export', () => {
  const r = exportBundle(report([campaign('cmp_1'), campaign('cmp_2', { first_seen: '2026-04-23T00:00:00.000Z', indicators: { ...campaign('x').indicators, harnesses: ['e31039ac00dc0aa2'] } })]), { tlp: 'amber+strict', producer: 'Lab A' });
  assert.ok(r.ok);
  const bundle = r.bundle;

  it('validates against the OASIS STIX 2.1 schemas, the bundle and every object by its type', () => {
    const v = stixValidator();
    // The bundle schema takes an object of a type it does not list when exactly one of the
    // SDO and SCO core schemas accepts it; both accept an extension-definition, whatever it
    // holds, so the envelope is checked without it and it is checked against its own schema.
    assert.deepEqual(v.errors({ ...bundle, objects: bundle.objects.filter((o) => o.type !== 'extension-definition') }), []);
    assert.ok(bundle.objects.some((o) => o.type === 'extension-definition'));
    for (const o of bundle.objects) assert.deepEqual(v.errors(o), [], `${o.id}`);
  });

  it('writes only patterns that the STIX pattern grammar accepts', () => {
    const patterns = bundle.objects.filter((o) => o.type === 'indicator').map((o) => String(o['pattern']));
    assert.ok(patterns.length > 10);
    for (const p of patterns) assert.deepEqual(parsePattern(p).ok, true, p);
    assert.ok(patterns.includes("[ipv4-addr:value = '203.0.113.7']"));
    assert.ok(patterns.includes("[ipv6-addr:value = '2001:db8::42']"));
    assert.ok(patterns.includes("[ipv4-addr:value ISSUBSET '203.0.113.0/24']"));
    assert.ok(patterns.includes('[autonomous-system:number = 64500]'));
    assert.ok(patterns.includes("[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'harvest\\'s \\\\client/2']"));
    assert.ok(patterns.includes("[distillation-mark:kind = 'system-prompt' AND distillation-mark:value = '4fe4fe3dff44b5b7']"));
    assert.ok(patterns.includes("[distillation-mark:kind = 'payment-fingerprint' AND distillation-mark:value = 'pm_fp_1a2b3c']"));
  });

  it('leaves out keyed hashes of addresses, which mean nothing without the key', () => {
    assert.ok(!JSON.stringify(bundle).includes('hmac:'));
  });

  it('gives every campaign its first and last seen, its objective and the ATLAS techniques it uses', () => {
    const objects = byId(bundle);
    const campaigns = bundle.objects.filter((o) => o.type === 'campaign');
    assert.equal(campaigns.length, 2);
    const c = campaigns[0]!;
    assert.equal(c['first_seen'], '2026-04-22T03:10:00.000Z');
    assert.equal(c['last_seen'], '2026-04-25T22:48:12.345Z');
    assert.match(String(c['objective']), /coding \(41%\), reasoning \(30%\)/);
    const used = bundle.objects.filter((o) => o.type === 'relationship' && o['relationship_type'] === 'uses' && o['source_ref'] === c.id).map((o) => objects.get(String(o['target_ref']))!);
    const atlas = used.map((t) => (t['external_references'] as { source_name: string; external_id: string }[])[0]!);
    assert.deepEqual(atlas.map((x) => `${x.source_name} ${x.external_id}`).sort(), ['mitre-atlas AML.T0024', 'mitre-atlas AML.T0024.002']);
    const indicates = bundle.objects.filter((o) => o.type === 'relationship' && o['relationship_type'] === 'indicates' && o['target_ref'] === c.id);
    assert.ok(indicates.length >= 10);
  });

  it('publishes the distillation-mark extension under one id and marks every shared object with the chosen TLP', () => {
    const ext = bundle.objects.find((o) => o.type === 'extension-definition')!;
    assert.equal(ext.id, MARK_EXTENSION.id);
    assert.equal(ext.id, 'extension-definition--37740dcb-c0e7-5ddc-9976-30641451001a');
    const tlp = bundle.objects.filter((o) => o.type === 'marking-definition');
    assert.deepEqual(tlp.map((m) => m['name']), ['TLP:AMBER+STRICT']);
    for (const o of bundle.objects) {
      if (['campaign', 'indicator', 'relationship', 'report', 'attack-pattern'].includes(o.type)) assert.deepEqual(o['object_marking_refs'], [tlp[0]!.id], o.id);
    }
  });

  it('refers only to objects in the bundle, and its report ties them all', () => {
    const objects = byId(bundle);
    for (const o of bundle.objects) {
      for (const [k, v] of Object.entries(o)) {
        const refs = k.endsWith('_ref') ? [v] : k.endsWith('_refs') ? (v as unknown[]) : [];
        for (const ref of refs) assert.ok(objects.has(String(ref)), `${o.id} ${k} ${String(ref)}`);
      }
    }
    const rep = bundle.objects.filter((o) => o.type === 'report');
    assert.equal(rep.length, 1);
    const tied = new Set(rep[0]!['object_refs'] as string[]);
    for (const o of bundle.objects) if (['campaign', 'indicator', 'relationship', 'attack-pattern'].includes(o.type)) assert.ok(tied.has(o.id), o.id);
  });

  it('gives the same objects with the same ids on a re-export', () => {
    const again = exportBundle(report([campaign('cmp_1'), campaign('cmp_2', { first_seen: '2026-04-23T00:00:00.000Z', indicators: { ...campaign('x').indicators, harnesses: ['e31039ac00dc0aa2'] } })]), { tlp: 'amber+strict', producer: 'Lab A' });
    assert.ok(again.ok);
    assert.deepEqual(again.bundle, bundle);
    const ids = bundle.objects.map((o) => o.id);
    assert.equal(new Set(ids).size, ids.length, 'no id twice');
    for (const id of ids) assert.match(id, /^[a-z-]+--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('exports one campaign with --campaign, keeping its objects\' ids', () => {
    const one = exportBundle(report([campaign('cmp_1'), campaign('cmp_2')]), { tlp: 'amber+strict', producer: 'Lab A', campaign: 'cmp_1' });
    assert.ok(one.ok);
    assert.equal(one.campaigns, 1);
    const full = byId(bundle);
    for (const o of one.bundle.objects) if (o.type === 'campaign' || o.type === 'indicator') assert.ok(full.has(o.id), o.id);
  });

  it('says what is wrong when there is nothing to export', () => {
    assert.deepEqual(exportBundle(report([])), { ok: false, error: 'Nothing to export: the latest scan flagged no campaign' });
    assert.deepEqual(exportBundle(report([campaign('cmp_1')]), { campaign: 'cmp_9' }), { ok: false, error: 'Cannot export campaign "cmp_9": the latest scan has only "cmp_1"' });
  });
});
