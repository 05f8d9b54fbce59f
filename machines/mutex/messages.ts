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

/** Client requests a node accepts: take the lock, and give it back after the critical work. */
export type MutexClient = { type: 'client.acquire' } | { type: 'client.release' };

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
