#!/usr/bin/env node
/**
 * The `distillwatch` command line.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { StoreError } from '../store/errors.js';
import { InputError } from '../ingest/lines.js';
import { UserError } from './errors.js';
import { STORE_OPTION_HELP } from './store-option.js';
import { runScan } from './scan-command.js';
import { registerExtraCommands } from './commands.js';
import { registerProveCommand } from './prove-command.js';
import { registerIntelCommands } from './intel-command.js';

const FORMATS = ['auto', 'canonical', 'openai', 'anthropic', 'otel', 'batch'] as const;

function int(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a whole number, got "${v}"`);
    return n;
  };
}

const program = new Command();
program
  .name('distillwatch')
  .description('Detect, attribute and stop distillation campaigns in LLM API traffic')
  .version('0.1.0');

program
  .command('scan')
  .description('Read API logs (files, .gz, or - for stdin), find campaigns, write report.json')
  .argument('<logs...>', 'log files: canonical exchange JSONL, OpenAI or Anthropic logs, OTLP/JSON GenAI spans')
  .option('-o, --out <file>', 'report file', 'report.json')
  .option('--db <file>', 'embedded store (DuckDB file); data and results stay there for later queries (default: distillwatch.duckdb)')
  .option('--store <url>', STORE_OPTION_HELP)
  .addOption(new Option('--format <format>', 'input format').choices(FORMATS).default('auto'))
  .option('--account-attribute <name>', 'OpenTelemetry input: the span attribute that names the account, looked for before enduser.id and user.id')
  .option('--params <file>', 'detector parameters (JSON)')
  .option('--fresh', 'start from an empty store instead of adding to it')
  .option('--quarantine <file>', 'where bad records are set aside (JSONL); default: quarantine.jsonl beside the report')
  .option('--prompt-preview <chars>', 'characters of each prompt kept in the store (0 keeps none)', int('--prompt-preview'), 200)
  .option('--ip-hash-key-file <file>', 'hash IPs with this secret key (or set DISTILLWATCH_IP_HASH_KEY)')
  .option('--max-accounts <n>', 'accounts listed in the summary', int('--max-accounts'), 10)
  .option('--batch-size <n>', 'records committed together (a killed scan resumes after the last committed batch; default: 122880 for DuckDB, one row group, 20000 for ClickHouse)', int('--batch-size'))
  .option('--workers <n>', 'feature worker threads beside the one reading and storing and the detection engine\'s (0: all on one thread; default: one per core)', int('--workers'))
  .option('--db-memory <size>', "the store's memory budget (DuckDB syntax, e.g. 4GB; default: 768MB; a store made before exchange ids lost their index adds 96 bytes per stored exchange)")
  .option('--no-summary', 'do not print the summary')
  .option('--no-progress', 'no progress bar')
  .action(async (logs: string[], o) => {
    await runScan(logs, o);
  });

registerExtraCommands(program);
registerProveCommand(program);
registerIntelCommands(program);

program
  .command('serve')
  .description('Serve the investigation API over a store: campaigns, accounts, search, review queue, decisions and their audit')
  .option('--db <file>', 'the store a scan wrote (DuckDB file; default: distillwatch.duckdb)')
  .option('--store <url>', STORE_OPTION_HELP)
  .option('--listen <address>', 'address to listen on: PORT, HOST:PORT or [IPv6]:PORT', '127.0.0.1:8790')
  .option('--redis <url>', "the gateways' Redis: decisions reach them through it at once")
  .option('--gateway-admin <url>', "a gateway's admin address: the dashboard shows its shadow-mode would-have counts (token: DISTILLWATCH_GATEWAY_TOKEN, else the admin token)")
  .action(async (o) => {
    const { runServeCommand } = await import('./serve-command.js');
    await runServeCommand(o);
  });

program
  .command('dossier')
  .description("Write a campaign's evidence dossier for a policy or legal team: one self-contained HTML file, or PDF")
  .argument('<campaign>', 'campaign id, as the report names it (e.g. cmp_1)')
  .option('--db <file>', 'the store a scan wrote (DuckDB file; default: distillwatch.duckdb)')
  .option('--store <url>', STORE_OPTION_HELP)
  .requiredOption('--out <file>', 'the document to write: .html, or .pdf (printed with Chromium)')
  .option('--redact <policy>', 'prompt previews: mask (shortened, addresses, links, keys and numbers masked), omit (none shown) or none (as stored)', 'mask')
  .option('--samples <n>', 'sample exchanges shown', int('--samples'), 10)
  .action(async (campaign: string, o) => {
    const { runDossierCommand } = await import('./dossier-command.js');
    await runDossierCommand(campaign, o);
  });

program
  .command('worker')
  .description('Run a detection worker behind thin gateways: reads partitions of the exchange streams, computes features, hands rows to the linker')
  .requiredOption('--redis <url>', "the gateways' Redis")
  .option('--partitions <n>', 'partition streams (the gateways\' "analysis.partitions")', int('--partitions'), 8)
  .option('--prefix <prefix>', 'key prefix shared with the gateways', 'dw:')
  .option('--name <name>', 'this worker\'s name, unique among workers (default: host and pid)')
  .option('--lease-ms <ms>', 'how soon the partitions of a dead worker move to the others', int('--lease-ms'), 3000)
  .option('--ip-hash-key-file <file>', 'hash IPs with this secret key (or set DISTILLWATCH_IP_HASH_KEY)')
  .option('--log-prompts', 'log a preview of each prompt (off by default)')
  .action(async (o) => {
    const { runWorkerCommand } = await import('./live-command.js');
    await runWorkerCommand(o);
  });

program
  .command('linker')
  .description('Run the one linker behind the workers: stores their rows, links accounts into campaigns, pushes standings to every gateway')
  .requiredOption('--redis <url>', "the gateways' Redis")
  .option('--db <file>', 'the store (DuckDB file; short for --store duckdb://FILE)')
  .option('--store <url>', STORE_OPTION_HELP)
  .option('--partitions <n>', 'partition streams (the gateways\' "analysis.partitions")', int('--partitions'), 8)
  .option('--prefix <prefix>', 'key prefix shared with the gateways', 'dw:')
  .option('--link-interval-ms <ms>', 'how often linking runs', int('--link-interval-ms'), 5000)
  .action(async (o) => {
    const { runLinkerCommand } = await import('./live-command.js');
    await runLinkerCommand(o);
  });

const gateway = program
  .command('gateway')
  .description('Run the live gateway in front of the model API: score, log and enforce')
  .option('--config <file>', 'gateway config (JSON); reloaded on SIGHUP and on change')
  .option('--upstream <url>', 'model API to forward to')
  .option('--listen <address>', 'address to listen on: PORT, HOST:PORT or [IPv6]:PORT (default: the config file\'s "listen", else 127.0.0.1:8787)')
  .option('--admin-listen <address>', 'address of /metrics, /readyz and the admin routes (default: the config file\'s "adminListen", else 127.0.0.1:8788)')
  .option('--redis <url>', 'Redis URL shared by replicas (memory when absent)')
  .option('--db <file>', 'DuckDB store for the exchange log')
  .option('--store <url>', `the exchange log's store, ${STORE_OPTION_HELP}`)
  .action(async (o) => {
    const { runGatewayCommand } = await import('./gateway-command.js');
    await runGatewayCommand(o);
  });

gateway
  .command('hash-key')
  .description('Read an API key on stdin, print the form to list in the config\'s "keys" (sha256:<hex>)')
  .action(async () => {
    const { runHashKeyCommand } = await import('./gateway-command.js');
    await runHashKeyCommand();
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof StoreError) {
    // The store's messages name the file and what went wrong; a stack adds nothing for a user.
    process.stderr.write(`distillwatch: ${e.message}\n`);
    process.exit(1);
  }
  if (e instanceof UserError || e instanceof InputError) {
    process.stderr.write(`distillwatch: ${e.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`distillwatch: unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
