/**
 * What one connection may cost a node, and the small meters that hold it to that. A node serves
 * its peers before its clients and never lets an unproven or idle connection hold a socket for
 * long: every bound below is per node and can be lowered for tests. Proven peers are exempt from
 * the connection caps (each has at most one inbound connection, the newest), so no number of
 * clients can cut a node off from its peers.
 */
import { monotonicMs } from './trace-clock.js';

export interface Limits {
  /** The TLS handshake, and then the hello, must each finish within this. */
  helloDeadlineMs: number;
  /** A client or admin connection that sends nothing for this long is closed. */
  clientIdleTimeoutMs: number;
  /** Open connections not proven to be peers (clients, admins, connections before their hello). */
  maxConnections: number;
  /** The same, from one remote address. */
  maxConnectionsPerAddress: number;
  /** Requests a client connection may send per second, on average... */
  clientRequestsPerSecond: number;
  /**
   * ...and in one burst. Beyond that a request is answered with an error and the connection is
   * not read until its burst is refilled (at most a second), so a flood costs the node little.
   */
  clientRequestBurst: number;
  /** Client frames handled per event-loop turn, after the turn's peer frames and timers. */
  clientFramesPerTurn: number;
  /** Bytes of a client's frames waiting to be handled before its socket stops being read. */
  clientQueuedBytes: number;
  /** Bytes of answers and notes a client may leave unread before it is disconnected. */
  clientUnreadBytes: number;
  /** Refusal log lines per second (and burst); the rest are counted and reported as a number. */
  refusalLogsPerSecond: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = {
  helloDeadlineMs: 5_000,
  clientIdleTimeoutMs: 300_000,
  maxConnections: 256,
  maxConnectionsPerAddress: 32,
  clientRequestsPerSecond: 1_000,
  clientRequestBurst: 100,
  clientFramesPerTurn: 32,
  clientQueuedBytes: 64 * 1024,
  clientUnreadBytes: 256 * 1024,
  refusalLogsPerSecond: 20,
};

/** A token bucket: `take()` succeeds at most `burst` times at once and `ratePerSecond` on average. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    private readonly nowMs: () => number = monotonicMs,
  ) {
    this.tokens = burst;
    this.last = nowMs();
  }

  take(): boolean {
    const now = this.nowMs();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.ratePerSecond) / 1000);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * A log that writes at most `perSecond` lines per second (with a burst as large); lines beyond
 * that are counted, and the count is written as one line a second later, so a flood of refused
 * frames cannot flood the log or cost the node its time.
 */
export class RateLimitedLog {
  private readonly bucket: TokenBucket;
  private dropped = 0;
  private report: NodeJS.Timeout | null = null;

  constructor(
    private readonly log: (line: string) => void,
    private readonly perSecond: number,
  ) {
    this.bucket = new TokenBucket(perSecond, perSecond);
  }

  line(text: string): void {
    if (this.bucket.take()) return this.log(text);
    this.dropped++;
    this.report ??= setTimeout(() => this.flush(), 1000).unref();
  }

  /** Writes the count of lines not written, if any. */
  flush(): void {
    if (this.report) clearTimeout(this.report);
    this.report = null;
    if (this.dropped === 0) return;
    this.log(`${this.dropped} more refusals not logged (over ${this.perSecond} lines/s)`);
    this.dropped = 0;
  }
}
