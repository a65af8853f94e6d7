/**
 * `distillwatch intel export` and `intel import`: campaigns out as a STIX 2.1 bundle, another
 * provider's indicators in, kept in the store with where they came from.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { exportBundle } from '../intel/export.js';
import { readBundle } from '../intel/import.js';
import { TLP_LEVELS, type TlpLevel } from '../intel/vocabulary.js';
import { detect } from '../pipeline/scan.js';
import { formatSummary } from '../report/summary.js';
import { UserError } from './errors.js';
import { openCommandStore, STORE_OPTION_HELP, storeName, storeUrlOf, type StoreFlags } from './store-option.js';

function storeOf(o: StoreFlags): string {
  const url = storeUrlOf(o);
  if (url === undefined) throw new UserError('Cannot tell which store: give --db PATH or --store URL');
  return url;
}

export function registerIntelCommands(program: Command): void {
  const intel = program.command('intel').description('Share indicators with other providers as STIX 2.1 bundles, and import theirs');

  intel
    .command('export')
    .description("Write the latest scan's flagged campaigns as a STIX 2.1 bundle")
    .option('--db <file>', 'the store a scan wrote (DuckDB file)')
    .option('--store <url>', STORE_OPTION_HELP)
    .requiredOption('-o, --out <file>', 'bundle file to write (JSON)')
    .option('--campaign <id>', 'only this campaign (its id in report.json)')
    .addOption(new Option('--tlp <level>', 'TLP 2.0 marking of every object').choices(TLP_LEVELS).default('amber'))
    .option('--producer <name>', 'the name of your organisation, as the bundle\'s identity', 'DistillWatch')
    .action(async (o: StoreFlags & { out: string; campaign?: string; tlp: TlpLevel; producer: string }) => {
      const url = storeOf(o);
      const store = await openCommandStore(url, { readOnly: true });
      try {
        const report = await store.latestReport();
        if (!report) throw new UserError(`No report in the store "${storeName(url)}": no scan has finished into it`);
        const r = exportBundle(report, { tlp: o.tlp, producer: o.producer, ...(o.campaign !== undefined ? { campaign: o.campaign } : {}) });
        if (!r.ok) throw new UserError(r.error);
        writeFileSync(o.out, JSON.stringify(r.bundle, null, 2) + '\n');
        process.stderr.write(`wrote ${o.out}: ${r.campaigns} campaign${r.campaigns === 1 ? '' : 's'}, ${r.indicators} indicators, ${r.bundle.objects.length} objects, TLP:${o.tlp.toUpperCase()}\n`);
      } finally {
        await store.close();
      }
    });

  intel
    .command('import')
    .description("Store another provider's STIX 2.1 indicators; later scans of the store use them as evidence")
    .argument('<bundle>', 'STIX 2.1 bundle (JSON)')
    .option('--db <file>', 'the store to import into (DuckDB file; made when absent)')
    .option('--store <url>', STORE_OPTION_HELP)
    .option('--detect', 'replay the store through detection now, with the imported indicators, and save a new report')
    .action(async (file: string, o: StoreFlags & { detect?: boolean }) => {
      if (!existsSync(file) || !statSync(file).isFile()) throw new UserError(`Cannot read "${file}": no such file`);
      const read = readBundle(readFileSync(file, 'utf8'), file);
      if (!read.ok) throw new UserError(read.error);
      const b = read.value;
      if (b.records.length === 0) {
        const why = b.skipped[0] ? `; first set aside: ${b.skipped[0].id}: ${b.skipped[0].reason}` : '';
        throw new UserError(`Nothing to import from "${file}": ${b.indicators} indicators, none readable${why}`);
      }
      const store = await openCommandStore(storeOf(o));
      try {
        const out = await store.importIntel(b.records);
        const matchable = new Set(b.records.filter((r) => r.key !== null).map((r) => r.indicatorId)).size;
        process.stderr.write(
          `imported ${b.bundleId} from ${file}: ${b.indicators - b.skipped.length} of ${b.indicators} indicators (${matchable} matchable), ${out.inserted} new records, ${out.duplicates} already stored\n`,
        );
        for (const s of b.skipped.slice(0, 5)) process.stderr.write(`  set aside ${s.id}: ${s.reason}\n`);
        if (b.skipped.length > 5) process.stderr.write(`  ... and ${b.skipped.length - 5} more set aside\n`);
        if (o.detect) {
          const { report } = await detect({ store });
          process.stdout.write(formatSummary(report, { maxAccounts: 10, color: process.stdout.isTTY === true }) + '\n');
        }
      } finally {
        await store.close();
      }
    });
}
