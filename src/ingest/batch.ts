/**
 * Batch API files: the OpenAI Batch API's input and output files and the Anthropic Message
 * Batches' requests and results, read together. A request and its result are two lines,
 * usually in two files, joined on `custom_id`; give both in one input
 * (`cat input.jsonl output.jsonl`). Each joined pair is mapped by the OpenAI or Anthropic
 * adapter as if it were one request/response log line; a result that is not a success is
 * set aside with its status.
 */
import type { Exchange } from '../core/exchange.js';
import { err, ok, type Result } from '../core/result.js';
import { describe, fail, guard, HeldLines, idAt, isObj, objectAt, stringAt, timestampAt, type Obj } from './_shared.js';
import { fromAnthropic } from './anthropic.js';
import { fromOpenAI } from './openai.js';

/** What became of one request: an exchange, or why not, with the line and the record to report it with. */
export interface BatchOutcome {
  line: number;
  result: Result<Exchange, string>;
  /** The line's record, shown as the excerpt when the request is not an exchange. */
  record: Obj;
}

type Side = 'request' | 'result';
interface Held {
  side: Side;
  value: Obj;
  line: number;
}

/** Whether a record is a line of a batch file (or a batch object). */
export function isBatchRecord(v: Obj): boolean {
  if (v.object === 'batch' || v.type === 'message_batch') return true;
  return typeof v.custom_id === 'string' && (isObj(v.body) || isObj(v.params) || v.response !== undefined || isObj(v.result) || v.error !== undefined);
}

/**
 * Joins batch requests and results by `custom_id`, whichever comes first; an unmatched line
 * is held until the end of the input.
 */
export class BatchJoiner {
  private readonly held = new Map<string, Held>();
  private readonly heldLines = new HeldLines();
  /** The batch's creation time, when a batch object was given: Anthropic results carry none. */
  private batchTime: string | undefined;

  add(value: unknown, line: number): Result<BatchOutcome[], string> {
    this.heldLines.read(line);
    return guard(() => {
      if (!isObj(value)) fail(`"record" must be an object, not ${describe(value)}`);
      if (value.object === 'batch' || value.type === 'message_batch') {
        const created = value.created_at ?? value.created;
        if (created !== undefined && created !== null) this.batchTime = timestampAt(created, 'created_at');
        return ok([]);
      }
      const id = idAt(value.custom_id, 'custom_id') ?? fail('"custom_id" is missing: not a Batch API line');
      const side: Side = isObj(value.body) || isObj(value.params) ? 'request' : value.response !== undefined || value.result !== undefined || value.error !== undefined ? 'result' : fail('neither a request ("body", "params") nor a result ("response", "result")');
      const other = this.held.get(id);
      if (other === undefined) {
        this.hold(id, { side, value, line });
        return ok([]);
      }
      if (other.side === side) fail(`custom_id "${id}" is repeated (first on line ${other.line})`);
      this.release(id, other);
      const [req, res] = side === 'request' ? [{ side, value, line }, other] : [other, { side, value, line }];
      return ok([this.join(id, req, res)]);
    });
  }

  /** The lines never joined, each a bad record. */
  finish(): BatchOutcome[] {
    const out: BatchOutcome[] = [];
    for (const [id, h] of this.held) {
      const missing = h.side === 'request' ? 'no result line' : 'no request line';
      out.push({ line: h.line, result: err(`custom_id "${id}": ${missing} with this "custom_id" in the input (give the input and output files together)`), record: h.value });
    }
    this.held.clear();
    this.heldLines.clear();
    return out;
  }

  /** The last line whose records have all been joined or set aside. */
  get safeLine(): number {
    return this.heldLines.safeLine;
  }

  private hold(id: string, h: Held): void {
    this.held.set(id, h);
    this.heldLines.hold(h.line);
  }

  private release(id: string, h: Held): void {
    this.held.delete(id);
    this.heldLines.release(h.line);
  }

  private join(id: string, req: Held, res: Held): BatchOutcome {
    const r = guard(() => ok(isObj(req.value.params) || isObj(res.value.result) ? this.anthropic(id, req.value, res.value) : this.openai(id, req.value, res.value)));
    const result = r.ok ? r.value : r;
    // Reported at the result's line: that is where its status is.
    return { line: res.line, result: result.ok ? result : err(`custom_id "${id}": ${result.error}`), record: res.value };
  }

  private openai(id: string, req: Obj, res: Obj): Result<Exchange, string> {
    const body = objectAt(req.body, 'body')!;
    const response = objectAt(res.response, 'response');
    const status = response?.status_code;
    const error = objectAt(res.error, 'error') ?? objectAt(objectAt(response?.body, 'response.body')?.error, 'response.body.error');
    if (status !== 200 || error !== undefined) {
      const message = stringAt(error?.message, 'error.message') ?? stringAt(error?.code, 'error.code');
      fail(`status ${typeof status === 'number' ? status : 'none'}${message ? `: ${message}` : ''}: set aside`);
    }
    const record: Obj = { id: idAt(res.id, 'id') ?? id, request: body, response: response!.body, batch: { custom_id: id } };
    const account = idAt(body.user, 'body.user') ?? idAt(body.safety_identifier, 'body.safety_identifier');
    if (account !== undefined) record.account_id = account;
    return single(fromOpenAI(record));
  }

  private anthropic(id: string, req: Obj, res: Obj): Result<Exchange, string> {
    const params = objectAt(req.params, 'params') ?? fail('"params" is missing: an Anthropic batch request holds its request there');
    const result = objectAt(res.result, 'result') ?? fail('"result" is missing');
    const type = stringAt(result.type, 'result.type') ?? fail('"result.type" is missing');
    if (type !== 'succeeded') {
      const e = objectAt(result.error, 'result.error');
      const inner = objectAt(e?.error, 'result.error.error') ?? e;
      const message = stringAt(inner?.message, 'result.error.message') ?? stringAt(inner?.type, 'result.error.type');
      fail(`${type}${message ? `: ${message}` : ''}: set aside`);
    }
    const message = objectAt(result.message, 'result.message') ?? fail('"result.message" is missing');
    if (this.batchTime === undefined) fail('no time: Anthropic batch results carry none; put the batch object (from the Message Batches API) first in the input');
    return single(fromAnthropic({ id: idAt(message.id, 'result.message.id') ?? id, ts: this.batchTime, request: params, response: message, batch: { custom_id: id } }));
  }
}

function single(r: Result<Exchange[], string>): Result<Exchange, string> {
  if (!r.ok) return r;
  return r.value.length === 1 ? ok(r.value[0]!) : err('the request maps to no exchange');
}
