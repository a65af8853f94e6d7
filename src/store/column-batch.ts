/**
 * Exchange rows as columns: what a feature worker hands the scan's thread, the store appends
 * and the engine's thread reads. Built once where the rows are computed, it crosses threads
 * without a JSON text per row: the number and bool columns are typed arrays (transferred, or
 * copied as one block), the text columns arrays of strings. Before, each row was encoded as
 * JSON on the worker and parsed again on the scan's thread (for the store) and on the
 * engine's (for the engine): three parses of every row, and their garbage.
 */
import type { ExchangeFeatures } from '../core/features.js';
import { EXCHANGE_COLUMNS, EXCHANGE_KINDS, EXCHANGE_NAMES, rowFits, rowProblem, type Kind } from './exchange-columns.js';

/**
 * One stored column. Numbers (int32, int64, float) are doubles, exact for every value a
 * column takes (rowFits: whole numbers below 2^53, finite floats), with NaN for null: no
 * stored value is NaN. Bools are 0 (false), 1 (true) or 2 (null).
 */
export type ExchangeColumn =
  | { kind: 'text'; values: (string | null)[] }
  | { kind: 'number'; values: Float64Array }
  | { kind: 'bool'; values: Uint8Array };

export const BOOL_NULL = 2;

/** Rows of the exchanges table, a column each in the order of EXCHANGE_NAMES. */
export interface ExchangeColumns {
  readonly length: number;
  readonly columns: readonly ExchangeColumn[];
  /**
   * About what each row holds, in bytes: its text's UTF-16 code units (the rows are mostly
   * ASCII) and 8 bytes a number. For bounds (a store batch, the engine's rows in flight).
   */
  readonly sizes: Uint32Array;
}

/** About what the rows hold, in bytes (see `sizes`). */
export function sizeOf(cols: ExchangeColumns): number {
  let n = 0;
  for (let i = 0; i < cols.sizes.length; i++) n += cols.sizes[i]!;
  return n;
}

type ColumnClass = ExchangeColumn['kind'];

function columnClass(kind: Kind): ColumnClass {
  if (kind === 'text' || kind === 'text?') return 'text';
  if (kind === 'bool' || kind === 'bool?') return 'bool';
  return 'number';
}

const CLASSES: readonly ColumnClass[] = EXCHANGE_KINDS.map(columnClass);
const NUMBER_BYTES = 8 * CLASSES.filter((c) => c !== 'text').length;

function emptyColumn(cls: ColumnClass, capacity: number): ExchangeColumn {
  if (cls === 'text') return { kind: 'text', values: [] };
  if (cls === 'bool') return { kind: 'bool', values: new Uint8Array(capacity) };
  return { kind: 'number', values: new Float64Array(capacity) };
}

/** A column's values by the kind of the column. */
type ValuesOf<K extends Kind> = K extends 'text' | 'text?' ? (string | null)[] : K extends 'bool' | 'bool?' ? Uint8Array : Float64Array;

/** The values of every column by its name: what a row is written into, a property load each. */
type RowSlots = { -readonly [N in keyof typeof EXCHANGE_COLUMNS]: ValuesOf<(typeof EXCHANGE_COLUMNS)[N]> };

/**
 * Made by `Object.fromEntries`, which keeps the object's properties fast: set one by one in a
 * loop, 41 keyed properties turn it into a dictionary, and every load a hash lookup.
 */
function slotsOf(columns: readonly ExchangeColumn[]): RowSlots {
  return Object.fromEntries(EXCHANGE_NAMES.map((name, c) => [name, columns[c]!.values])) as unknown as RowSlots;
}

/** Appends a text value (absent is null) and returns the code units it adds to the row's size. */
function pushText(values: (string | null)[], v: string | null | undefined): number {
  if (v === null || v === undefined) {
    values.push(null);
    return 0;
  }
  values.push(v);
  return v.length;
}

/** A number or NaN for null (absent is null). */
const numberOrNaN = (v: number | null | undefined): number => (v === null || v === undefined ? Number.NaN : v);
/** 1, 0 or BOOL_NULL (absent is null). */
const boolCode = (v: boolean | null | undefined): number => (v === null || v === undefined ? BOOL_NULL : v ? 1 : 0);

/**
 * Rows added one by one (each checked against the columns first), then the columns.
 *
 * @example
 * const b = new ExchangeColumnsBuilder(rows.length);
 * for (const r of rows) { const p = b.add(r, i); if (p !== null) throw new Error(p); }
 * const cols = b.build();
 */
export class ExchangeColumnsBuilder {
  private columns: ExchangeColumn[];
  private slots: RowSlots;
  private sizes: Uint32Array;
  private capacity: number;
  private n = 0;

  constructor(capacity = 1024) {
    this.capacity = Math.max(1, capacity);
    this.columns = CLASSES.map((c) => emptyColumn(c, this.capacity));
    this.slots = slotsOf(this.columns);
    this.sizes = new Uint32Array(this.capacity);
  }

  get length(): number {
    return this.n;
  }

  /** Adds the row, or says why the store cannot take it (rowProblem; `index` names a row without an id) and adds nothing. */
  add(row: ExchangeFeatures, index: number): string | null {
    if (!rowFits(row)) return rowProblem(row, index) ?? 'Cannot store a row that fails its check but names no column';
    if (this.n === this.capacity) this.grow();
    this.sizes[this.n] = NUMBER_BYTES + this.write(row, this.n);
    this.n++;
    return null;
  }

  /**
   * The row's values into its columns, written out column by column as `rowFits` checks them:
   * a loop over the columns read the row by a computed name, 41 names at one place, which V8
   * can only look up generically (about a microsecond a row on a feature worker). Absent is
   * null (rowFits allowed it only where the column takes one). Returns the text's code units.
   * A test checks it against the columns read by name.
   */
  private write(r: ExchangeFeatures, at: number): number {
    const s = this.slots;
    let text = 0;
    text += pushText(s.id, r.id);
    s.ts[at] = r.ts;
    text += pushText(s.account_id, r.account_id);
    text += pushText(s.org_id, r.org_id);
    text += pushText(s.api_key_id, r.api_key_id);
    text += pushText(s.model, r.model);
    text += pushText(s.conversation_id, r.conversation_id);
    text += pushText(s.ip, r.ip);
    text += pushText(s.subnet, r.subnet);
    s.asn[at] = numberOrNaN(r.asn);
    text += pushText(s.country, r.country);
    text += pushText(s.user_agent, r.user_agent);
    text += pushText(s.tier, r.tier);
    s.account_created_at[at] = numberOrNaN(r.account_created_at);
    text += pushText(s.payment_fp, r.payment_fp);
    text += pushText(s.email_domain, r.email_domain);
    s.verified[at] = boolCode(r.verified);
    s.n_messages[at] = r.n_messages;
    s.n_user_turns[at] = r.n_user_turns;
    s.n_tool_results[at] = r.n_tool_results;
    s.n_tools[at] = r.n_tools;
    text += pushText(s.tools_sig, r.tools_sig);
    text += pushText(s.system_sig, r.system_sig);
    text += pushText(s.harness_sig, r.harness_sig);
    text += pushText(s.template_prefix, r.template_prefix);
    text += pushText(s.template_suffix, r.template_suffix);
    text += pushText(s.template_simhash, r.template_simhash);
    text += pushText(s.prompt_hash, r.prompt_hash);
    text += pushText(s.phrase_sigs, r.phrase_sigs);
    s.prompt_chars[at] = r.prompt_chars;
    text += pushText(s.capability, r.capability);
    s.elicitation[at] = r.elicitation;
    s.grading[at] = boolCode(r.grading);
    s.max_tokens[at] = numberOrNaN(r.max_tokens);
    s.thinking_budget[at] = numberOrNaN(r.thinking_budget);
    s.stream[at] = boolCode(r.stream);
    s.input_tokens[at] = numberOrNaN(r.input_tokens);
    s.output_tokens[at] = numberOrNaN(r.output_tokens);
    s.reasoning_tokens[at] = numberOrNaN(r.reasoning_tokens);
    s.status[at] = numberOrNaN(r.status);
    text += pushText(s.prompt_preview, r.prompt_preview);
    return text;
  }

  /** The columns of the rows added; the builder starts empty again. */
  build(): ExchangeColumns {
    const n = this.n;
    const columns = this.columns.map((col): ExchangeColumn => (col.kind === 'text' || col.values.length === n ? col : col.kind === 'number' ? { kind: 'number', values: col.values.slice(0, n) } : { kind: 'bool', values: col.values.slice(0, n) }));
    const out: ExchangeColumns = { length: n, columns, sizes: this.sizes.length === n ? this.sizes : this.sizes.slice(0, n) };
    this.columns = CLASSES.map((c) => emptyColumn(c, this.capacity));
    this.slots = slotsOf(this.columns);
    this.sizes = new Uint32Array(this.capacity);
    this.n = 0;
    return out;
  }

  private grow(): void {
    this.capacity *= 2;
    const sizes = new Uint32Array(this.capacity);
    sizes.set(this.sizes);
    this.sizes = sizes;
    this.columns = this.columns.map((col): ExchangeColumn => {
      if (col.kind === 'text') return col;
      const values = col.kind === 'number' ? new Float64Array(this.capacity) : new Uint8Array(this.capacity);
      values.set(col.values);
      return col.kind === 'number' ? { kind: 'number', values: values as Float64Array } : { kind: 'bool', values: values as Uint8Array };
    });
    this.slots = slotsOf(this.columns);
  }
}

/** Rows checked and laid out as columns; the first row the store cannot take is the problem. */
export function columnsOfRows(rows: readonly ExchangeFeatures[]): { ok: true; columns: ExchangeColumns } | { ok: false; problem: string } {
  const b = new ExchangeColumnsBuilder(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const problem = b.add(rows[i]!, i);
    if (problem !== null) return { ok: false, problem };
  }
  return { ok: true, columns: b.build() };
}

/** The buffers of the typed columns, to transfer with a message (the batch is unusable on the sender after). */
export function columnBuffers(cols: ExchangeColumns): ArrayBuffer[] {
  const out: ArrayBuffer[] = [];
  for (const col of cols.columns) if (col.kind !== 'text') out.push(col.values.buffer as ArrayBuffer);
  out.push(cols.sizes.buffer as ArrayBuffer);
  return out;
}

/** Several batches as one, in order. */
export function concatColumns(parts: readonly ExchangeColumns[]): ExchangeColumns {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const p of parts) length += p.length;
  const sizes = new Uint32Array(length);
  for (let i = 0, at = 0; i < parts.length; at += parts[i]!.length, i++) sizes.set(parts[i]!.sizes, at);
  const columns = CLASSES.map((cls, c): ExchangeColumn => {
    if (cls === 'text') {
      const values: (string | null)[] = [];
      for (const p of parts) {
        const col = p.columns[c]!.values as (string | null)[];
        for (let i = 0; i < col.length; i++) values.push(col[i]!);
      }
      return { kind: 'text', values };
    }
    const values = cls === 'number' ? new Float64Array(length) : new Uint8Array(length);
    let at = 0;
    for (const p of parts) {
      const col = p.columns[c]!.values as Float64Array | Uint8Array;
      values.set(col, at);
      at += col.length;
    }
    return cls === 'number' ? { kind: 'number', values: values as Float64Array } : { kind: 'bool', values: values as Uint8Array };
  });
  return { length, columns, sizes };
}

/** Rows `from` to `to` (not included), copied: a view would carry its whole buffer into a message. */
export function sliceColumns(cols: ExchangeColumns, from: number, to: number): ExchangeColumns {
  if (from === 0 && to === cols.length) return cols;
  const columns = cols.columns.map((col): ExchangeColumn => {
    if (col.kind === 'text') return { kind: 'text', values: col.values.slice(from, to) };
    if (col.kind === 'number') return { kind: 'number', values: col.values.slice(from, to) };
    return { kind: 'bool', values: col.values.slice(from, to) };
  });
  return { length: to - from, columns, sizes: cols.sizes.slice(from, to) };
}

/** A text column's value (`c`: its index in EXCHANGE_NAMES). */
export function textAt(cols: ExchangeColumns, c: number, row: number): string | null {
  return (cols.columns[c] as { kind: 'text'; values: (string | null)[] }).values[row]!;
}

/** A number column's value, null for null. */
export function numberAt(cols: ExchangeColumns, c: number, row: number): number | null {
  const v = (cols.columns[c] as { kind: 'number'; values: Float64Array }).values[row]!;
  return v !== v ? null : v;
}

const COLUMN = Object.fromEntries(EXCHANGE_NAMES.map((n, i) => [n, i])) as Record<keyof ExchangeFeatures, number>;

/** The id column (every row has one). */
export function idsOf(cols: ExchangeColumns): readonly string[] {
  return (cols.columns[COLUMN.id] as { kind: 'text'; values: string[] }).values;
}

/** The event-time column (every row has one). */
export function timesOf(cols: ExchangeColumns): Float64Array {
  return (cols.columns[COLUMN.ts] as { kind: 'number'; values: Float64Array }).values;
}

/** The prompt previews of the rows (null where none was kept), in row order. */
export function previewsOf(cols: ExchangeColumns): readonly (string | null)[] {
  return (cols.columns[COLUMN.prompt_preview] as { kind: 'text'; values: (string | null)[] }).values;
}

/**
 * Text columns the detection engine never reads (the analysts' preview of the prompt, the
 * API key, the country, the tools' and the template's hashes): the scan's thread leaves them
 * out of the copy it posts to the engine's thread (`withoutUnread`), which spares copying
 * them twice (cloned, then read into objects) and holding them among the rows the engine
 * keeps in event-time order. The store still gets them. The reports of the engine fed on
 * its own thread (these columns left out) and on the scan's (every column) are compared by
 * a test on a scenario with campaigns.
 */
export const UNREAD_BY_ENGINE = ['api_key_id', 'country', 'tools_sig', 'template_simhash', 'prompt_preview'] as const satisfies readonly (keyof ExchangeFeatures)[];

const UNREAD_INDEXES = new Set<number>(UNREAD_BY_ENGINE.map((n) => EXCHANGE_NAMES.indexOf(n)));

/** The same rows with the text columns the engine never reads emptied (read back as null by `rowsOfColumns`). */
export function withoutUnread(cols: ExchangeColumns): ExchangeColumns {
  return { length: cols.length, sizes: cols.sizes, columns: cols.columns.map((col, c) => (UNREAD_INDEXES.has(c) ? { kind: 'text', values: [] } : col)) };
}

/**
 * The rows back as objects, every column present (null where absent, or left out by
 * `withoutUnread`), as a replay gives them: what the engine observes. Written out field by
 * field so that every row has the one shape the engine's code sees.
 */
export function rowsOfColumns(cols: ExchangeColumns): ExchangeFeatures[] {
  const col = cols.columns;
  const t = (name: keyof ExchangeFeatures): (string | null)[] => (col[COLUMN[name]] as { kind: 'text'; values: (string | null)[] }).values;
  const num = (name: keyof ExchangeFeatures): Float64Array => (col[COLUMN[name]] as { kind: 'number'; values: Float64Array }).values;
  const bool = (name: keyof ExchangeFeatures): Uint8Array => (col[COLUMN[name]] as { kind: 'bool'; values: Uint8Array }).values;
  const orNull = (v: number): number | null => (v !== v ? null : v);
  const boolOrNull = (v: number): boolean | null => (v === BOOL_NULL ? null : v === 1);
  const [id, account_id, org_id, api_key_id, model, conversation_id, ip, subnet, country, user_agent, tier, payment_fp, email_domain] = (
    ['id', 'account_id', 'org_id', 'api_key_id', 'model', 'conversation_id', 'ip', 'subnet', 'country', 'user_agent', 'tier', 'payment_fp', 'email_domain'] as const
  ).map(t);
  const [tools_sig, system_sig, harness_sig, template_prefix, template_suffix, template_simhash, prompt_hash, phrase_sigs, capability, prompt_preview] = (
    ['tools_sig', 'system_sig', 'harness_sig', 'template_prefix', 'template_suffix', 'template_simhash', 'prompt_hash', 'phrase_sigs', 'capability', 'prompt_preview'] as const
  ).map(t);
  const [ts, asn, account_created_at, n_messages, n_user_turns, n_tool_results, n_tools, prompt_chars, elicitation, max_tokens, thinking_budget, input_tokens, output_tokens, reasoning_tokens, status] = (
    ['ts', 'asn', 'account_created_at', 'n_messages', 'n_user_turns', 'n_tool_results', 'n_tools', 'prompt_chars', 'elicitation', 'max_tokens', 'thinking_budget', 'input_tokens', 'output_tokens', 'reasoning_tokens', 'status'] as const
  ).map(num);
  const [verified, grading, stream] = (['verified', 'grading', 'stream'] as const).map(bool);
  const out: ExchangeFeatures[] = new Array(cols.length);
  for (let i = 0; i < cols.length; i++) {
    out[i] = {
      id: id![i]!,
      ts: ts![i]!,
      account_id: account_id![i]!,
      org_id: org_id![i]!,
      api_key_id: api_key_id![i] ?? null,
      model: model![i]!,
      conversation_id: conversation_id![i]!,
      ip: ip![i]!,
      subnet: subnet![i]!,
      asn: orNull(asn![i]!),
      country: country![i] ?? null,
      user_agent: user_agent![i]!,
      tier: tier![i]!,
      account_created_at: orNull(account_created_at![i]!),
      payment_fp: payment_fp![i]!,
      email_domain: email_domain![i]!,
      verified: boolOrNull(verified![i]!),
      n_messages: n_messages![i]!,
      n_user_turns: n_user_turns![i]!,
      n_tool_results: n_tool_results![i]!,
      n_tools: n_tools![i]!,
      tools_sig: tools_sig![i] ?? null,
      system_sig: system_sig![i]!,
      harness_sig: harness_sig![i]!,
      template_prefix: template_prefix![i]!,
      template_suffix: template_suffix![i]!,
      template_simhash: template_simhash![i] ?? null,
      prompt_hash: prompt_hash![i]!,
      phrase_sigs: phrase_sigs![i]!,
      prompt_chars: prompt_chars![i]!,
      capability: capability![i]!,
      elicitation: elicitation![i]!,
      grading: grading![i] === 1,
      max_tokens: orNull(max_tokens![i]!),
      thinking_budget: orNull(thinking_budget![i]!),
      stream: boolOrNull(stream![i]!),
      input_tokens: orNull(input_tokens![i]!),
      output_tokens: orNull(output_tokens![i]!),
      reasoning_tokens: orNull(reasoning_tokens![i]!),
      status: orNull(status![i]!),
      prompt_preview: prompt_preview![i] ?? null,
    } as ExchangeFeatures;
  }
  return out;
}
