// Builds the dashboard into dist/web/, which `serve` hands out at `/`.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: { outDir: fileURLToPath(new URL('../../dist/web/', import.meta.url)), emptyOutDir: true, chunkSizeWarningLimit: 400 },
  logLevel: 'warn',
});
