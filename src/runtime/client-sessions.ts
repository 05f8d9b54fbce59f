/**
 * Client sessions that own a resource (a lock), for a protocol that declares `sessions`. A lock
 * granted to a node is only a lock if it belongs to the client that asked: otherwise any client
 * of that node may release it, and a client that crashed in its critical section blocks every
 * other forever. So, as etcd ties a lock to a lease and ZooKeeper to a session:
 *
 * - The session (connection) whose acquire the machine acted on owns the node's resource. An
 *   acquire from another session, and a release from any session but the owner, are refused.
 * - Every request the owner sends renews its lease. When `leaseMs` (chosen in the acquire,
 *   bounded by the protocol) passes without one, connected or not, the session loses the
 *   resource: the host feeds the machine the protocol's own release request, as a client
 *   would, so the trace shows it and the conformance replay checks it. If the grant has not
 *   come yet, the release is fed the moment it comes; until then the node is busy.
 * - The owner's release before the grant gives the resource up the same way.
 *
 * No protocol decision is made here: this decides who may send the requests, never what they do.
 */
import type { SessionSpec } from '../protocol.js';

/** What the sessions need from their host. */
export interface SessionHost {
  /** Feeds the machine a client request, as a client's would be. */
  feed(request: { type: string }): void;
  log(line: string): void;
}

type Note = { type: string };

export class ClientSessions<S> {
  private owner: S | null = null;
  /** The node was granted the resource and has not given it back. */
  private held = false;
  /** The owner is gone while the grant is still to come: release it on arrival. */
  private lapsed = false;
  private leaseMs: number;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly spec: SessionSpec,
    private readonly host: SessionHost,
  ) {
    this.leaseMs = spec.leaseMs.default;
  }

  /**
   * Called before any request of `session` reaches the node: renews the owner's lease, and
   * returns why the request is refused, or undefined.
   */
  admit(session: S, request: { type: string; leaseMs?: unknown }): string | undefined {
    if (session === this.owner) this.arm();
    if (request.type === this.spec.acquire) {
      const lease = request.leaseMs;
      const { min, max } = this.spec.leaseMs;
      if (lease !== undefined && !(typeof lease === 'number' && lease % 1 === 0 && lease >= min && lease <= max)) return `leaseMs must be an integer from ${min} to ${max}`;
      if (this.owner !== null && this.owner !== session) return `busy: another session holds or awaits the lock at this node`;
      if (this.lapsed) return `busy: the lock at this node is being released from a session whose lease ended`;
    } else if (request.type === this.spec.release && (this.owner === null || this.owner !== session)) {
      return `this session holds no lock at this node`;
    }
    return undefined;
  }

  /** Called after the machine handled a request of `session`; `acted`: its state changed. */
  settle(session: S, request: { type: string; leaseMs?: unknown }, acted: boolean): void {
    if (request.type === this.spec.acquire) {
      if (acted) this.owner = session;
      if (session !== this.owner) return;
      // Its own lease: the one it chose, else the protocol's default (never the last owner's).
      this.leaseMs = typeof request.leaseMs === 'number' ? request.leaseMs : this.spec.leaseMs.default;
      this.arm();
    } else if (request.type === this.spec.release && session === this.owner && !this.held) {
      this.giveUp('released before the grant');
    }
  }

  /** Called with the notes of every step of the machine. */
  observe(notes: readonly Note[]): void {
    for (const note of notes) {
      if (note.type === this.spec.granted) {
        this.held = true;
        if (this.lapsed) {
          this.lapsed = false;
          this.host.feed({ type: this.spec.release });
          return;
        }
      } else if (note.type === this.spec.released) {
        this.held = false;
        this.owner = null;
        this.lapsed = false;
        this.disarm();
      }
    }
  }

  /** Stops the lease timer (the host is stopping). */
  close(): void {
    this.disarm();
  }

  private arm(): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.giveUp(`lease of ${this.leaseMs} ms ended`);
    }, this.leaseMs);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The owner loses the resource: released now if granted, else as soon as the grant comes. */
  private giveUp(why: string): void {
    this.disarm();
    this.owner = null;
    if (this.held) {
      this.host.log(`client session ${why}: releasing its lock`);
      this.host.feed({ type: this.spec.release });
    } else {
      this.host.log(`client session ${why}: its lock will be released when granted`);
      this.lapsed = true;
    }
  }
}
