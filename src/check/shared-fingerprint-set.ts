/**
 * A set of 64-bit fingerprints in shared memory, for threads exploring one space: open
 * addressing over (lo, hi) pairs of an Int32Array, linear probing. A thread claims a slot by a
 * compare-and-swap on its `lo` word and then publishes `hi`; neither word is ever 0 in a used
 * slot, so a reader that finds `hi` still 0 waits for it. Threads count what they add locally
 * and publish the count in batches (`poll`), so no word is written by every insert.
 *
 * The table grows, so that it holds about 16-32 bytes per world whatever the space: its memory
 * is one growable SharedArrayBuffer, reserved up front and committed as it grows. Growing moves
 * every entry, so it happens with every thread stopped: at a `poll` (each thread polls between
 * batches of inserts, and while it waits for work) a thread that finds the table half full asks
 * for it, every thread that polls then waits, and once the last of the threads still searching
 * (`leave` takes a thread out) has stopped, they all move the entries together: the table is
 * doubled, each thread claims blocks of the old half in turn, copies their entries out and
 * clears them, and when every block is cleared each puts back what it copied. Between two polls
 * a thread adds at most a batch of worlds, so the table never gets near full before it grows;
 * at its largest size it calls itself full at 75% load rather than slow down.
 */
import type { Hash64 } from '../sim/hash64.js';
import { CACHE_SLOTS } from './fingerprint-set.js';

export interface SharedFingerprintBuffers {
  /** Growable, up to the most the set may take. */
  slots: SharedArrayBuffer;
  /** [size, capacity, resize state, threads waiting, threads searching, generation, blocks claimed, blocks copied, threads moving, threads done moving] */
  control: SharedArrayBuffer;
}

/** A growable SharedArrayBuffer (ES2024, Node 20), missing from the TypeScript library this project compiles against. */
type Growable = SharedArrayBuffer & { grow(bytes: number): void; readonly maxByteLength: number };
const GrowableBuffer = SharedArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => Growable;

const SIZE = 0;
const CAPACITY = 1;
const RESIZE = 2;
const WAITING = 3;
const SEARCHING = 4;
const GENERATION = 5;
const CLAIMED = 6;
const COPIED = 7;
const MOVERS = 8;
const MOVED = 9;
const CONTROL_INTS = 10;
/** Resize states. */
const NONE = 0;
const ASKED = 1;
const PREPARING = 2;
const MOVING = 3;
/** The most slots one block of a move holds (256 KiB). */
const BLOCK_SLOTS = 2 ** 15;

export class SharedFingerprintSet {
  private readonly buffer: Growable;
  /** A fixed-length view of the table's current size (V8 reads a view that tracks a growable buffer's length slower). */
  private slots: Int32Array;
  private readonly control: Int32Array;
  private mask: number;
  private unpublished = 0;
  /**
   * This thread's own cache of fingerprints known to be in the table, direct-mapped: (lo, hi)
   * pairs, (0, 0) when empty. A depth-first search meets the same worlds again soon (two
   * orders of commuting steps reach one world a few steps apart), so most look-ups of worlds
   * seen before end here, in memory no other thread writes, instead of in the shared table.
   * Entries are never removed from the table, so a hit is certain.
   */
  private readonly recent: Int32Array;
  private readonly recentMask: number;
  /** Wall time this thread spent in `poll` while the table grew (waiting for the others, or moving it), in ms. */
  resizingMs = 0;
  /**
   * Called while this thread waits for the others before the table grows: true gives the wait
   * up, the table left as it is (for a search that fails: a thread that stopped will never come).
   */
  abandon?: () => boolean;

  /** `capacityPow2` slots to start with (8 bytes each), growing up to `maxCapacityPow2`; `threads` searching. */
  static allocate(capacityPow2: number, maxCapacityPow2: number, threads: number): SharedFingerprintBuffers {
    const slots = new GrowableBuffer(capacityPow2 * 8, { maxByteLength: Math.max(capacityPow2, maxCapacityPow2) * 8 });
    const control = new SharedArrayBuffer(CONTROL_INTS * 4);
    const c = new Int32Array(control);
    c[CAPACITY] = capacityPow2;
    c[SEARCHING] = threads;
    return { slots, control };
  }

  /** `pause`, when given, is called at steps of a move (a test hook injecting delays). */
  constructor(
    buffers: SharedFingerprintBuffers,
    private readonly pause?: () => void,
    recentPow2 = CACHE_SLOTS,
  ) {
    this.recent = new Int32Array(recentPow2 * 2);
    this.recentMask = recentPow2 - 1;
    this.buffer = buffers.slots as Growable;
    this.control = new Int32Array(buffers.control);
    this.mask = Atomics.load(this.control, CAPACITY) - 1;
    this.slots = new Int32Array(buffers.slots, 0, (this.mask + 1) * 2);
  }

  /** Worlds added by every thread, as of their last `poll`. */
  get size(): number {
    return Atomics.load(this.control, SIZE) + this.unpublished;
  }

  get capacity(): number {
    return Atomics.load(this.control, CAPACITY);
  }

  get bytes(): number {
    return this.capacity * 8;
  }

  /** True once the set is too full to take more worlds (at its largest size). */
  get full(): boolean {
    return this.size * 4 >= this.capacity * 3;
  }

  /**
   * Publishes what this thread added since the last poll, and grows the table (with every
   * searching thread stopped here, each helping to move it) when it is half full. Call it
   * between batches of inserts.
   */
  poll(): void {
    if (this.unpublished) Atomics.add(this.control, SIZE, this.unpublished);
    this.unpublished = 0;
    const c = this.control;
    if (Atomics.load(c, RESIZE) === NONE) {
      const capacity = Atomics.load(c, CAPACITY);
      if (Atomics.load(c, SIZE) * 2 < capacity || capacity * 2 * 8 > this.buffer.maxByteLength) return;
      Atomics.compareExchange(c, RESIZE, NONE, ASKED);
    }
    const started = performance.now();
    const generation = Atomics.load(c, GENERATION);
    Atomics.add(c, WAITING, 1);
    let helped = false;
    while (Atomics.load(c, GENERATION) === generation) {
      const state = Atomics.load(c, RESIZE);
      if (state === ASKED && this.lead(0)) helped = true;
      else if (state === MOVING && !helped) {
        helped = true;
        this.help();
      } else if (state === ASKED && this.abandon?.()) {
        Atomics.sub(c, WAITING, 1);
        break;
      } else Atomics.wait(c, RESIZE, state, 50);
    }
    this.view();
    this.resizingMs += performance.now() - started;
  }

  /**
   * Publishes what this thread added, and grows the table as far as that needs, while no
   * searching thread has started yet (the main thread searched a prefix of the space into it).
   */
  settle(): void {
    if (this.unpublished) Atomics.add(this.control, SIZE, this.unpublished);
    this.unpublished = 0;
    const c = this.control;
    while (Atomics.load(c, SIZE) * 2 >= Atomics.load(c, CAPACITY) && Atomics.load(c, CAPACITY) * 2 * 8 <= this.buffer.maxByteLength) {
      Atomics.store(c, RESIZE, ASKED);
      this.start(1);
    }
  }

  /** This thread adds no more worlds (it stops searching): a resize no longer waits for it. */
  leave(): void {
    this.poll();
    Atomics.sub(this.control, SEARCHING, 1);
    if (Atomics.load(this.control, RESIZE) === ASKED) this.lead(1);
  }

  /**
   * Starts the move asked for, once every searching thread waits in `poll`, and takes part in
   * it: doubles the table, then lets the waiting threads (and `extra` more: this one, when it
   * does not wait) move it together. False when it is not this thread's to start.
   */
  private lead(extra: number): boolean {
    const c = this.control;
    return Atomics.load(c, WAITING) >= Atomics.load(c, SEARCHING) && this.start(Atomics.load(c, WAITING) + extra);
  }

  /** Starts the move asked for, to be made by `movers` threads, this one among them; false when another thread started it. */
  private start(movers: number): boolean {
    const c = this.control;
    if (Atomics.compareExchange(c, RESIZE, ASKED, PREPARING) !== ASKED) return false;
    const capacity = Atomics.load(c, CAPACITY);
    // The new half is fresh memory, all zero.
    this.buffer.grow(capacity * 2 * 8);
    Atomics.store(c, CLAIMED, 0);
    Atomics.store(c, COPIED, 0);
    Atomics.store(c, MOVED, 0);
    Atomics.store(c, MOVERS, movers);
    Atomics.store(c, CAPACITY, capacity * 2);
    Atomics.store(c, RESIZE, MOVING);
    Atomics.notify(c, RESIZE);
    this.help();
    return true;
  }

  /**
   * One mover's share of a move: claims blocks of the old half until none is left, copying
   * their entries out and clearing them; once every block is cleared, puts what it copied into
   * the doubled table. The last mover to finish ends the move.
   */
  private help(): void {
    const c = this.control;
    this.view();
    const old = (this.mask + 1) / 2;
    const blockSlots = Math.min(BLOCK_SLOTS, Math.max(16, old / 16));
    const blocks = Math.ceil(old / blockSlots);
    const s = this.slots;
    const copied: Int32Array[] = [];
    for (let block = Atomics.add(c, CLAIMED, 1); block < blocks; block = Atomics.add(c, CLAIMED, 1)) {
      this.pause?.();
      const from = block * blockSlots * 2;
      const to = Math.min(old, (block + 1) * blockSlots) * 2;
      let used = 0;
      for (let i = from; i < to; i += 2) if (s[i] !== 0) used++;
      const entries = new Int32Array(used * 2);
      for (let i = from, k = 0; i < to; i += 2) {
        if (s[i] === 0) continue;
        entries[k++] = s[i];
        entries[k++] = s[i + 1];
      }
      s.fill(0, from, to);
      copied.push(entries);
      if (Atomics.add(c, COPIED, 1) + 1 === blocks) Atomics.notify(c, COPIED);
    }
    for (let done = Atomics.load(c, COPIED); done < blocks; done = Atomics.load(c, COPIED)) Atomics.wait(c, COPIED, done, 50);
    this.pause?.();
    for (const entries of copied) for (let i = 0; i < entries.length; i += 2) this.place(entries[i], entries[i + 1]);
    if (Atomics.add(c, MOVED, 1) + 1 < Atomics.load(c, MOVERS)) return;
    Atomics.store(c, WAITING, 0);
    Atomics.store(c, RESIZE, NONE);
    Atomics.add(c, GENERATION, 1);
    Atomics.notify(c, RESIZE);
  }

  /** Views the table at its current size. */
  private view(): void {
    this.mask = Atomics.load(this.control, CAPACITY) - 1;
    if (this.slots.length !== (this.mask + 1) * 2) this.slots = new Int32Array(this.buffer, 0, (this.mask + 1) * 2);
  }

  /** Puts an entry known to be absent into the table, while other movers may be putting theirs. */
  private place(lo: number, hi: number): void {
    const s = this.slots;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    while (s[2 * i] !== 0 || Atomics.compareExchange(s, 2 * i, 0, lo) !== 0) i = (i + 1) & this.mask;
    Atomics.store(s, 2 * i + 1, hi);
  }

  /** Adds `h`; returns false when it was already there (added by any thread). */
  add(h: Hash64): boolean {
    const lo = h.lo | 0 || 1;
    const hi = h.hi | 0 || 1;
    const r = this.recent;
    const k = 2 * ((hi ^ (lo >>> 15)) & this.recentMask);
    if (r[k] === lo && r[k + 1] === hi) return false;
    r[k] = lo;
    r[k + 1] = hi;
    const s = this.slots;
    let i = (lo ^ Math.imul(hi, 0x9e3779b1)) & this.mask;
    for (;;) {
      const at = 2 * i;
      // Most lookups find a world already there: read first, so that only an insert takes
      // the cache line for writing (a compare-and-swap does even when it fails). A plain read
      // suffices: a used word never changes, so a stale read can only be 0, and the
      // compare-and-swap then reads the word for certain.
      let old = s[at];
      if (old === 0) old = Atomics.compareExchange(s, at, 0, lo);
      if (old === 0) {
        Atomics.store(s, at + 1, hi);
        this.unpublished++;
        return true;
      }
      if (old === lo) {
        let other = s[at + 1];
        if (other === 0) other = Atomics.load(s, at + 1);
        while (other === 0) other = Atomics.load(s, at + 1);
        if (other === hi) return false;
      }
      i = (i + 1) & this.mask;
    }
  }
}
