/**
 * The dossier as PDF, printed by headless Chromium (Debian's `chromium`, driven by
 * playwright-core: no browser download). Every network request is refused, so the PDF shows
 * exactly the self-contained document.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

/** Where Chromium is looked for; DISTILLWATCH_CHROMIUM names another. */
export const chromiumPath = (): string => process.env.DISTILLWATCH_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export type PdfResult = { ok: true; pdf: Buffer } | { ok: false; message: string };

export async function htmlToPdf(html: string): Promise<PdfResult> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) return { ok: false, message: `Cannot make a PDF: no Chromium at "${executablePath}" (install the Debian package chromium, or set DISTILLWATCH_CHROMIUM)` };
  // A fresh profile each time: nothing carried over between documents.
  const profile = mkdtempSync(join(tmpdir(), 'dw-dossier-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: FLAGS, offline: true, javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.route('**/*', (route) => route.abort());
      await page.setContent(html, { waitUntil: 'load' });
      const pdf = await page.pdf({ format: 'A4', printBackground: true, margin: { top: '14mm', bottom: '14mm', left: '12mm', right: '12mm' } });
      return { ok: true, pdf };
    } finally {
      await context.close();
    }
  } catch (err) {
    return { ok: false, message: `Cannot make a PDF with Chromium at "${executablePath}": ${(err as Error).message.split('\n')[0]}` };
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
