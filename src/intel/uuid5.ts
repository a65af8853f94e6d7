/**
 * Name-based UUIDs (RFC 9562 version 5: SHA-1 of a namespace and a name). STIX 2.1 asks
 * for them (section 2.9) where the same thing must get the same id from every producer and
 * on every export, so that a partner who imports a bundle twice holds one object, not two.
 */
import { createHash } from 'node:crypto';

/** The namespace STIX 2.1 gives for deterministic identifiers of cyber observables; reused here for every object. */
export const STIX_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';

function bytesOf(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** @example uuidv5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8') // '886313e1-3b8a-5372-9b90-0c9aee199e5d' */
export function uuidv5(name: string, namespace: string = STIX_NAMESPACE): string {
  const hash = createHash('sha1').update(bytesOf(namespace)).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** A STIX identifier `<type>--<uuid>`, the uuid derived from the type and `name`. */
export function stixId<T extends string>(type: T, name: string): `${T}--${string}` {
  return `${type}--${uuidv5(`${type}:${name}`)}`;
}
