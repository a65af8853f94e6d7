import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, parseConfig } from './config.js';

test('a misspelt config key is refused, named, with the file it is in', () => {
  const path = join(mkdtempSync(join(tmpdir(), 'dw-conf-')), 'gateway.json');
  writeFileSync(path, JSON.stringify({ upstream: 'http://127.0.0.1:9000', keyz: { 'sk-1': 'acct_1' } }));
  const r = loadConfigFile(path);
  assert.deepEqual(r, { ok: false, error: `Cannot read gateway config "${path}": unknown key "keyz"` });
});

test('a misspelt key inside the policy or listen is refused with its path', () => {
  const policy = parseConfig({ upstream: 'http://127.0.0.1:9000', policy: { allowList: ['a'] } });
  assert.deepEqual(policy, { ok: false, error: 'Cannot read gateway config: unknown key "policy.allowList"' });
  const listen = parseConfig({ upstream: 'http://127.0.0.1:9000', listen: { host: '127.0.0.1', prot: 1 } });
  assert.deepEqual(listen, { ok: false, error: 'Cannot read gateway config: unknown key "listen.prot"' });
  const throttle = parseConfig({ upstream: 'http://127.0.0.1:9000', policy: { throttle: { rate: 1 } } });
  assert.equal(throttle.ok, false);
});
