import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { sig64 } from '../signals/hash.js';
import { feat } from './_test-features.js';
import { DetectionEngine } from './engine.js';

const T0 = Date.parse('2026-05-01T00:00:00Z');

/** One account fed `n` exchanges 30 s apart in which every address, client, prompt, sentence and conversation is new. */
function engineFedDistinct(n: number): DetectionEngine {
  const engine = new DetectionEngine();
  for (let i = 0; i < n; i++) {
    engine.observe(
      feat({
        account_id: 'heavy',
        ts: T0 + i * 30_000,
        ip: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
        subnet: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.0/24`,
        asn: 64_000 + i,
        user_agent: `client/${i}`,
        payment_fp: `card-${i}`,
        org_id: `org-${i}`,
        model: `model-${i}`,
        harness_sig: `h-${i}`,
        system_sig: `s-${i}`,
        prompt_hash: sig64(`prompt ${i}`),
        phrase_sigs: `${sig64(`sentence a ${i}`)} ${sig64(`sentence b ${i}`)}`,
        conversation_id: `conv-${i}`,
        n_user_turns: 1 + (i % 3),
      }),
    );
  }
  engine.finish();
  return engine;
}

describe('engine state bytes', () => {
  it('holds no more bytes for an account after 100,000 all-distinct exchanges than after 1,000', () => {
    const light = engineFedDistinct(1_000).stateBytes();
    const heavy = engineFedDistinct(100_000).stateBytes();
    assert.ok(light.accounts > 0 && light.total >= light.accounts);
    assert.ok(heavy.accounts <= light.accounts * 1.1, `account: ${heavy.accounts} bytes after 100,000 exchanges against ${light.accounts} after 1,000`);
    assert.ok(heavy.total <= light.total * 1.1, `engine: ${heavy.total} bytes after 100,000 exchanges against ${light.total} after 1,000`);
  });

  it('estimates the live heap of 2,000 accounts within a factor of 1.5', () => {
    const probe = fileURLToPath(new URL('./_state-bytes-probe.js', import.meta.url));
    const out = execFileSync(process.execPath, ['--expose-gc', probe, '2000', '50'], { encoding: 'utf8', timeout: 120_000 });
    const { heap, estimate } = JSON.parse(out) as { heap: number; estimate: { total: number } };
    const ratio = estimate.total / heap;
    assert.ok(ratio > 1 / 1.5 && ratio < 1.5, `estimate ${estimate.total} bytes against ${heap} bytes of heap (ratio ${ratio.toFixed(2)})`);
  });
});
