/**
 * A set of 64-bit fingerprints: open addressing over one Uint32Array of (hi, lo) pairs, linear
 * probing, grown at 50% load. About 16-32 bytes per state, and no per-entry objects.
 */
import type { Hash64 } from '../sim/hash64.js';

/** Slots of a search's cache of recent fingerprints (128 KiB: it stays in the core's own cache); see SharedFingerprintSet's `recent`. */
export const CACHE_SLOTS = 2 ** 14;

/**
 * Slots (a power of two) for a table that grows at half load to hold `expected` worlds without
 * growing: at least `least`, at most `most`. A hint only: a table sized from a wrong one grows
 * (too small) or holds more empty slots (too large), and finds the same worlds.
 */
export function slotsFor(expected: number | undefined, least: number, most = Infinity): number {
  if (!expected || !(expected > 0)) return least;
  return Math.min(most, Math.max(least, 2 ** Math.ceil(Math.log2(expected * 2 + 1))));
}

export class FingerprintSet {
  private slots: Uint32Array;
  private mask: number;
  size = 0;
  /** Recent fingerprints, direct-mapped (see SharedFingerprintSet's `recent`): (hi, lo) pairs. */
  private readonly recent = new Uint32Array(2 * CACHE_SLOTS);

  /** `capacityPow2` slots to start with (see `slotsFor`); the table doubles whenever it is half full. */
  constructor(capacityPow2 = 1 << 16) {
    this.slots = new Uint32Array(capacityPow2 * 2);
    this.mask = capacityPow2 - 1;
  }

  /** Adds `h`; returns false when it was already there. */
  add(h: Hash64): boolean {
    const { hi } = h;
    const lo = h.lo === 0 && hi === 0 ? 1 : h.lo;
    const r = this.recent;
    const k = 2 * ((hi ^ (lo >>> 15)) & (CACHE_SLOTS - 1));
    if (r[k] === hi && r[k + 1] === lo) return false;
    r[k] = hi;
    r[k + 1] = lo;
    return this.insert(hi, lo);
  }

  private insert(hi: number, lo: number): boolean {
    if (lo === 0 && hi === 0) lo = 1; // (0, 0) marks an empty slot
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    const s = this.slots;
    for (;;) {
      const a = s[2 * i];
      const b = s[2 * i + 1];
      if (a === 0 && b === 0) break;
      if (a === hi && b === lo) return false;
      i = (i + 1) & this.mask;
    }
    s[2 * i] = hi;
    s[2 * i + 1] = lo;
    if (++this.size * 2 > this.mask + 1) this.grow();
    return true;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.slots.byteLength;
  }

  private grow(): void {
    const old = this.slots;
    this.slots = new Uint32Array(old.length * 2);
    this.mask = this.slots.length / 2 - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i] !== 0 || old[i + 1] !== 0) this.insert(old[i], old[i + 1]);
    }
  }
}
