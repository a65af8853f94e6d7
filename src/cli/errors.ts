/** A failure the user can fix: printed as one line, no stack trace, exit code 2. */
export class UserError extends Error {
  override readonly name = 'UserError';
}
