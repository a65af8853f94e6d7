/** Listen addresses as the command line writes them: `PORT`, `HOST:PORT` or `[V6]:PORT`. */
import { isIP } from 'node:net';
import { err, ok, type Result } from '../core/result.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const DEFAULT_HOST = '127.0.0.1';

function portOf(text: string): number | null {
  if (!/^\d{1,5}$/.test(text)) return null;
  const n = Number(text);
  return n <= 65535 ? n : null;
}

/**
 * Reads a listen address. A bare port listens on loopback: exposing the gateway is a
 * decision to write out. Example: `parseListen('8790')` is `{ host: '127.0.0.1', port: 8790 }`.
 */
export function parseListen(text: string): Result<ListenAddress, string> {
  const bad = (why: string) => err(`Invalid listen address "${text}": ${why}`);
  const t = text.trim();
  const bare = portOf(t);
  if (bare !== null) return ok({ host: DEFAULT_HOST, port: bare });
  let host: string;
  let portText: string;
  if (t.startsWith('[')) {
    const close = t.indexOf(']');
    if (close === -1 || t[close + 1] !== ':') return bad('expected [IPv6]:PORT');
    host = t.slice(1, close);
    portText = t.slice(close + 2);
    if (isIP(host) !== 6) return bad(`"${host}" is not an IPv6 address`);
  } else {
    const colon = t.lastIndexOf(':');
    if (colon === -1) return bad('expected PORT, HOST:PORT or [IPv6]:PORT');
    host = t.slice(0, colon);
    portText = t.slice(colon + 1);
    if (host.includes(':')) return bad('an IPv6 address goes in brackets, as [::1]:8787');
    if (host === '') return bad('the host is empty');
  }
  const port = portOf(portText);
  if (port === null) return bad(`"${portText}" is not a port (0-65535)`);
  return ok({ host, port });
}

/** How an address is written back in messages and URLs. */
export function formatListen(a: ListenAddress): string {
  return isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

const LISTEN_FAILURES: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'address not available on this machine',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

/** A listener that could not open: the operator's to fix (another process, a typo). */
export class ListenError extends Error {
  override readonly name = 'ListenError';
  constructor(address: ListenAddress, cause: Error) {
    const code = (cause as { code?: string }).code;
    super(`Cannot listen on ${formatListen(address)}: ${(code && LISTEN_FAILURES[code]) ?? cause.message}`);
  }
}
