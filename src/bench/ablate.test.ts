import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Exchange } from '../core/exchange.js';
import { readExchanges } from '../ingest/read.js';
import { writeSimulation } from '../traffic/simulate.js';
import { writeAblated } from './ablate.js';

async function read(file: string): Promise<Exchange[]> {
  const out: Exchange[] = [];
  for await (const item of readExchanges(file)) if (item.kind === 'exchange') out.push(item.exchange);
  return out;
}

describe('ablated logs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-ablate-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lose exactly the removed families and stay valid, readable logs', async () => {
    const full = join(dir, 'full.jsonl.gz');
    await writeSimulation({ scenario: 'demo', seed: 3, scale: 0.2, out: full, truthOut: join(dir, 'truth.json') });
    const cut = join(dir, 'cut.jsonl.gz');
    await writeAblated(full, cut, ['payment', 'network', 'client', 'timing', 'content']);
    const before = await read(full);
    const afterCut = await read(cut);
    assert.equal(afterCut.length, before.length, 'nothing lost but the fields');
    for (const [i, ex] of afterCut.entries()) {
      assert.equal(ex.account_id, before[i]!.account_id);
      assert.equal(ex.account?.payment_fingerprint, undefined);
      assert.equal(ex.client?.ip, undefined);
      assert.equal(ex.client?.asn, undefined);
      assert.equal(ex.client?.user_agent, undefined);
      assert.equal(Date.parse(ex.ts) % 3_600_000, 0, 'only the hour is left');
      assert.ok(ex.request.messages.every((m) => m.content === ''), 'no prompt text is left');
      assert.equal(ex.account?.tier, before[i]!.account?.tier, 'other fields are kept');
    }
  });
});
