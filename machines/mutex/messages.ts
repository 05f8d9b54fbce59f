/**
 * Lamport mutex wire types. Every peer message carries the sender's Lamport timestamp; the
 * transport stamps `from`.
 */
import type { Counter, Token } from '../../src/bounds.js';
import type { NodeId } from '../../src/protocol.js';

/** "Tm:Pi requests resource", broadcast to every other node. */
export interface MutexRequestMessage {
  type: 'request';
  ts: Counter;
}

/** The timestamped acknowledgment of a request. */
export interface MutexReplyMessage {
  type: 'reply';
  ts: Counter;
}

/** "Pi releases resource", broadcast on exit: receivers drop every request of the sender. */
export interface MutexReleaseMessage {
  type: 'release';
  ts: Counter;
}

/** Sent by a restarted node, which lost its queue: "tell me what you are waiting for". */
export interface MutexRejoinMessage {
  type: 'rejoin';
  ts: Counter;
}

/** Answer to `rejoin`: the sender's own outstanding request, if any. */
export interface MutexRejoinAckMessage {
  type: 'rejoin_ack';
  ts: Counter;
  /**
   * The timestamp of the sender's outstanding request, or null.
   * @TJS-type ["integer", "null"]
   * @minimum 0
   * @maximum 281474976710655
   */
  pending: number | null;
}

export type MutexMessage = MutexRequestMessage | MutexReplyMessage | MutexReleaseMessage | MutexRejoinMessage | MutexRejoinAckMessage;

/**
 * Take the lock at this node. The session (connection) that sent it holds the lock until it
 * releases it or its lease ends: `leaseMs` after the last request it sent (default 10 s).
 */
export interface MutexAcquire {
  type: 'client.acquire';
  /**
   * The session's lease, in ms (LEASE_MS in timing.ts).
   * @TJS-type integer
   * @minimum 100
   * @maximum 300000
   */
  leaseMs?: number;
}

/** Give the lock back after the critical work; only the session holding it may. */
export interface MutexRelease {
  type: 'client.release';
}

/** Client requests a node accepts. */
export type MutexClient = MutexAcquire | MutexRelease;

/** A request as it sits in a node's queue. */
export interface QueuedRequest {
  ts: Counter;
  node: NodeId;
}

/** Observable facts. `enter` is the grant a client receives, with its fencing token. */
export type MutexNote =
  | { type: 'request'; ts: Counter }
  | { type: 'enter'; ts: Counter; token: Token }
  | { type: 'exit'; ts: Counter; token: Token };

export type Inbound<M> = M & { from: NodeId };
export type MutexEvent = Inbound<MutexMessage> | MutexClient;
