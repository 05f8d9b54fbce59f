import { hashString } from './hash64.js';

/**
 * Maps strings to small dense integers and back. Ids depend on the order keys arrive in; each
 * id also keeps a 64-bit hash of its key, which does not, for fingerprints compared across
 * threads.
 */
export class Interner<T = string> {
  private readonly ids = new Map<string, number>();
  readonly values: T[] = [];
  /** hashes[2 id], hashes[2 id + 1]: the key's 64-bit hash. */
  readonly hashes: number[] = [];

  /** The id of `key`, registering `value` under it the first time. */
  id(key: string, value: T): number {
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.ids.set(key, id);
      this.values.push(value);
      const h = hashString(key);
      this.hashes.push(h.hi | 0, h.lo | 0);
    }
    return id;
  }

  get size(): number {
    return this.values.length;
  }
}
