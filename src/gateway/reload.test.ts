import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { loadConfigFile } from './config.js';
import { sleep, startStubUpstream, startTestGateway, type StubUpstream } from './_test-helpers.js';
import type { RunningGateway } from './start.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-reload-'));
const path = join(dir, 'gateway.json');
let stub: StubUpstream;
let gw: RunningGateway;

function config(keys: Record<string, string>): Record<string, unknown> {
  return { upstream: stub.url, listen: { host: '127.0.0.1', port: 0 }, adminListen: { host: '127.0.0.1', port: 0 }, keys, spoolDir: join(dir, 'spool') };
}

/** Writes the file the way editors and `sed -i` do: a new file renamed over the old one. */
function replaceByRename(value: Record<string, unknown>): void {
  const tmp = join(dir, '.gateway.json.tmp');
  writeFileSync(tmp, JSON.stringify(value));
  renameSync(tmp, path);
}

async function status(key: string): Promise<number> {
  const r = await request(gw.url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await r.body.dump();
  return r.statusCode;
}

/** Asks until the answer is `want`; the reload happens on a file event, whose time is the system's. */
async function until(key: string, want: number): Promise<number> {
  let got = 0;
  for (let i = 0; i < 200 && (got = await status(key)) !== want; i++) await sleep(50);
  return got;
}

before(async () => {
  stub = await startStubUpstream();
  writeFileSync(path, JSON.stringify(config({ 'sk-alice-0001': 'acct_alice' })));
  const r = loadConfigFile(path);
  if (!r.ok) throw new Error(r.error);
  gw = await startTestGateway(r.config, { configPath: path });
});
after(async () => {
  await gw.close();
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

test('config edits are still seen after the file is replaced by a rename, again and again', async () => {
  assert.equal(await status('sk-bob-0002'), 401);
  replaceByRename(config({ 'sk-alice-0001': 'acct_alice', 'sk-bob-0002': 'acct_bob' }));
  assert.equal(await until('sk-bob-0002', 200), 200, 'the first replaced file is read');
  replaceByRename(config({ 'sk-alice-0001': 'acct_alice' }));
  assert.equal(await until('sk-bob-0002', 401), 401, 'the second replaced file is read too');
  replaceByRename(config({ 'sk-bob-0002': 'acct_bob' }));
  assert.equal(await until('sk-alice-0001', 401), 401, 'and the third');
  assert.equal(await status('sk-bob-0002'), 200);
});

test('config edits are seen when delivered the way a Kubernetes ConfigMap volume does (a ..data link swapped)', async () => {
  const volume = join(dir, 'configmap');
  const version = (n: number, keys: Record<string, string>) => {
    mkdirSync(join(volume, `..v${n}`), { recursive: true });
    writeFileSync(join(volume, `..v${n}`, 'gateway.json'), JSON.stringify(config(keys)));
  };
  version(1, { 'sk-alice-0001': 'acct_alice' });
  symlinkSync(`..v1`, join(volume, '..data'));
  symlinkSync(join('..data', 'gateway.json'), join(volume, 'gateway.json'));
  const file = join(volume, 'gateway.json');
  const r = loadConfigFile(file);
  if (!r.ok) throw new Error(r.error);
  const mapped = await startTestGateway(r.config, { configPath: file });
  const ask = async (key: string) => {
    const res = await request(mapped.url + '/v1/chat/completions', {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }),
    });
    await res.body.dump();
    return res.statusCode;
  };
  try {
    assert.equal(await ask('sk-bob-0002'), 401);
    for (const [n, want] of [[2, 200], [3, 401]] as const) {
      version(n, want === 200 ? { 'sk-bob-0002': 'acct_bob' } : { 'sk-alice-0001': 'acct_alice' });
      // The kubelet's swap: a new link beside the old one, renamed over it.
      symlinkSync(`..v${n}`, join(volume, '..data_tmp'));
      renameSync(join(volume, '..data_tmp'), join(volume, '..data'));
      let got = 0;
      for (let i = 0; i < 200 && (got = await ask('sk-bob-0002')) !== want; i++) await sleep(50);
      assert.equal(got, want, `version ${n}`);
    }
  } finally {
    await mapped.close();
  }
});
