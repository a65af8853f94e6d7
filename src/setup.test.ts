/**
 * The project's set-up as a newcomer meets it: the licence, the command after a clone,
 * and a test run on a machine that lacks a program the tests need.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function withoutTestContext(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_TEST_CONTEXT'];
  return env;
}

test('the licence file is the Apache-2.0 text that package.json names, with the copyright line', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { license: string };
  assert.equal(pkg.license, 'Apache-2.0');
  const text = readFileSync(join(ROOT, 'LICENSE'), 'utf8');
  assert.match(text, /^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
  assert.match(text, /TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION/);
  assert.match(text, /END OF TERMS AND CONDITIONS/);
  assert.match(text, /Copyright 2026 The DistillWatch authors/);
});

test('npx distillwatch works in a fresh clone once its packages are installed: the install builds', { timeout: 300_000 }, () => {
  const clone = mkdtempSync(join(tmpdir(), 'dw-clone-'));
  try {
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'src']) cpSync(join(ROOT, f), join(clone, f), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
    assert.equal(existsSync(join(clone, 'dist')), false);
    // What `npm ci` and `npm install` run once the packages are in place.
    const prepare = spawnSync('npm', ['run', 'prepare'], { cwd: clone, encoding: 'utf8' });
    assert.equal(prepare.status, 0, prepare.stderr + prepare.stdout);
    // A cache of its own: npx remembers a package without its command, and must not find one here.
    const env = { ...process.env, npm_config_cache: join(clone, '.npm-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false' };
    const npx = spawnSync('npx', ['distillwatch', '--version'], { cwd: clone, encoding: 'utf8', env });
    assert.equal(npx.status, 0, npx.stderr);
    assert.equal(npx.stdout.trim(), '0.1.0');
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
});

test('the test command ends with a failure naming the package when redis-server is missing', { timeout: 180_000 }, async () => {
  // A PATH with node and nothing else: no redis-server, no apt-get to install it with.
  const bin = mkdtempSync(join(tmpdir(), 'dw-bin-'));
  try {
    symlinkSync(process.execPath, join(bin, 'node'));
    const child = spawn(process.execPath, ['scripts/run-tests.mjs', 'gateway/redis.test'], {
      cwd: ROOT,
      // Without NODE_TEST_CONTEXT, which would make the inner runner report to this one instead of exiting with its result.
      env: { ...withoutTestContext(), PATH: bin, DISTILLWATCH_NO_INSTALL: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    // A safety net far beyond the seconds this takes: a run that hangs is stopped and fails here.
    let hung = false;
    const limit = setTimeout(() => {
      hung = true;
      process.kill(-child.pid!, 'SIGKILL');
    }, 120_000);
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    clearTimeout(limit);
    assert.equal(hung, false, `the test run hung: ${out.slice(-2000)}`);
    assert.notEqual(code, 0, 'a missing service fails the run, it is not skipped');
    assert.match(out, /redis-server not found: install the Debian package redis-server/);
    assert.match(out, /# fail [1-9]/);
  } finally {
    rmSync(bin, { recursive: true, force: true });
  }
});
