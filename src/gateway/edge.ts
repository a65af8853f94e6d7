/**
 * The provider's edge: the proxies in front of the gateway that authenticate callers. Only
 * a request whose connection comes from one of their addresses may name its account in a
 * header (`accountHeader`) or carry edge metadata (`x-distillwatch-edge`): any client can
 * type a header, no client can choose the address its connection comes from.
 */
import { BlockList, isIP } from 'node:net';
import { err, ok, type Result } from '../core/result.js';

const MAPPED_V4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

export class TrustedEdge {
  private constructor(
    private readonly list: BlockList,
    private readonly cidrs: readonly string[],
  ) {}

  /** Addresses as `10.0.0.0/8`, `2001:db8::/32`, or one address (`10.1.2.3`). */
  static from(cidrs: readonly string[]): Result<TrustedEdge, string> {
    const list = new BlockList();
    for (const c of cidrs) {
      const [address, prefixText, ...rest] = c.split('/');
      const family = isIP(address ?? '');
      if (family === 0 || rest.length > 0) return err(`"${c}" is not an address or CIDR range`);
      const max = family === 4 ? 32 : 128;
      const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
      if (!(prefix >= 0 && prefix <= max)) return err(`"${c}" has a prefix length outside 0-${max}`);
      list.addSubnet(address!, prefix, family === 4 ? 'ipv4' : 'ipv6');
    }
    return ok(new TrustedEdge(list, [...cidrs]));
  }

  /** Whether a connection from `address` (the socket's, never a header's) is the edge's. */
  trusts(address: string | undefined): boolean {
    if (!address) return false;
    // A dual-stack listener reports IPv4 peers as IPv4-mapped IPv6.
    const v4 = MAPPED_V4.exec(address)?.[1];
    if (v4 !== undefined) return this.list.check(v4, 'ipv4');
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 4 ? 'ipv4' : 'ipv6');
  }

  toJSON(): readonly string[] {
    return this.cidrs;
  }
}
