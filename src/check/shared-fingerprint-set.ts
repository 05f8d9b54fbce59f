/**
 * A set of 64-bit fingerprints in shared memory, for threads exploring one space: open
 * addressing over (lo, hi) pairs of an Int32Array, linear probing. A thread claims a slot by a
 * compare-and-swap on its `lo` word and then publishes `hi`; neither word is ever 0 in a used
 * slot, so a reader that finds `hi` still 0 waits for it. Threads count what they add locally
 * and publish the count in batches (`flush`), so no word is written by every insert. The set
 * cannot grow while threads use it: its capacity is fixed up front, and it calls itself full at
 * 75% load rather than slow down.
 */
import type { Hash64 } from '../sim/hash64.js';

export interface SharedFingerprintBuffers {
  slots: SharedArrayBuffer;
  /** [size] */
  count: SharedArrayBuffer;
}

export class SharedFingerprintSet {
  private readonly slots: Int32Array;
  private readonly count: Int32Array;
  private readonly mask: number;
  readonly capacity: number;
  private unpublished = 0;

  static allocate(capacityPow2: number): SharedFingerprintBuffers {
    return { slots: new SharedArrayBuffer(capacityPow2 * 8), count: new SharedArrayBuffer(4) };
  }

  constructor(buffers: SharedFingerprintBuffers) {
    this.slots = new Int32Array(buffers.slots);
    this.count = new Int32Array(buffers.count);
    this.capacity = this.slots.length / 2;
    this.mask = this.capacity - 1;
  }

  /** Worlds added by every thread, as of their last `flush`. */
  get size(): number {
    return Atomics.load(this.count, 0) + this.unpublished;
  }

  get bytes(): number {
    return this.slots.byteLength;
  }

  /** True once the set is too full to take more worlds. */
  get full(): boolean {
    return this.size * 4 >= this.capacity * 3;
  }

  /** Publishes what this thread added since the last flush. */
  flush(): void {
    if (this.unpublished) Atomics.add(this.count, 0, this.unpublished);
    this.unpublished = 0;
  }

  /** Adds `h`; returns false when it was already there (added by any thread). */
  add(h: Hash64): boolean {
    const lo = h.lo | 0 || 1;
    const hi = h.hi | 0 || 1;
    const s = this.slots;
    let i = (h.lo ^ Math.imul(h.hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const at = 2 * i;
      // Most lookups find a world already there: read first, so that only an insert takes
      // the cache line for writing (a compare-and-swap does even when it fails).
      let old = Atomics.load(s, at);
      if (old === 0) old = Atomics.compareExchange(s, at, 0, lo);
      if (old === 0) {
        Atomics.store(s, at + 1, hi);
        this.unpublished++;
        return true;
      }
      if (old === lo) {
        let other = Atomics.load(s, at + 1);
        while (other === 0) other = Atomics.load(s, at + 1);
        if (other === hi) return false;
      }
      i = (i + 1) & this.mask;
    }
  }
}
