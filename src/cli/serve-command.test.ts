import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { request } from 'undici';
import { runCli } from './_test-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TOKEN = 'serve-admin-token-0123';

test('serve answers the API on the address it prints, with the admin token, and stops on SIGTERM', async () => {
  const run = runCli(['serve', '--db', join(dir, 'a.duckdb'), '--listen', '127.0.0.1:0'], { env: { DISTILLWATCH_ADMIN_TOKEN: TOKEN } });
  try {
    await run.waitFor(/API at (http:\/\/127\.0\.0\.1:\d+)\/api\/v1/);
    const base = /API at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output())![1]!;
    const doc = await request(`${base}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(doc.statusCode, 200);
    assert.equal(((await doc.body.json()) as { openapi: string }).openapi, '3.1.0');
    const none = await request(`${base}/api/v1/campaigns`);
    await none.body.dump();
    assert.equal(none.statusCode, 401);
    const empty = await request(`${base}/api/v1/campaigns`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.deepEqual(await empty.body.json(), { total: 0, items: [] }, 'a store never scanned has no campaigns');
  } finally {
    assert.equal(await run.stop(), 0);
  }
});

test('serve refuses a bad address or tokens file with one line naming it and exit code 2', async () => {
  const badListen = runCli(['serve', '--db', join(dir, 'b.duckdb'), '--listen', 'localhost:http']);
  assert.equal(await badListen.exited, 2);
  assert.match(badListen.output(), /^distillwatch: --listen: .+\n$/);
  const tokens = join(dir, 'tokens.json');
  writeFileSync(tokens, JSON.stringify([{ name: 'ana', role: 'boss', token: 'analyst-token-0123456789' }]));
  const badTokens = runCli(['serve', '--db', join(dir, 'b.duckdb'), '--listen', '127.0.0.1:0'], { env: { DISTILLWATCH_TOKENS_FILE: tokens } });
  assert.equal(await badTokens.exited, 2);
  assert.match(badTokens.output(), /^distillwatch: Cannot read the tokens file ".*tokens\.json" \(DISTILLWATCH_TOKENS_FILE\): entry 0 "role": .+\n$/);
});
