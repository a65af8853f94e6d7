/**
 * Where one account's exchanges go: a fixed number of partition streams, the account's
 * partition from a hash of its id. Every exchange of an account lands in one partition, so
 * the one worker that holds that partition sees them in the order the gateways wrote them.
 *
 * The partition number sits in braces (`dw:x:{3}`): a Redis Cluster hash tag, so that a
 * partition's input stream and its feature stream live on one node and can be written in
 * one transaction (see worker.ts).
 */

import { FNV_SEED_A, fnv1a32Step } from '../signals/hash.js';

/** A partition number, 0 <= p < partitions. */
export type Partition = number & { readonly __partition: true };

/** FNV-1a over the UTF-16 code units: cheap, stable across processes and versions. */
export function partitionOf(accountId: string, partitions: number): Partition {
  let h = FNV_SEED_A;
  for (let i = 0; i < accountId.length; i++) h = fnv1a32Step(h, accountId.charCodeAt(i));
  return ((h >>> 0) % partitions) as Partition;
}

/** The names of the streams and keys of one deployment, all under one prefix. */
export interface LiveKeys {
  /** Finished exchanges, as the gateways wrote them. */
  input(p: number): string;
  /** Feature rows computed by the workers, read by the linker. */
  features(p: number): string;
  /** Which worker holds a partition (a key with an expiry). */
  lease(p: number): string;
  /** Workers' heartbeats (a sorted set by time). */
  workers: string;
  /** The consumer group of the workers on every input stream. */
  workerGroup: string;
  /** The consumer group of the linker on every feature stream. */
  linkerGroup: string;
}

export function liveKeys(prefix = 'dw:'): LiveKeys {
  return {
    input: (p) => `${prefix}x:{${p}}`,
    features: (p) => `${prefix}f:{${p}}`,
    lease: (p) => `${prefix}lease:{${p}}`,
    workers: `${prefix}workers`,
    workerGroup: 'workers',
    linkerGroup: 'linker',
  };
}
