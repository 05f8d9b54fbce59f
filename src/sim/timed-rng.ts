/**
 * The timed simulation's one source of randomness: mulberry32, a 32-bit seeded generator.
 * Link latencies drawn from a range and jittered timers both draw from it, in event order,
 * so a seed replays a run exactly.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [lo, hi]. */
  int(lo: number, hi: number): number {
    const a = Math.ceil(lo);
    return a + Math.floor(this.next() * (Math.floor(hi) - a + 1));
  }
}
