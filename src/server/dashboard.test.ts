import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { dashboardFile, dashboardHandler } from './dashboard.js';

function builtDashboard(): string {
  // The page's folder inside a folder of its own, beside a file it must never hand out.
  const dir = join(mkdtempSync(join(tmpdir(), 'dw-web-')), 'web');
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>DistillWatch</title>');
  writeFileSync(join(dir, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, '..', 'secret.txt'), 'outside');
  return dir;
}

describe('the dashboard files', () => {
  it('serves the page at / and at page paths, assets with a long cache, and nothing outside its folder', async () => {
    const dir = builtDashboard();
    try {
      const app = new Hono().get('*', dashboardHandler(dir));
      const root = await app.request('/');
      assert.equal(root.status, 200);
      assert.match(root.headers.get('content-type')!, /text\/html/);
      assert.equal(root.headers.get('cache-control'), 'no-cache');
      assert.match(await root.text(), /DistillWatch/);
      assert.equal((await app.request('/campaigns')).status, 200, 'a page path gets the page');
      const js = await app.request('/assets/index-abc.js');
      assert.equal(js.status, 200);
      assert.match(js.headers.get('content-type')!, /javascript/);
      assert.match(js.headers.get('cache-control')!, /immutable/);
      assert.equal((await app.request('/assets/nope.js')).status, 404);
      assert.equal((await app.request('/%2e%2e/secret.txt')).status, 404);
      assert.deepEqual(await dashboardFile(dir, '/../secret.txt'), { ok: false });
      const api = await app.request('/api/v1/nope');
      assert.equal(api.status, 404);
      assert.equal(((await api.json()) as { error: { type: string } }).error.type, 'not_found_error', 'an unknown API path is an API 404, not the page');
    } finally {
      rmSync(join(dir, '..'), { recursive: true, force: true });
    }
  });

  it('says how to build it when it is not built', async () => {
    const app = new Hono().get('*', dashboardHandler(join(tmpdir(), 'dw-no-such-dashboard')));
    const r = await app.request('/');
    assert.equal(r.status, 404);
    assert.equal(await r.text(), 'The dashboard is not built: run "npm run build"\n');
  });
});
