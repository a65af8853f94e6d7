import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { request } from 'undici';
import { useStubUpstreamAndTempDir } from '../gateway/_test-helpers.js';
import { runCli } from './_test-cli.js';

const fixture = useStubUpstreamAndTempDir('dw-gwcmd-');
const { dir } = fixture;

/**
 * The address the gateway says it bound (`what`: "listening on" or "metrics and admin on").
 * Every gateway here listens on port 0, so no other process can take its port first; the
 * host (any of loopback's 127.0.0.0/8) tells which setting was used.
 */
function bound(output: string, what: string): string {
  const m = new RegExp(`${what} (http://[\\d.]+:\\d+)`).exec(output);
  assert.ok(m, `no "${what}" address in: ${output}`);
  return m[1]!;
}

async function ask(base: string, key = 'sk-alice-0001'): Promise<number> {
  const r = await request(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'm1', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await r.body.dump();
  return r.statusCode;
}

function writeConfig(name: string, value: Record<string, unknown>): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ upstream: fixture.stub.url, keys: { 'sk-alice-0001': 'acct_alice' }, adminListen: { host: '127.0.0.1', port: 0 }, ...value }));
  return path;
}

test('gateway listens where the config file says when no --listen is given', async () => {
  const config = writeConfig('listen.json', { listen: { host: '127.0.0.2', port: 0 } });
  const cli = runCli(['gateway', '--config', config], { cwd: dir });
  try {
    await cli.waitFor(/gateway listening/);
    const base = bound(cli.output(), 'listening on');
    assert.match(base, /^http:\/\/127\.0\.0\.2:\d+$/);
    assert.equal(await ask(base), 200);
  } finally {
    assert.equal(await cli.stop(), 0);
  }
});

test('--listen given explicitly wins over the config file', async () => {
  const config = writeConfig('listen-flag.json', { listen: { host: '127.0.0.2', port: 0 } });
  const cli = runCli(['gateway', '--config', config, '--listen', '127.0.0.3:0'], { cwd: dir });
  try {
    await cli.waitFor(/gateway listening/);
    const base = bound(cli.output(), 'listening on');
    assert.match(base, /^http:\/\/127\.0\.0\.3:\d+$/);
    assert.equal(await ask(base), 200);
  } finally {
    await cli.stop();
  }
});

test('--listen with a bare port listens on loopback at that port', async () => {
  // Port 0: the system picks one, which the gateway reports; the host must be loopback.
  const cli = runCli(['gateway', '--config', writeConfig('bare.json', { listen: { host: '127.0.0.2', port: 9 } }), '--listen', '0'], { cwd: dir });
  try {
    await cli.waitFor(/gateway listening/);
    const base = bound(cli.output(), 'listening on');
    assert.match(base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(base, 'http://127.0.0.1:0');
    assert.equal(await ask(base), 200);
  } finally {
    await cli.stop();
  }
});

test('a listen address that cannot be read ends with a one-line error and exit code 2', async () => {
  for (const bad of ['127.0.0.1:99999', 'localhost:', '::1:8787', 'eighty']) {
    const cli = runCli(['gateway', '--upstream', fixture.stub.url, '--listen', bad], { cwd: dir });
    const code = await cli.exited;
    assert.equal(code, 2, `exit code for ${bad}: ${cli.output()}`);
    assert.match(cli.output(), /^distillwatch: --listen: Invalid listen address ".*": .+\n$/, bad);
  }
});

test('a port already in use ends with a one-line error and exit code 2, no stack trace', async () => {
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  const port = (taken.address() as { port: number }).port;
  try {
    const cli = runCli(['gateway', '--upstream', fixture.stub.url, '--listen', `127.0.0.1:${port}`], { cwd: dir });
    const code = await cli.exited;
    assert.equal(code, 2, cli.output());
    assert.equal(cli.output().trim().split('\n').filter((l) => !l.startsWith('{')).join('\n'), `distillwatch: Cannot listen on 127.0.0.1:${port}: address already in use`);
    assert.doesNotMatch(cli.output(), /\n\s+at /);
  } finally {
    await new Promise<void>((r) => taken.close(() => r()));
  }
});

test('gateway hash-key prints the sha256 form of the key on stdin, which the gateway then accepts', async () => {
  const cli = runCli(['gateway', 'hash-key'], { cwd: dir, stdin: 'sk-carol-0004\n' });
  assert.equal(await cli.exited, 0);
  const entry = cli.output().trim();
  assert.match(entry, /^sha256:[0-9a-f]{64}$/);
  assert.doesNotMatch(cli.output(), /sk-carol/);
  const config = writeConfig('hashed.json', { keys: { [entry]: 'acct_carol' } });
  const gw = runCli(['gateway', '--config', config, '--listen', '127.0.0.1:0'], { cwd: dir });
  try {
    await gw.waitFor(/gateway listening/);
    const base = bound(gw.output(), 'listening on');
    assert.equal(await ask(base, 'sk-carol-0004'), 200);
    assert.equal(await ask(base, entry), 401);
  } finally {
    await gw.stop();
  }
  const empty = runCli(['gateway', 'hash-key'], { cwd: dir, stdin: '' });
  assert.equal(await empty.exited, 2);
  assert.match(empty.output(), /^distillwatch: Cannot hash the key: stdin is empty/);
});

test('an admin token file that cannot be read ends with a one-line error and exit code 2', async () => {
  const missing = join(dir, 'no-such-token');
  const cli = runCli(['gateway', '--config', writeConfig('token.json', {}), '--listen', '127.0.0.1:0'], { cwd: dir, env: { DISTILLWATCH_ADMIN_TOKEN: '', DISTILLWATCH_ADMIN_TOKEN_FILE: missing } });
  assert.equal(await cli.exited, 2, cli.output());
  assert.equal(cli.output(), `distillwatch: Cannot read the admin token file "${missing}" (DISTILLWATCH_ADMIN_TOKEN_FILE): no such file\n`);
});

test('--admin-listen moves the metrics and admin routes; the clients\' port keeps only the API and /healthz', async () => {
  const cli = runCli(['gateway', '--config', writeConfig('admin.json', {}), '--listen', '0', '--admin-listen', '127.0.0.4:0'], { cwd: dir, env: { DISTILLWATCH_ADMIN_TOKEN: 'tok' } });
  try {
    await cli.waitFor(/gateway listening/);
    const base = bound(cli.output(), 'listening on');
    const admin = bound(cli.output(), 'metrics and admin on');
    assert.match(admin, /^http:\/\/127\.0\.0\.4:\d+$/);
    const m = await request(`${admin}/metrics`, { headers: { authorization: 'Bearer tok' } });
    assert.equal(m.statusCode, 200);
    await m.body.dump();
    const p = await request(`${base}/metrics`, { headers: { authorization: 'Bearer tok' } });
    assert.equal(p.statusCode, 404);
    await p.body.dump();
  } finally {
    await cli.stop();
  }
});
