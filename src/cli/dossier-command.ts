/** `distillwatch dossier CAMPAIGN --db PATH --out file.html|file.pdf`: a campaign's evidence dossier. */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { renderDossier, type DossierFormat } from '../dossier/render.js';
import { REDACTIONS, type Redaction } from '../dossier/redact.js';
import { UserError } from './errors.js';
import { openCommandStore, storeName, storeUrlOf } from './store-option.js';

export interface DossierCommandOptions {
  db?: string;
  store?: string;
  out: string;
  redact: Redaction;
  samples: number;
}

function formatOf(out: string): DossierFormat {
  const ext = extname(out).toLowerCase();
  if (ext === '.html' || ext === '.htm') return 'html';
  if (ext === '.pdf') return 'pdf';
  throw new UserError(`Cannot tell the format of --out "${out}": name it .html or .pdf`);
}

export async function runDossierCommand(campaignId: string, o: DossierCommandOptions): Promise<void> {
  const format = formatOf(o.out);
  if (!(REDACTIONS as readonly string[]).includes(o.redact)) throw new UserError(`--redact: "${o.redact}" is not one of ${REDACTIONS.join(', ')}`);
  const url = storeUrlOf(o, 'distillwatch.duckdb');
  const store = await openCommandStore(url, { readOnly: true });
  let r;
  try {
    r = await renderDossier(store, campaignId, format, { redaction: o.redact, samples: o.samples }, `the store "${storeName(url)}"`);
  } finally {
    await store.close();
  }
  if (!r.ok) throw new UserError(r.message);
  // Written beside and renamed, so a failed write never leaves half a document under the name.
  const tmp = `${o.out}.partial`;
  writeFileSync(tmp, r.body);
  renameSync(tmp, o.out);
  process.stderr.write(`wrote the dossier of ${campaignId} to ${o.out} (${r.format.toUpperCase()}, ${r.body.length} bytes)\n`);
}
