import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { collectAll, fixtureWriter } from './test-fixtures.js';
import { readExchangeBatches, readExchanges, type ReadExchangesOptions, type ReadItem } from './read.js';

const fixture = fixtureWriter('dw-read-');
const collect = (path: string, opts?: ReadExchangesOptions): Promise<ReadItem[]> => collectAll(readExchanges(path, opts));

function canonical(i: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `ex_${i}`,
    ts: `2026-04-22T08:${String(i % 60).padStart(2, '0')}:00Z`,
    account_id: `acct_${i % 3}`,
    model: 'frontier-2',
    request: { messages: [{ role: 'user', content: `question ${i}` }] },
    ...extra,
  };
}

const line = (v: unknown): string => JSON.stringify(v);

function summary(items: ReadItem[]): Array<[number, string]> {
  return items.map((it) => (it.kind === 'exchange' ? [it.line, `exchange ${it.exchange.id}`] : [it.bad.line, it.bad.reason]));
}

describe('readExchanges', () => {
  test('readExchanges sets aside every kind of bad line with its file, line and reason', async () => {
    const content = Buffer.concat([
      Buffer.from(
        [
          line(canonical(1)),
          '',
          '{"id":"x","ts":',
          line(canonical(4, { model: 5 })),
          line({ ...canonical(5), account_id: undefined }),
        ].join('\n') + '\n',
      ),
      Buffer.from('{"id":"bad utf8 \xff\xfe"}\n', 'latin1'),
      Buffer.from(`{"pad":"${'p'.repeat(10000)}"}\n`),
      Buffer.from(line(canonical(8, { ts: 'the 8th of April' })) + '\n'),
      Buffer.from(line(canonical(9)) + '\r\n'),
    ]);
    const p = fixture(content, 'mixed.jsonl');
    const items = await collect(p, { maxLineBytes: 4096 });
    assert.deepEqual(summary(items), [
      [1, 'exchange ex_1'],
      [3, `Cannot parse line 3 of "${p}": unexpected end of JSON input`],
      [4, `Cannot parse line 4 of "${p}": "model" must be a string, not a number`],
      [5, `Cannot parse line 5 of "${p}": "account_id" is missing`],
      [6, `Cannot read line 6 of "${p}": not valid UTF-8`],
      [7, `Cannot read line 7 of "${p}": longer than the limit of 4 KiB`],
      [8, `Cannot parse line 8 of "${p}": "ts" is not an ISO-8601 timestamp`],
      [9, 'exchange ex_9'],
    ]);
    for (const it of items) {
      if (it.kind !== 'bad') continue;
      assert.equal(it.bad.file, p);
      assert.ok(it.bad.excerpt.length > 0 && it.bad.excerpt.length <= 200, `excerpt of line ${it.bad.line}`);
    }
    const long = items.find((it) => it.kind === 'bad' && it.bad.line === 7);
    assert.ok(long?.kind === 'bad' && long.bad.excerpt.startsWith('{"pad":"ppp') && long.bad.excerpt.length === 200);
  });

  test('readExchanges yields nothing for an empty file', async () => {
    assert.deepEqual(await collect(fixture('')), []);
  });

  test('readExchanges reads gzip input with CRLF endings and a BOM', async () => {
    const text = '\uFEFF' + [canonical(1), canonical(2), canonical(3)].map(line).join('\r\n');
    const items = await collect(fixture(gzipSync(text), 'day1.jsonl.gz'));
    assert.deepEqual(summary(items), [
      [1, 'exchange ex_1'],
      [2, 'exchange ex_2'],
      [3, 'exchange ex_3'],
    ]);
  });

  test('readExchanges with skipLines yields exactly the lines after the checkpoint', async () => {
    const lines = Array.from({ length: 50 }, (_, i) => (i % 7 === 3 ? 'not json' : line(canonical(i + 1))));
    const p = fixture(lines.join('\n') + '\n');
    const all = summary(await collect(p));
    for (const k of [0, 1, 4, 25, 49, 50, 80]) {
      assert.deepEqual(summary(await collect(p, { skipLines: k })), all.filter(([ln]) => ln > k), `skipLines ${k}`);
    }
  });

  test('readExchanges detects OpenAI logs and maps each line', async () => {
    const log = (i: number): unknown => ({
      id: `log_${i}`,
      ts: '2026-04-22T08:15:03Z',
      metadata: { account_id: `acct_${i}` },
      request: { model: 'gpt-4o', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `q${i}` }] },
      response: { choices: [{ message: { role: 'assistant', content: `a${i}` }, finish_reason: 'stop' }] },
    });
    const p = fixture([log(1), log(2), { ...(log(3) as object), metadata: {} }].map(line).join('\n'));
    const items = await collect(p);
    assert.deepEqual(summary(items).slice(0, 2), [
      [1, 'exchange log_1'],
      [2, 'exchange log_2'],
    ]);
    const first = items[0];
    assert.ok(first?.kind === 'exchange');
    assert.equal(first.exchange.request.system, 'Be brief.');
    assert.equal(first.exchange.response?.text, 'a1');
    const bad = items[2];
    assert.ok(bad?.kind === 'bad');
    assert.match(bad.bad.reason, /^Cannot parse line 3 of ".*": no account id \(looked at /);
  });

  test('readExchanges detects Anthropic logs', async () => {
    const p = fixture(
      line({
        ts: '2026-04-22T09:00:00Z',
        account_id: 'acct_1',
        request: { model: 'claude-x', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] },
        response: { id: 'msg_1', type: 'message', content: [{ type: 'thinking', thinking: 'hm' }, { type: 'text', text: 'Hello' }] },
      }) + '\n',
    );
    const [item] = await collect(p);
    assert.ok(item?.kind === 'exchange');
    assert.equal(item.exchange.id, 'msg_1');
    assert.equal(item.exchange.response?.reasoning, 'hm');
  });

  const NO_PROMPT =
    'no prompt: the span has no "gen_ai.input.messages", "gen_ai.prompt.N.*" or "llm.input_messages.N.*" attributes and no gen_ai.*.message log record or event joined to it (is message content capture enabled, and are its log records in the same input?)';
  test('readExchanges reads an OTel export, keeping good spans and reporting each bad span on its own', async () => {
    const attr = (key: string, v: string): unknown => ({ key, value: { stringValue: v } });
    const span = (id: string, attrs: unknown[]): unknown => ({
      traceId: 'ab'.repeat(16),
      spanId: id,
      startTimeUnixNano: '1776845703000000000',
      endTimeUnixNano: '1776845703500000000',
      attributes: attrs,
    });
    const chat = [attr('gen_ai.operation.name', 'chat'), attr('gen_ai.request.model', 'm'), attr('gen_ai.input.messages', '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]')];
    const exp = {
      resourceSpans: [
        {
          resource: { attributes: [attr('enduser.id', 'acct_9')] },
          scopeSpans: [{ spans: [span('0000000000000001', chat), span('0000000000000002', chat.slice(0, 2)), span('0000000000000003', chat.slice(0, 2)), span('0000000000000004', [attr('db.system', 'postgresql')])] }],
        },
      ],
    };
    const p = fixture(line(exp) + '\n' + line(span('0000000000000005', [...chat, attr('enduser.id', 'acct_8')])) + '\n');
    const items = await collect(p);
    assert.deepEqual(summary(items), [
      // The spans share a trace, mapped at the end of the input.
      [2, `exchange ${'ab'.repeat(16)}0000000000000001`],
      [1, `Cannot parse line 1 of "${p}": span "0000000000000002": ${NO_PROMPT}`],
      [1, `Cannot parse line 1 of "${p}": span "0000000000000003": ${NO_PROMPT}`],
      [2, `exchange ${'ab'.repeat(16)}0000000000000005`],
    ]);
  });

  test('readExchanges reports an unrecognisable first record and detects the format from the next', async () => {
    const p = fixture(['[1,2,3]', '{"hello":"world"}', line(canonical(3)), line(canonical(4))].join('\n'));
    const items = summary(await collect(p));
    assert.equal(items.length, 4);
    assert.match(items[0]![1], /^Cannot parse line 1 of ".*": unknown record format/);
    assert.match(items[1]![1], /^Cannot parse line 2 of ".*": unknown record format/);
    assert.deepEqual(items.slice(2), [
      [3, 'exchange ex_3'],
      [4, 'exchange ex_4'],
    ]);
  });

  test('readExchanges reads with the format it is given instead of detecting one', async () => {
    const p = fixture(line(canonical(1)) + '\n');
    const items = summary(await collect(p, { format: 'otel' }));
    assert.deepEqual(items, [[1, `Cannot parse line 1 of "${p}": "resourceSpans" is missing: not an OTLP trace or log export, or a span`]]);
  });

  test('readExchangeBatches yields the same items as readExchanges', async () => {
    const p = fixture(Array.from({ length: 300 }, (_, i) => (i === 10 ? '{' : line(canonical(i)))).join('\n'));
    const flat: ReadItem[] = [];
    for await (const batch of readExchangeBatches(p)) flat.push(...batch);
    assert.deepEqual(flat, await collect(p));
    assert.equal(flat.length, 300);
  });

  test('readExchanges names stdin in the reasons when reading "-"', () => {
    const script = `
      const { readExchanges } = await import(${JSON.stringify(new URL('./read.js', import.meta.url).href)});
      const out = [];
      for await (const item of readExchanges('-')) out.push(item);
      process.stdout.write(JSON.stringify(out));`;
    const input = line(canonical(1)) + '\n{oops\n';
    const items = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { input }).toString()) as ReadItem[];
    assert.equal(items[0]?.kind, 'exchange');
    const bad = items[1];
    assert.ok(bad?.kind === 'bad');
    assert.equal(bad.bad.file, 'stdin');
    assert.match(bad.bad.reason, /^Cannot parse line 2 of stdin: /);
  });
});
