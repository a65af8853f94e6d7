/**
 * A campaign's dossier as a document: HTML, or PDF printed from that HTML. The command line
 * and the API both render it here.
 */
import type { StoreReader } from '../store/store.js';
import { buildDossier, DEFAULT_DOSSIER_OPTIONS, type DossierOptions } from './build.js';
import { dossierHtml } from './html.js';
import { htmlToPdf } from './pdf.js';

export const DOSSIER_FORMATS = ['html', 'pdf'] as const;
export type DossierFormat = (typeof DOSSIER_FORMATS)[number];

export type RenderedDossier =
  | { ok: true; format: 'html'; contentType: string; body: string }
  | { ok: true; format: 'pdf'; contentType: string; body: Buffer }
  | { ok: false; code: 'no_report' | 'unknown_campaign' | 'pdf_failed'; message: string };

export async function renderDossier(
  store: StoreReader,
  campaignId: string,
  format: DossierFormat,
  options: Partial<DossierOptions> = {},
  where?: string,
): Promise<RenderedDossier> {
  const built = await buildDossier(store, campaignId, { ...DEFAULT_DOSSIER_OPTIONS, preparedAt: new Date().toISOString(), ...options }, where);
  if (!built.ok) return built;
  const html = dossierHtml(built.dossier);
  if (format === 'html') return { ok: true, format, contentType: 'text/html; charset=utf-8', body: html };
  const pdf = await htmlToPdf(html);
  if (!pdf.ok) return { ok: false, code: 'pdf_failed', message: pdf.message };
  return { ok: true, format, contentType: 'application/pdf', body: pdf.pdf };
}
