import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { readExchanges, type ReadItem } from './read.js';
import { collectAll, fixtureWriter } from './test-fixtures.js';

const fixture = fixtureWriter('dw-batch-');
const lines = (...records: unknown[]): string => records.map((r) => JSON.stringify(r)).join('\n') + '\n';
const exchanges = (items: ReadItem[]): Array<Record<string, any>> => items.flatMap((i) => (i.kind === 'exchange' ? [i.exchange as unknown as Record<string, any>] : []));
const bad = (items: ReadItem[]) => items.flatMap((i) => (i.kind === 'bad' ? [[i.bad.line, i.bad.reason.replace(/^Cannot parse line \d+ of "[^"]+": /, '')] as const] : []));

/** Lines of an OpenAI Batch API input file (POST /v1/chat/completions requests). */
const openaiInput = (id: string, user: string, prompt: string) => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'gpt-4o-mini', user, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: prompt }], max_tokens: 100 },
});
/** Lines of its output file. */
const openaiOutput = (id: string, answer: string) => ({
  id: `batch_req_${id}`,
  custom_id: id,
  response: {
    status_code: 200,
    request_id: `req_${id}`,
    body: { id: `chatcmpl-${id}`, object: 'chat.completion', created: 1776845703, model: 'gpt-4o-mini-2024-07-18', choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }], usage: { prompt_tokens: 20, completion_tokens: 5, total_tokens: 25 } },
  },
  error: null,
});

describe('Batch API files', () => {
  test('readExchanges joins OpenAI batch input and output lines on custom_id, in any order, and sets failures aside with their status', async () => {
    const failed = { id: 'batch_req_r3', custom_id: 'r3', response: { status_code: 429, request_id: 'req_r3', body: { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } } }, error: null };
    const text = lines(
      openaiInput('r1', 'acct_1', 'What is 2+2?'),
      openaiInput('r2', 'acct_2', 'Name a colour'),
      openaiInput('r3', 'acct_1', 'Too many'),
      openaiInput('r4', 'acct_3', 'Never answered'),
      openaiOutput('r2', 'Blue.'),
      failed,
      openaiOutput('r1', '4'),
    );
    const items = await collectAll(readExchanges(fixture(text)));
    const ex = exchanges(items);
    assert.deepEqual(ex.map((e) => [e.id, e.account_id, e.request.messages[0].content, e.response.text]), [
      ['batch_req_r2', 'acct_2', 'Name a colour', 'Blue.'],
      ['batch_req_r1', 'acct_1', 'What is 2+2?', '4'],
    ]);
    assert.equal(ex[0]?.ts, '2026-04-22T08:15:03.000Z');
    assert.equal(ex[0]?.request.system, 'Be brief.');
    assert.deepEqual(ex[0]?.batch, { custom_id: 'r2' });
    assert.deepEqual(bad(items), [
      [6, 'custom_id "r3": status 429: Rate limit reached: set aside'],
      [4, 'custom_id "r4": no result line with this "custom_id" in the input (give the input and output files together)'],
    ]);
    // Exchanges are reported at the last line with nothing held before it (r1 and r4 are held when r2 is joined; r4 to the end).
    assert.deepEqual(items.filter((i) => i.kind === 'exchange').map((i) => i.line), [0, 3]);
  });

  test('readExchanges joins Anthropic batch requests and results, timed by the batch object', async () => {
    const batch = { id: 'msgbatch_1', type: 'message_batch', processing_status: 'ended', created_at: '2026-04-22T08:00:00Z', ended_at: '2026-04-22T09:00:00Z' };
    const req = (id: string, user: string, prompt: string) => ({ custom_id: id, params: { model: 'claude-test', max_tokens: 100, system: 'Be brief.', metadata: { user_id: user }, messages: [{ role: 'user', content: prompt }] } });
    const ok = { custom_id: 'a1', result: { type: 'succeeded', message: { id: 'msg_a1', type: 'message', role: 'assistant', model: 'claude-test', content: [{ type: 'text', text: 'Hello.' }], stop_reason: 'end_turn', stop_sequence: null, usage: { input_tokens: 9, output_tokens: 2 } } } };
    const errored = { custom_id: 'a2', result: { type: 'errored', error: { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: too large' } } } };
    const items = await collectAll(readExchanges(fixture(lines(batch, req('a1', 'acct_7', 'Hi'), req('a2', 'acct_8', 'Hm'), ok, errored)), { format: 'batch' }));
    const [e] = exchanges(items);
    assert.equal(e?.id, 'msg_a1');
    assert.equal(e?.account_id, 'acct_7');
    assert.equal(e?.ts, '2026-04-22T08:00:00.000Z');
    assert.equal(e?.response.text, 'Hello.');
    assert.deepEqual(bad(items), [[5, 'custom_id "a2": errored: max_tokens: too large: set aside']]);
    const untimed = await collectAll(readExchanges(fixture(lines(req('a1', 'acct_7', 'Hi'), ok))));
    assert.deepEqual(bad(untimed), [[2, 'custom_id "a1": no time: Anthropic batch results carry none; put the batch object (from the Message Batches API) first in the input']]);
  });

  test('readExchanges names a repeated custom_id', async () => {
    const items = await collectAll(readExchanges(fixture(lines(openaiInput('r1', 'a', 'x'), openaiInput('r1', 'a', 'y'))), { format: 'batch' }));
    assert.deepEqual(bad(items), [
      [2, 'custom_id "r1" is repeated (first on line 1)'],
      [1, 'custom_id "r1": no result line with this "custom_id" in the input (give the input and output files together)'],
    ]);
  });
});
