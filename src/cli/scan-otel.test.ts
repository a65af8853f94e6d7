import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './_test-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'dw-scan-otel-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });

/**
 * OTLP/JSON lines of `n` calls: the GenAI client spans first, their server spans (which
 * alone name the tenant) in a later part of the file, past the reader's first chunk of
 * a MiB, as a collector writes them when the server spans end last.
 */
function otelInput(n: number): string {
  const trace = (i: number) => i.toString(16).padStart(32, '0');
  const padding = 'x'.repeat(600);
  const chats: string[] = [];
  const servers: string[] = [];
  for (let i = 1; i <= n; i++) {
    const chat = {
      traceId: trace(i),
      spanId: '00000000000000c1',
      parentSpanId: '00000000000000a1',
      startTimeUnixNano: String(1776845703000000000n + BigInt(i) * 1000000000n),
      endTimeUnixNano: String(1776845704000000000n + BigInt(i) * 1000000000n),
      attributes: [
        str('gen_ai.operation.name', 'chat'),
        str('gen_ai.request.model', 'gpt-test'),
        str('gen_ai.input.messages', JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: `question ${i} ${padding}` }] }])),
      ],
    };
    const server = { traceId: trace(i), spanId: '00000000000000a1', startTimeUnixNano: chat.startTimeUnixNano, attributes: [str('tenant', `tenant_${i % 4}`)] };
    chats.push(JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [chat] }] }] }));
    servers.push(JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans: [server] }] }] }));
  }
  return [...chats, ...servers].join('\n') + '\n';
}

test('scan takes the account from --account-attribute on an ancestor span, with feature workers, across the chunks of a file', async () => {
  const input = join(dir, 'spans.jsonl');
  writeFileSync(input, otelInput(2000));
  const run = (name: string, extra: string[]) => {
    const out = join(dir, `${name}.json`);
    const cli = runCli(['scan', input, '--format', 'otel', '--db', join(dir, `${name}.duckdb`), '--out', out, '--quarantine', join(dir, `${name}.quarantine.jsonl`), '--no-progress', '--no-summary', '--workers', '2', ...extra]);
    return { cli, out, name };
  };
  const named = run('named', ['--account-attribute', 'tenant']);
  assert.equal(await named.cli.exited, 0, named.cli.output());
  const report = JSON.parse(readFileSync(named.out, 'utf8')) as { input: { exchanges: number; accounts: number; bad_records: number } };
  assert.deepEqual({ exchanges: report.input.exchanges, accounts: report.input.accounts, bad_records: report.input.bad_records }, { exchanges: 2000, accounts: 4, bad_records: 0 });

  // Without the attribute no span names its account: nothing could be read, so the scan fails.
  const unnamed = run('unnamed', []);
  assert.equal(await unnamed.cli.exited, 2, unnamed.cli.output());
  assert.match(unnamed.cli.output(), /No exchange could be read: all 2000 records were bad/);
  const quarantine = readFileSync(join(dir, 'unnamed.quarantine.jsonl'), 'utf8').trim().split('\n');
  assert.equal(quarantine.length, 2000, 'every span without an account is set aside on its own');
  assert.match(JSON.parse(quarantine[0]!).reason, /no account id/);
});
