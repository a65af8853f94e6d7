/**
 * A group of in-flight calls where most groups hold one call or none (a client's
 * connection, an account at its usual rate): the call itself, a Set only from the second.
 *
 * Not a Set throughout, for the garbage collector's sake. A Set that goes from one member to
 * none on every request rebuilds its hash table each time, and V8 allocates the table of a
 * long-lived Set straight into the old generation, where only a full collection frees it:
 * on a replica at a few thousand requests a second, the largest source of old-generation
 * garbage, and so of the full collections whose pauses set its tail latency.
 */
export type OneOrMore<T extends object> = T | Set<T> | undefined;

/** The group with `x` in it. */
export function withMember<T extends object>(group: OneOrMore<T>, x: T): OneOrMore<T> {
  if (group === undefined || group === x) return x;
  if (group instanceof Set) return group.add(x);
  return new Set([group, x]);
}

/** The group without `x`: back to the one member left rather than a Set of one. */
export function withoutMember<T extends object>(group: OneOrMore<T>, x: T): OneOrMore<T> {
  if (group === x) return undefined;
  if (!(group instanceof Set)) return group;
  group.delete(x);
  if (group.size > 1) return group;
  for (const last of group) return last;
  return undefined;
}

export function membersOf<T extends object>(group: OneOrMore<T>): readonly T[] | Set<T> {
  if (group === undefined) return [];
  return group instanceof Set ? group : [group];
}

export function sizeOf<T extends object>(group: OneOrMore<T>): number {
  if (group === undefined) return 0;
  return group instanceof Set ? group.size : 1;
}
