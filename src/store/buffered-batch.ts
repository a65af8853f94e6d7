/**
 * A batch of a scan held whole until its commit, for a store that cannot take its parts as
 * they come (ClickHouse has no transaction to hold them in): the parts are joined and
 * stored by `appendColumns`, as one batch.
 */
import { concatColumns, type ExchangeColumns } from './column-batch.js';
import { StoreError } from './errors.js';
import type { AppendOutcome, BadRecord, BatchWriter, IngestCheckpoint, StoreWriter } from './store.js';

export class BufferedBatch implements BatchWriter {
  private parts: ExchangeColumns[] = [];
  private ended = false;
  rows = 0;
  readonly holdsRows = true;

  constructor(private readonly store: Pick<StoreWriter, 'appendColumns'>) {}

  async add(rows: ExchangeColumns): Promise<void> {
    if (this.ended) throw new StoreError('rejected', 'Cannot add rows to a batch already committed or dropped');
    this.parts.push(rows);
    this.rows += rows.length;
  }

  commit(bad: readonly BadRecord[], checkpoint: IngestCheckpoint): Promise<AppendOutcome> {
    if (this.ended) return Promise.reject(new StoreError('rejected', 'Cannot commit a batch already committed or dropped'));
    this.ended = true;
    const rows = concatColumns(this.parts);
    this.parts = [];
    return this.store.appendColumns(rows, bad, checkpoint);
  }

  async abandon(): Promise<void> {
    this.ended = true;
    this.parts = [];
  }
}
