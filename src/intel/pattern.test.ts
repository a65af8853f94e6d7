import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { equalityAlternatives, parsePattern, quote } from './pattern.js';
import { stixVendorDir } from './_test-stix-schemas.js';
import { stixId, uuidv5 } from './uuid5.js';

function patternsIn(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) patternsIn(p, out);
    else if (name.endsWith('.json')) {
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          const o = v as Record<string, unknown>;
          if (o['type'] === 'indicator' && o['pattern_type'] === 'stix' && typeof o['pattern'] === 'string') out.push(o['pattern']);
          Object.values(o).forEach(walk);
        }
      };
      walk(JSON.parse(readFileSync(p, 'utf8')));
    }
  }
  return out;
}

describe('STIX pattern parser', () => {
  it('accepts every pattern of the OASIS example bundles', () => {
    const patterns = patternsIn(join(stixVendorDir(), 'examples'));
    assert.ok(patterns.length >= 40, `${patterns.length} patterns`);
    for (const p of patterns) {
      const r = parsePattern(p);
      assert.ok(r.ok, `${p}: ${r.ok ? '' : r.error}`);
    }
  });

  it('accepts every construct of the grammar', () => {
    const valid = [
      "[file:hashes.'SHA-256' = 'aec070645fe53ee3b3763059376134f058cc337247c978add178b6ccdfb0019f']",
      "[email-message:from_ref.value MATCHES '.+\\\\@example\\\\.com$' AND email-message:body_multipart[*].body_raw_ref.name LIKE 'pdf%']",
      "[network-traffic:dst_port IN (80, 443, 8080)] REPEATS 5 TIMES WITHIN 180 SECONDS",
      "([ipv4-addr:value = '198.51.100.1'] OR [ipv4-addr:value = '198.51.100.2']) FOLLOWEDBY [domain-name:value = 'example.com']",
      "[file:size > 1024 AND file:size <= +2048 AND file:x_score >= -1.5 AND file:x_ratio < .5]",
      "[x509-certificate:validity_not_before >= t'2026-01-01T00:00:00Z'] START t'2026-01-01T00:00:00.000Z' STOP t'2026-02-01T00:00:00Z'",
      "[artifact:payload_bin = b'aGVsbG8=' OR artifact:x_hex = h'0a1B']",
      "[ipv4-addr:value ISSUBSET '198.51.100.0/24' AND NOT EXISTS ipv4-addr:resolves_to_refs OR ipv4-addr:x_flag = true]",
      "[ipv6-addr:value NOT = '::1' AND (ipv6-addr:value != '::2' OR ipv6-addr:value <> '::3')]",
      "[process:extensions.'windows-process-ext'.aslr_enabled = false AND process:child_refs[0].pid == 42]",
      "[ x-custom-object:'key with space' = 'it\\'s' /* comment */ ] // trailing",
      "[domain-name:value IN ()]",
    ];
    for (const p of valid) {
      const r = parsePattern(p);
      assert.ok(r.ok, `${p}: ${r.ok ? '' : r.error}`);
    }
  });

  it('refuses what the grammar does not produce, saying where', () => {
    const invalid: [string, RegExp][] = [
      ["ipv4-addr:value = '1.2.3.4'", /expected \[ or \( to start an observation expression at character 1/],
      ["[ipv4-addr:value = '1.2.3.4'", /expected \] at character 29, found the end/],
      ["[ipv4-addr:value = 1.2.3.4]", /character/],
      ["[ipv4-addr:value = 'unterminated]", /unterminated string or bad escape at character 20/],
      ["[ipv4-addr:value = 'bad \\escape']", /unterminated string or bad escape/],
      ["[ipv4-addr = '1.2.3.4']", /expected : at character 12, found "="/],
      ["[network-traffic:extensions.http-request-ext.request_header = 'x']", /character/],
      ["[file:size LIKE 5]", /expected a string after LIKE/],
      ["[file:size = 5] REPEATS 0.5 TIMES", /positive whole number after REPEATS/],
      ["[file:size = 5] WITHIN -3 SECONDS", /positive number after WITHIN/],
      ["[file:created = t'2026-13-01T00:00:00Z']", /character/],
      ["[file:size = 5] AND", /expected \[ or \(/],
      ["[file:size = 5] [file:size = 6]", /expected the end of the pattern/],
      ["[file:size ~ 5]", /unexpected character "~"/],
    ];
    for (const [p, why] of invalid) {
      const r = parsePattern(p);
      assert.equal(r.ok, false, p);
      if (!r.ok) assert.match(r.error, why, p);
    }
  });

  it('quotes any string so that it parses back to itself', () => {
    for (const s of ["it's", 'back\\slash', "both \\' at once", '', 'ünïcode ✓']) {
      const r = parsePattern(`[software:name = ${quote(s)}]`);
      assert.ok(r.ok);
      assert.deepEqual(equalityAlternatives(r.pattern), [new Map([['software:name', { kind: 'string', value: s }]])]);
    }
  });

  it('reads the equalities of a pattern as alternatives, AND within one, OR between', () => {
    const r = parsePattern("[distillation-mark:kind = 'harness' AND distillation-mark:value = 'ab12'] OR [ipv4-addr:value ISSUBSET '203.0.113.0/24' OR autonomous-system:number > 5]");
    assert.ok(r.ok);
    const alts = equalityAlternatives(r.pattern).map((m) => Object.fromEntries([...m].map(([k, v]) => [k, v.value])));
    assert.deepEqual(alts, [{ 'distillation-mark:kind': 'harness', 'distillation-mark:value': 'ab12' }, { 'ipv4-addr:value ISSUBSET': '203.0.113.0/24' }, {}]);
  });
});

describe('UUIDv5', () => {
  it('matches the RFC 9562 name-based UUID of a known name', () => {
    // Python: uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org')
    assert.equal(uuidv5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });
  it('gives a STIX id that depends only on the type and the name', () => {
    assert.equal(stixId('indicator', 'a'), stixId('indicator', 'a'));
    assert.notEqual(stixId('indicator', 'a'), stixId('indicator', 'b'));
    assert.notEqual(stixId('indicator', 'a').slice(-36), stixId('campaign', 'a').slice(-36));
  });
});
