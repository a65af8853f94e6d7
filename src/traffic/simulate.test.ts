import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExchangeSchema, type Exchange } from '../core/exchange.js';
import { readExchanges } from '../ingest/read.js';
import { prepareSimulation, writeSimulation } from './simulate.js';

function collect(scenario: string, seed: number, scale?: number): Promise<{ exchanges: Exchange[]; truth: Awaited<ReturnType<typeof prepareSimulation>>['truth'] }> {
  return prepareSimulation({ scenario, seed, ...(scale ? { scale } : {}) }).then((s) => ({ exchanges: [...s.exchanges], truth: s.truth }));
}

describe('simulator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dw-sim-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('gives the same bytes for the same seed and different ones for another', async () => {
    await writeSimulation({ scenario: 'demo', seed: 5, out: join(dir, 'a.jsonl'), truthOut: join(dir, 'a.json') });
    await writeSimulation({ scenario: 'demo', seed: 5, out: join(dir, 'b.jsonl'), truthOut: join(dir, 'b.json') });
    await writeSimulation({ scenario: 'demo', seed: 6, out: join(dir, 'c.jsonl'), truthOut: join(dir, 'c.json') });
    assert.ok(readFileSync(join(dir, 'a.jsonl')).equals(readFileSync(join(dir, 'b.jsonl'))));
    assert.ok(!readFileSync(join(dir, 'a.jsonl')).equals(readFileSync(join(dir, 'c.jsonl'))));
  });

  it('gives the traffic it gave before writing was made faster, when the scenario has one shard', async () => {
    // Digest of the demo scenario, seed 5, lines and truth, taken before the writer was
    // rewritten: the detection benchmark's figures and the features snapshot rest on it.
    const sim = await prepareSimulation({ scenario: 'demo', seed: 5 });
    const h = createHash('sha256');
    let n = 0;
    for (const ex of sim.exchanges) {
      h.update(JSON.stringify(ex) + '\n');
      n++;
    }
    h.update(JSON.stringify(sim.truth));
    assert.equal(n, 27_086);
    assert.equal(h.digest('hex'), '374c7319143901fb1416da11b2ed5d7606583022b04449d7ff6f190338fb516b');
  });

  it('writes the same lines and truth whatever the number of worker threads', async () => {
    // Ban evasion registers a fresh pool and a ban while it runs: the truth's later parts come from the shards.
    const base = { scenario: 'ban-evasion', seed: 3, scale: 0.3, shards: 4 };
    const one = await writeSimulation({ ...base, workers: 1, out: join(dir, 'w1.jsonl.gz'), truthOut: join(dir, 'w1.json') });
    const two = await writeSimulation({ ...base, workers: 2, out: join(dir, 'w2.jsonl.gz'), truthOut: join(dir, 'w2.json') });
    assert.deepEqual(one, two);
    const lines1 = gunzipSync(readFileSync(join(dir, 'w1.jsonl.gz')));
    assert.ok(lines1.equals(gunzipSync(readFileSync(join(dir, 'w2.jsonl.gz')))), 'same lines with 1 and 2 workers');
    assert.ok(readFileSync(join(dir, 'w1.json')).equals(readFileSync(join(dir, 'w2.json'))), 'same truth with 1 and 2 workers');
    const text = lines1.toString('utf8').trimEnd().split('\n');
    assert.equal(text.length, one.exchanges);
    const ids = new Set<string>();
    let late = 0;
    let prev = -Infinity;
    const truth = JSON.parse(readFileSync(join(dir, 'w1.json'), 'utf8')) as Awaited<ReturnType<typeof prepareSimulation>>['truth'];
    for (const line of text) {
      const ex = ExchangeSchema.parse(JSON.parse(line));
      ids.add(ex.id);
      assert.ok(truth.accounts[ex.account_id], `${ex.account_id} is in the truth`);
      const ts = Date.parse(ex.ts);
      if (ts < prev - 10_000) late++;
      prev = Math.max(prev, ts);
    }
    assert.equal(ids.size, text.length, 'exchange ids are unique across shards');
    assert.equal(late, 0, 'disorder stays within seconds across shards');
    assert.equal(truth.bans.length, 1);
    const evaders = Object.values(truth.accounts).filter((a) => a.playbook === 'ban_evasion').length;
    assert.equal(truth.operators[truth.bans[0]!.operator]!.accounts, evaders, 'operators counted over every shard');
    // The scan's reader takes the file as written.
    let read = 0;
    for await (const item of readExchanges(join(dir, 'w2.jsonl.gz'), { format: 'canonical' })) {
      assert.equal(item.kind, 'exchange');
      read++;
    }
    assert.equal(read, one.exchanges);
    // The same shards merged in this thread, as the benchmark and the tests read them.
    const sim = await prepareSimulation(base);
    const h = createHash('sha256');
    for (const ex of sim.exchanges) h.update(JSON.stringify(ex) + '\n');
    assert.equal(h.digest('hex'), createHash('sha256').update(lines1).digest('hex'));
    assert.equal(JSON.stringify(sim.truth, null, 1) + '\n', readFileSync(join(dir, 'w1.json'), 'utf8'));
  });

  it('writes valid canonical records, nearly in time order, with every population and playbook labelled', async () => {
    const { exchanges, truth } = await collect('small', 2, 0.3);
    let late = 0;
    let prev = -Infinity;
    for (const ex of exchanges) {
      const r = ExchangeSchema.safeParse(ex);
      assert.ok(r.success, JSON.stringify(r.error?.issues?.[0]));
      const ts = Date.parse(ex.ts);
      if (ts < prev - 10_000) late++;
      prev = Math.max(prev, ts);
      assert.ok(truth.accounts[ex.account_id], `${ex.account_id} is in the truth`);
    }
    assert.equal(late, 0, 'disorder stays within seconds');
    const pops = new Set(Object.values(truth.accounts).map((a) => a.population));
    for (const p of ['ordinary', 'saas', 'enterprise', 'university', 'eval_run', 'coding_agent', 'release_mover', 'batch_pipeline', 'bystander', 'reseller_customer', 'attacker']) assert.ok(pops.has(p), p);
    const playbooks = new Set(Object.values(truth.accounts).filter((a) => a.malicious).map((a) => a.playbook));
    for (const p of ['hydra', 'synchronized', 'capability_sweep', 'model_pivot', 'entry_point_farming', 'adaptive', 'ban_evasion', 'relay']) assert.ok(playbooks.has(p), p);
  });

  it('has no client, parameter or account value that (almost) only attackers use', async () => {
    // Each one would be a shortcut a detector could learn from this simulator and that real
    // attackers do not offer. Tool definitions are left out on purpose: they come with the
    // prompt bank's items (as the prompt text does), not from a harness.
    const { exchanges, truth } = await collect('small', 3, 0.5);
    const fields: Record<string, (e: Exchange) => unknown> = {
      user_agent: (e) => e.client?.user_agent,
      max_tokens: (e) => e.request.max_tokens ?? 'none',
      temperature: (e) => e.request.temperature ?? 'none',
      model: (e) => e.model,
      tier: (e) => e.account?.tier,
      verified: (e) => e.account?.verified,
      email_tld: (e) => e.account?.email_domain?.split('.').pop(),
      country: (e) => e.client?.country,
      asn: (e) => e.client?.asn,
      thinking: (e) => e.request.thinking?.budget_tokens ?? 'none',
      stream: (e) => e.request.stream ?? 'none',
      has_system: (e) => e.request.system !== undefined,
      has_conversation_id: (e) => e.conversation_id !== undefined,
      has_org: (e) => e.org_id !== undefined,
      status: (e) => e.status,
    };
    for (const [field, get] of Object.entries(fields)) {
      const users = new Map<string, { attackers: Set<string>; benign: Set<string> }>();
      for (const e of exchanges) {
        const v = String(get(e));
        let u = users.get(v);
        if (!u) users.set(v, (u = { attackers: new Set(), benign: new Set() }));
        (truth.accounts[e.account_id]!.malicious ? u.attackers : u.benign).add(e.account_id);
      }
      for (const [v, u] of users) {
        const nearlyOnly = u.attackers.size >= 3 && u.benign.size <= Math.max(2, u.attackers.size / 50);
        assert.ok(!nearlyOnly, `${field}=${v} is used by ${u.attackers.size} attacker accounts and only ${u.benign.size} honest ones`);
      }
    }
  });

  it('gives people fewer visits with peopleVolume, the same accounts and the attackers\' volume', async () => {
    const count = async (peopleVolume?: number): Promise<{ people: number; attackers: number; accounts: Record<string, number> }> => {
      const sim = await prepareSimulation({ scenario: 'demo', seed: 5, ...(peopleVolume ? { peopleVolume } : {}) });
      let people = 0;
      let attackers = 0;
      const byAccount = new Map<string, number>();
      for (const ex of sim.exchanges) byAccount.set(ex.account_id, (byAccount.get(ex.account_id) ?? 0) + 1);
      const accounts: Record<string, number> = {};
      for (const [id, n] of byAccount) {
        const t = sim.truth.accounts[id]!;
        if (t.malicious) attackers += n;
        else if (t.population === 'ordinary' || t.population === 'bystander' || t.population === 'reseller_customer') people += n;
        accounts[t.population] = (accounts[t.population] ?? 0) + 1;
      }
      return { people, attackers, accounts };
    };
    const [full, quarter] = [await count(), await count(0.25)];
    assert.ok(quarter.people < full.people * 0.45 && quarter.people > full.people * 0.1, `${quarter.people} vs ${full.people} exchanges of people`);
    // Not scaled (their draws can shift a little where they meet shared streams of the world).
    assert.ok(Math.abs(quarter.attackers - full.attackers) <= 0.02 * full.attackers, `${quarter.attackers} vs ${full.attackers} attacker exchanges`);
    // Every account that had a day of activity at full volume still exists; a few quiet ones may send nothing.
    for (const [pop, n] of Object.entries(full.accounts)) assert.ok((quarter.accounts[pop] ?? 0) >= n * 0.7, `${pop}: ${quarter.accounts[pop]} of ${n} accounts`);
  });

  it('puts honest bystanders behind the addresses the hydra and the relay leave from', async () => {
    const { exchanges, truth } = await collect('at-scale', 8, 0.3);
    const attackerIps = new Set<string>();
    for (const e of exchanges) if (truth.accounts[e.account_id]!.malicious && e.client?.ip) attackerIps.add(e.client.ip);
    const sharing = new Map<string, { accounts: Set<string>; ips: Set<string> }>();
    for (const e of exchanges) {
      const pop = truth.accounts[e.account_id]!.population;
      if ((pop !== 'bystander' && pop !== 'reseller_customer') || !e.client?.ip) continue;
      let g = sharing.get(pop);
      if (!g) sharing.set(pop, (g = { accounts: new Set(), ips: new Set() }));
      if (attackerIps.has(e.client.ip)) g.accounts.add(e.account_id);
      g.ips.add(e.client.ip);
    }
    assert.ok((sharing.get('bystander')?.accounts.size ?? 0) >= 10, 'bystanders at home share an address with attackers');
    // A reseller's customer leaves from many exits of the pool, as the hydra does.
    assert.ok((sharing.get('reseller_customer')?.accounts.size ?? 0) >= 5);
    assert.ok((sharing.get('reseller_customer')?.ips.size ?? 0) >= 20);
  });

  it('runs each adaptive account on its own client and network, and splits the bank across accounts', async () => {
    const { exchanges, truth } = await collect('adaptive', 9, 0.5);
    const perAccount = new Map<string, { ips: Set<string>; uas: Set<string>; payments: Set<string>; prompts: Set<string> }>();
    for (const e of exchanges) {
      if (truth.accounts[e.account_id]!.playbook !== 'adaptive') continue;
      let a = perAccount.get(e.account_id);
      if (!a) perAccount.set(e.account_id, (a = { ips: new Set(), uas: new Set(), payments: new Set(), prompts: new Set() }));
      a.ips.add(e.client!.ip!);
      a.uas.add(e.client!.user_agent!);
      a.payments.add(e.account!.payment_fingerprint!);
      const last = e.request.messages[e.request.messages.length - 1]!;
      if (typeof last.content === 'string') a.prompts.add(last.content);
    }
    assert.ok(perAccount.size >= 30, `${perAccount.size} adaptive accounts`);
    const owners = new Map<string, number>();
    for (const a of perAccount.values()) {
      assert.equal(a.ips.size, 1, 'one IP per account');
      assert.equal(a.uas.size, 1, 'one client per account');
      assert.equal(a.payments.size, 1, 'one payment method per account');
      for (const ip of a.ips) owners.set(ip, (owners.get(ip) ?? 0) + 1);
    }
    assert.ok([...owners.values()].every((n) => n === 1), 'no two accounts share an IP');
  });

  it('replaces a banned pool with a fresh one after the ban', async () => {
    const { exchanges, truth } = await collect('ban-evasion', 4);
    const ban = Date.parse(truth.bans[0]!.at);
    const before = new Set<string>();
    const after = new Set<string>();
    for (const e of exchanges) {
      if (truth.accounts[e.account_id]?.playbook !== 'ban_evasion') continue;
      (Date.parse(e.ts) < ban ? before : after).add(e.account_id);
    }
    assert.ok(before.size > 0 && after.size > 0);
    for (const a of after) assert.ok(!before.has(a), 'no account of the banned pool comes back');
  });

  const datasets = process.env['DISTILLWATCH_DATASETS'];
  it('draws prompts from public prompt sets when given a folder of them', { skip: datasets && existsSync(datasets) ? false : 'set DISTILLWATCH_DATASETS to a folder of prompt sets to run this' }, async () => {
    const sim = await prepareSimulation({ scenario: 'demo', seed: 1, datasetsDir: datasets! });
    let n = 0;
    for (const _ of sim.exchanges) if (++n > 1000) break;
    assert.ok(n > 1000);
  });
});
