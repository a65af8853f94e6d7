import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startStubUpstream, waitForOutput, type StubUpstream } from './_test-helpers.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'dw-gwcli-'));
let stub: StubUpstream;
let child: ChildProcess | null = null;

before(async () => {
  stub = await startStubUpstream();
});
after(async () => {
  child?.kill('SIGKILL');
  await stub.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ask(url: string, key: string): Promise<number> {
  const r = await request(url + '/v1/chat/completions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await r.body.dump();
  return r.statusCode;
}

test('a reloaded config keeps the flags given on the command line', async () => {
  const config = join(dir, 'gateway.json');
  // No upstream in the file: it comes from the flag, and must survive the reload.
  writeFileSync(config, JSON.stringify({ keys: { 'sk-alice-0001': 'acct_alice' }, spoolDir: join(dir, 'spool') }));
  // Port 0: the gateway binds a free port itself and says which in its first line.
  child = spawn(process.execPath, [CLI, 'gateway', '--config', config, '--upstream', stub.url, '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const started = await waitForOutput(child, /gateway listening on http:\/\/127\.0\.0\.1:\d+/);
  const url = /gateway listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(started)![1]!;
  assert.equal(await ask(url, 'sk-alice-0001'), 200);
  assert.equal(await ask(url, 'sk-bob-0002'), 401);

  let reloaded = waitForOutput(child, /config (not )?reloaded/);
  writeFileSync(config, JSON.stringify({ keys: { 'sk-alice-0001': 'acct_alice', 'sk-bob-0002': 'acct_bob' }, spoolDir: join(dir, 'spool') }));
  await reloaded;
  assert.doesNotMatch(out, /config not reloaded/);
  assert.equal(await ask(url, 'sk-bob-0002'), 200, 'the new key works after the reload');
  assert.equal(await ask(url, 'sk-alice-0001'), 200, 'and the upstream from the flag still answers');

  // A setting read only at start: the reload says so and keeps the one in force.
  out = '';
  reloaded = waitForOutput(child, /config reloaded/);
  writeFileSync(config, JSON.stringify({ keys: { 'sk-alice-0001': 'acct_alice' }, spoolDir: join(dir, 'other-spool'), replicaId: 'gw9' }));
  await reloaded;
  assert.match(out, /only change on a restart/);
  assert.match(out, /spoolDir/);
  assert.match(out, /replicaId/);
  assert.equal(await ask(url, 'sk-bob-0002'), 401, 'the rest of the new config is in force');

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((r) => child!.once('exit', r));
  assert.equal(code, 0);
  child = null;
});
