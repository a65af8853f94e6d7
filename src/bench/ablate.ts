/**
 * Field families removed from logs before a scan, to measure what each one buys: a provider
 * whose logs lack payment data, or keep no prompt text, learns what detection it gets.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { createGunzip, createGzip } from 'node:zlib';
import type { Exchange } from '../core/exchange.js';

export const FIELD_FAMILIES = ['payment', 'network', 'client', 'timing', 'content', 'previews'] as const;
export type FieldFamily = (typeof FIELD_FAMILIES)[number];

const HOUR = 3_600_000;

/**
 * Removes one family's fields from an exchange, in place. `timing` keeps only the hour (logs
 * aggregated hourly); `content` blanks prompt and answer text (metadata-only logs);
 * `previews` changes nothing here: the scan keeps no prompt preview instead.
 */
export function dropFamily(ex: Exchange, family: FieldFamily): void {
  switch (family) {
    case 'payment':
      if (ex.account) delete ex.account.payment_fingerprint;
      return;
    case 'network':
      if (ex.client) {
        delete ex.client.ip;
        delete ex.client.asn;
        delete ex.client.asn_org;
      }
      return;
    case 'client':
      if (ex.client) delete ex.client.user_agent;
      return;
    case 'timing':
      ex.ts = new Date(Math.floor(Date.parse(ex.ts) / HOUR) * HOUR).toISOString();
      return;
    case 'content':
      for (const m of ex.request.messages) m.content = '';
      if (ex.request.system !== undefined) ex.request.system = '';
      if (ex.response) {
        ex.response.text = '';
        delete ex.response.reasoning;
      }
      return;
    case 'previews':
      return;
  }
}

/** Copies a gzip JSONL traffic file with the given families removed from every exchange. */
export async function writeAblated(input: string, output: string, families: readonly FieldFamily[]): Promise<void> {
  const out = createGzip({ level: 1 });
  const file = createWriteStream(output);
  out.pipe(file);
  const rl = createInterface({ input: createReadStream(input).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const ex = JSON.parse(line) as Exchange;
    for (const f of families) dropFamily(ex, f);
    if (!out.write(JSON.stringify(ex) + '\n')) await once(out, 'drain');
  }
  out.end();
  await once(file, 'close');
}
