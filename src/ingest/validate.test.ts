import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ExchangeSchema } from '../core/exchange.js';
import { isExchange, validateExchange } from './validate.js';

/** A record that uses every field the contract names. */
function full(): Record<string, unknown> {
  return {
    id: 'ex_1',
    ts: '2026-04-22T08:15:03.120Z',
    account_id: 'acct_8f2c',
    org_id: 'org_11',
    api_key_id: 'key_1',
    model: 'frontier-2',
    conversation_id: 'conv_77',
    client: { ip: '203.0.113.7', user_agent: 'sdk/0.40', country: 'SG', asn: 64500, asn_org: 'Example Hosting' },
    account: {
      created_at: '2026-04-20T00:00:00Z',
      tier: 'edu',
      payment_fingerprint: 'pmfp_93ab',
      email_domain: 'mail.example.edu',
      verified: false,
    },
    request: {
      system: [{ type: 'text', text: 'You are terse.' }],
      messages: [
        { role: 'user', content: 'Fix the test' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Running it' },
            { type: 'tool_use', id: 't1', name: 'run_tests', input: { path: 'a' } },
          ],
        },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] },
      ],
      tools: [{ name: 'run_tests', description: 'Runs tests', input_schema: {} }],
      max_tokens: 4096,
      temperature: 0.7,
      thinking: { type: 'enabled', budget_tokens: 8000 },
      stream: true,
    },
    response: {
      text: 'Done',
      reasoning: 'Think',
      tool_calls: [{ name: 'run_tests', input: {} }],
      stop_reason: 'end_turn',
    },
    usage: { input_tokens: 812, output_tokens: 2210, reasoning_tokens: 1500 },
    latency_ms: 5312,
    status: 200,
    extra_field: { kept: true },
  };
}

type Path = Array<string | number>;

function paths(v: unknown, prefix: Path = []): Path[] {
  if (typeof v !== 'object' || v === null) return [];
  const out: Path[] = [];
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p, ...paths(child, p));
  }
  return out;
}

function mutate(record: unknown, path: Path, replacement: unknown | typeof DELETE): unknown {
  const copy = structuredClone(record) as Record<string | number, unknown>;
  let cur = copy;
  for (const seg of path.slice(0, -1)) cur = cur[seg] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (replacement === DELETE) {
    if (Array.isArray(cur)) cur.splice(Number(last), 1);
    else delete cur[last];
  } else cur[last] = replacement;
  return copy;
}

const DELETE = Symbol('delete');
const REPLACEMENTS: unknown[] = [
  DELETE,
  null,
  0,
  1.5,
  -1,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  '',
  'x',
  'not a date',
  '2026-02-30T00:00:00Z',
  '2026-04-22',
  true,
  [],
  {},
  [{}],
  [{ type: 'text' }],
  [{ role: 'user', content: 'hi' }],
  { type: 'enabled' },
];

describe('isExchange', () => {
  test('isExchange agrees with ExchangeSchema on every single-field change of a full record', () => {
    const base = full();
    let checked = 0;
    let invalid = 0;
    for (const path of paths(base)) {
      for (const r of REPLACEMENTS) {
        const v = mutate(base, path, r);
        const zod = ExchangeSchema.safeParse(v).success;
        assert.equal(isExchange(v), zod, `${path.join('.')} = ${String(typeof r === 'symbol' ? 'deleted' : JSON.stringify(r))}`);
        checked++;
        if (!zod) invalid++;
      }
    }
    assert.ok(checked > 1000 && invalid > 500, `${checked} checked, ${invalid} invalid`);
  });

  test('isExchange agrees with ExchangeSchema on minimal and odd records', () => {
    const minimal = { id: 'a', ts: '2026-01-01T00:00:00Z', account_id: 'b', model: 'm', request: { messages: [{ role: 'user', content: 'hi' }] } };
    const cases: unknown[] = [
      minimal,
      { ...minimal, request: { messages: [] } },
      { ...minimal, request: { messages: [{ role: 'user', content: [] }] } },
      { ...minimal, request: { messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] } },
      { ...minimal, request: { messages: [{ role: 'user', content: [{ type: 'text', text: 1 }] }] } },
      { ...minimal, request: { messages: [{ content: 'no role' }] } },
      { ...minimal, ts: 'Wed, 22 Apr 2026 08:15:03 GMT' },
      { ...minimal, ts: 1776000000000 },
      { ...minimal, status: 200.5 },
      { ...minimal, usage: {} },
      { ...minimal, client: { asn: '64500' } },
      { ...minimal, response: {} },
      { ...minimal, response: { tool_calls: [{ input: {} }] } },
      { ...minimal, request: { ...minimal.request, thinking: { budget_tokens: 10 } } },
      [minimal],
      null,
      'string',
      42,
    ];
    for (const v of cases) assert.equal(isExchange(v), ExchangeSchema.safeParse(v).success, JSON.stringify(v));
  });
});

describe('validateExchange', () => {
  const minimal = () => ({
    id: 'a',
    ts: '2026-01-01T00:00:00Z',
    account_id: 'b',
    model: 'm',
    request: { messages: [{ role: 'user', content: 'hi' }] } as Record<string, unknown>,
  });

  test('validateExchange returns the record itself, extra fields included', () => {
    const v = { ...minimal(), extra: [1, 2] };
    const r = validateExchange(v);
    assert.ok(r.ok);
    assert.equal(r.value, v);
  });

  test('validateExchange names the field in each error', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...minimal(), ts: 'yesterday' }, '"ts" is not an ISO-8601 timestamp'],
      [{ ...minimal(), request: { messages: [] } }, '"request.messages" needs at least one message'],
      [{ ...minimal(), account_id: undefined }, '"account_id" is missing'],
      [{ ...minimal(), account_id: '' }, '"account_id" must not be empty'],
      [{ ...minimal(), model: 7 }, '"model" must be a string, not a number'],
      [{ ...minimal(), status: 200.5 }, '"status" must be an integer, not a fractional number (200.5)'],
      [{ ...minimal(), request: { messages: [{ role: 'user', content: 5 }] } }, '"request.messages[0].content" must be a string or an array, not a number'],
      [
        { ...minimal(), request: { messages: [{ role: 'user', content: [{ type: 1 }] }] } },
        '"request.messages[0].content[0].type" must be a string, not a number',
      ],
      [{ ...minimal(), client: { asn: 2 ** 60 } }, '"client.asn" is too large'],
      [null, '"record" must be an object, not null'],
    ];
    for (const [v, message] of cases) {
      const r = validateExchange(v);
      assert.ok(!r.ok, JSON.stringify(v));
      assert.equal(r.error, message);
    }
  });
});
