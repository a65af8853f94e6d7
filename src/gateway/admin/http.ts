/**
 * The operator side of the gateway as plain functions: a request in, an answer out. No
 * sockets here, so that another server can mount the same handlers and tests can call
 * them directly; `server.ts` adapts node:http to this.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface AdminRequest {
  method: string;
  /** The path as sent, not yet percent-decoded: decoding may fail, and only after the token is checked. */
  rawPath: string;
  headers: IncomingHttpHeaders;
  /** The body, read on demand; null when it is larger than admin bodies may be. */
  body(): Promise<Buffer | null>;
}

export type AdminAnswer =
  | { kind: 'json'; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: 'text'; status: number; contentType: string; text: string };

export type AdminErrorType = 'authentication_error' | 'permission_error' | 'invalid_request_error' | 'not_found_error' | 'request_too_large' | 'server_error';

export function json(status: number, body: unknown, headers?: Record<string, string>): AdminAnswer {
  return { kind: 'json', status, body, ...(headers ? { headers } : {}) };
}

/** The error shape of the operator routes (the OpenAI one, which both APIs' clients read). */
export function adminError(status: number, type: AdminErrorType, message: string): AdminAnswer {
  return json(status, { error: { message, type } });
}
