/**
 * The dashboard's static files (built by Vite into `dist/web/`) served at `/`. The files hold
 * no data: the page asks the API for everything with the analyst's token, so they need none.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { extname, join, normalize, sep } from 'node:path';
import type { Context } from 'hono';

/** Where `npm run build` puts the dashboard, beside the compiled server. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

export type DashboardFile = { ok: true; body: Buffer; type: string; immutable: boolean } | { ok: false };

/** Reads a file of the dashboard; `/` and unknown page paths get the page itself, as its routes live in the fragment. */
export async function dashboardFile(dir: string, urlPath: string): Promise<DashboardFile> {
  const rel = normalize(decodeURIComponent(urlPath)).replace(/^[/\\]+/, '');
  // A path climbing out of the folder is refused, whatever it decodes to.
  if (rel.split(sep).includes('..')) return { ok: false };
  const isAsset = rel.startsWith('assets' + sep) || rel.startsWith('assets/');
  const file = rel === '' || !extname(rel) ? 'index.html' : rel;
  try {
    const body = await readFile(join(dir, file));
    return { ok: true, body, type: TYPES[extname(file)] ?? 'application/octet-stream', immutable: isAsset };
  } catch {
    return { ok: false };
  }
}

/** A Hono handler for the dashboard's paths; a dashboard not built answers a one-line 404 saying how to build it. */
export function dashboardHandler(dir: string = DASHBOARD_DIR) {
  return async (c: Context) => {
    if (c.req.path.startsWith('/api/')) return c.json({ error: { type: 'not_found_error', message: `No route "${c.req.path}"` } }, 404);
    const f = await dashboardFile(dir, c.req.path);
    if (!f.ok) {
      if (c.req.path === '/' || !extname(c.req.path)) return c.text('The dashboard is not built: run "npm run build"\n', 404);
      return c.text('Not found\n', 404);
    }
    return c.body(new Uint8Array(f.body), 200, {
      'content-type': f.type,
      // Vite names assets by their content hash, so they never change; the page itself may.
      'cache-control': f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
  };
}
