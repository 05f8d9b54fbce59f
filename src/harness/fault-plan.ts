/**
 * The faults the proxies apply right now: a partition (frames between sides are cut), delays per
 * directed link, and a probability of dropping each frame, drawn from a seeded generator so a
 * run's drops can be replayed with its seed.
 */
export type LinkFate = { kind: 'pass'; delayMs: number } | { kind: 'partition' | 'dropped' };

export class FaultPlan {
  private side = new Map<number, number>();
  private readonly delays = new Map<string, number>();
  private everyLinkDelayMs = 0;
  private dropRate = 0;
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0 || 1;
  }

  partition(sides: number[][]): void {
    this.side = new Map(sides.flatMap((s, i) => s.map((id) => [id, i] as [number, number])));
  }

  heal(): void {
    this.side = new Map();
  }

  /** Delays frames on the given directed links, or on every link (and forgets per-link delays). */
  delay(ms: number, links?: [number, number][]): void {
    if (!links) {
      this.everyLinkDelayMs = ms;
      this.delays.clear();
    } else for (const [a, b] of links) this.delays.set(`${a}>${b}`, ms);
  }

  drop(rate: number): void {
    this.dropRate = rate;
  }

  /** xorshift32: small, seeded, good enough to decide drops. */
  private random(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }

  fate(from: number, to: number): LinkFate {
    const a = this.side.get(from);
    const b = this.side.get(to);
    if (a !== undefined && b !== undefined && a !== b) return { kind: 'partition' };
    if (this.dropRate > 0 && this.random() < this.dropRate) return { kind: 'dropped' };
    return { kind: 'pass', delayMs: this.delays.get(`${from}>${to}`) ?? this.everyLinkDelayMs };
  }
}
