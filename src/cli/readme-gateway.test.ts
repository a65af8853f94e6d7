/**
 * The README's first gateway example, run as written: its config, its command, its curl.
 * Only the addresses change (the upstream is a stub, the ports are free ones), so that the
 * test can run beside others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useStubUpstreamAndTempDir } from '../gateway/_test-helpers.js';
import { runCli } from './_test-cli.js';

const README = fileURLToPath(new URL('../../README.md', import.meta.url));
const fixture = useStubUpstreamAndTempDir('dw-readme-');
const { dir } = fixture;

function run(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { cwd: dir });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    c.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    c.on('close', (code) => resolve({ stdout, stderr, code }));
  });
}

/** The first shell block of the README's Gateway section. */
function firstGatewayExample(): string[] {
  const text = readFileSync(README, 'utf8');
  const section = text.slice(text.indexOf('\n## Gateway\n'));
  const start = section.indexOf('```sh\n');
  assert.ok(start !== -1, 'the Gateway section has a shell example');
  const body = section.slice(start + 6, section.indexOf('```', start + 6));
  return body.split('\n');
}

test('the README\'s first gateway example works as written, and starts without a warning', async () => {
  const lines = firstGatewayExample();
  const heredoc = lines.findIndex((l) => /^cat > (\S+) <<'EOF'$/.test(l));
  assert.notEqual(heredoc, -1, 'the example writes its config');
  const file = /^cat > (\S+) <<'EOF'$/.exec(lines[heredoc]!)![1]!;
  const end = lines.indexOf('EOF', heredoc);
  const config = JSON.parse(lines.slice(heredoc + 1, end).join('\n')) as { upstream: string };
  assert.equal(config.upstream, 'http://127.0.0.1:9000');
  writeFileSync(join(dir, file), JSON.stringify({ ...config, upstream: fixture.stub.url }));

  const command = lines.find((l) => l.includes('npx distillwatch gateway'))!;
  const words = command.split(/\s+/);
  const env: Record<string, string> = {};
  while (/^[A-Z_]+=/.test(words[0]!)) {
    const [k, v] = words.shift()!.split('=') as [string, string];
    env[k] = v;
  }
  assert.deepEqual(words.slice(0, 2), ['npx', 'distillwatch']);
  const gw = runCli([...words.slice(2), '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { cwd: dir, env: { DISTILLWATCH_ADMIN_TOKEN: '', DISTILLWATCH_ADMIN_TOKEN_FILE: '', ...env } });
  try {
    await gw.waitFor(/gateway listening/);
    // Port 0, so that no other process can take the port first; the gateway says which it got.
    const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(gw.output())![1]!;
    const curl = lines.find((l) => l.startsWith('curl '))!.replace('127.0.0.1:8787', `127.0.0.1:${port}`);
    const which = spawnSync('sh', ['-c', 'command -v curl']);
    assert.equal(which.status, 0, 'the README example needs curl: install the curl package');
    // Not spawnSync: the stub model API answers from this process's event loop.
    const r = await run('sh', ['-c', curl + " -w '\\n%{http_code}'"]);
    const [answer, status] = r.stdout.trim().split('\n');
    assert.equal(status, '200', `${r.stdout} ${r.stderr}`);
    assert.equal((JSON.parse(answer!) as { choices: { message: { content: string } }[] }).choices[0]!.message.content, 'Hello from the stub');
  } finally {
    assert.equal(await gw.stop(), 0);
  }
  assert.deepEqual(gw.logLines().filter((l) => l.level >= 40), [], 'no warning at start');
});

test('a gateway started without keys, admin token or store says so, one line each', async () => {
  writeFileSync(join(dir, 'bare.json'), JSON.stringify({ upstream: fixture.stub.url }));
  const gw = runCli(['gateway', '--config', 'bare.json', '--listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'], { cwd: dir, env: { DISTILLWATCH_ADMIN_TOKEN: '', DISTILLWATCH_ADMIN_TOKEN_FILE: '' } });
  try {
    await gw.waitFor(/gateway listening/);
    await gw.waitFor(/no store/);
    const warnings = gw.logLines().filter((l) => l.level === 40).map((l) => l.msg);
    assert.equal(warnings.length, 3, warnings.join('\n'));
    assert.match(warnings[0]!, /no API keys .* refused with 401/);
    assert.match(warnings[1]!, /no admin token .*DISTILLWATCH_ADMIN_TOKEN/);
    assert.match(warnings[2]!, /no store/);
  } finally {
    await gw.stop();
  }
});
