/**
 * Client frames wait here and are handled a few per event-loop turn, in a `setImmediate` after
 * the turn's I/O and timers; peer frames are handled as they arrive. So however hard clients
 * push, a node's heartbeats, votes and timers keep their turn and no client load can cost a
 * leader its leadership. Connections take turns one frame at a time. A connection whose waiting
 * frames exceed a byte bound stops being read (TCP pushes back on the client) until it drains to
 * half of that, so what waits here is bounded per connection.
 */
import type { Socket } from 'node:net';

interface Waiting {
  lines: string[];
  bytes: number;
}

export class ClientQueue<C extends { socket: Socket }> {
  /** Connections with waiting frames, in the order they get their next turn. */
  private readonly waiting = new Map<C, Waiting>();
  private scheduled = false;

  constructor(
    private readonly framesPerTurn: number,
    private readonly maxQueuedBytes: number,
    private readonly handle: (conn: C, line: string) => void,
    /** A connection paused for another reason (its rate) is not resumed here. */
    private readonly held: (conn: C) => boolean = () => false,
  ) {}

  push(conn: C, line: string): void {
    let w = this.waiting.get(conn);
    if (!w) this.waiting.set(conn, (w = { lines: [], bytes: 0 }));
    w.lines.push(line);
    w.bytes += line.length;
    if (w.bytes > this.maxQueuedBytes) conn.socket.pause();
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Drops what a closed connection left waiting. */
  forget(conn: C): void {
    this.waiting.delete(conn);
  }

  /** Whether a connection's waiting frames leave room to read more of it. */
  roomFor(conn: C): boolean {
    return (this.waiting.get(conn)?.bytes ?? 0) <= this.maxQueuedBytes / 2;
  }

  /** Frames waiting, over all connections. */
  get size(): number {
    let n = 0;
    for (const w of this.waiting.values()) n += w.lines.length;
    return n;
  }

  private drain(): void {
    this.scheduled = false;
    for (let budget = this.framesPerTurn; budget > 0 && this.waiting.size > 0; budget--) {
      const [conn, w] = this.waiting.entries().next().value as [C, Waiting];
      const line = w.lines.shift()!;
      w.bytes -= line.length;
      // to the back of the line, or out of it
      this.waiting.delete(conn);
      if (w.lines.length) this.waiting.set(conn, w);
      if (w.bytes <= this.maxQueuedBytes / 2 && conn.socket.isPaused() && !conn.socket.destroyed && !this.held(conn)) conn.socket.resume();
      this.handle(conn, line);
    }
    if (this.waiting.size > 0) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }
}
