/**
 * Failures a store reports to the person running DistillWatch: a file in use, a file that is
 * not a store, a value the store cannot hold. The message is one line, fit to print as it is;
 * `code` lets a caller react without parsing the message.
 */
export type StoreErrorCode =
  /** Another process (or another open store in this one) holds the database. */
  | 'in_use'
  /** The file exists but is not a database of this kind, or not a DistillWatch store. */
  | 'not_a_store'
  /** The store was written by a newer DistillWatch whose schema this one does not know. */
  | 'newer_schema'
  /** The store could not be opened for another reason (missing file or folder, permissions). */
  | 'cannot_open'
  /** A write to a store opened read-only. */
  | 'read_only'
  /** A call after close(). */
  | 'closed'
  /** A row or record carries a value the store cannot hold; nothing of its batch was stored. */
  | 'invalid_value'
  /** The database refused a batch; nothing of it was stored. */
  | 'rejected';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
