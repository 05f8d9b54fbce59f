/**
 * Leader election wire types. Peer messages carry no sender: the transport stamps `from`.
 */
import type { Counter } from '../../src/bounds.js';
import type { NodeId, NodeIdList } from '../../src/protocol.js';

/** The replicated state the leader holds and syncs to followers. */
export interface ElectionData {
  /** Bumped by every client write at the leader. */
  version: Counter;
  value: string | null;
}

/** PreVote (Raft thesis §9.6): would you vote for me in `term`? Changes no state at the receiver. */
export interface PreVoteRequest {
  type: 'pre_vote_request';
  /** The term the sender would campaign in (its current term + 1). */
  term: Counter;
  version: Counter;
}

/** The answer to a pre-vote request. */
export interface PreVote {
  type: 'pre_vote';
  /**
   * Granted: the term asked for. Refused: the refuser's own term, which a requester behind it
   * adopts (so a node that missed a term learns it even when every pre-vote it asks is refused).
   */
  term: Counter;
  granted: boolean;
}

/** Raft §5.2 RequestVote. */
export interface VoteRequest {
  type: 'vote_request';
  term: Counter;
  version: Counter;
}

/** `vote_grant` / `vote_deny` in the seed. */
export interface Vote {
  type: 'vote';
  term: Counter;
  granted: boolean;
}

/** The leader's heartbeat. */
export interface LeaderAnnounce {
  type: 'leader_announce';
  term: Counter;
  version: Counter;
}

/** A follower's answer to a heartbeat: its term and how far its state is. */
export interface LeaderAck {
  type: 'leader_ack';
  term: Counter;
  version: Counter;
}

/** The leader's state, sent to a follower whose ack shows it behind (`sync_recovery`). */
export interface StateSync {
  type: 'state_sync';
  term: Counter;
  data: ElectionData;
}

export type ElectionMessage = PreVoteRequest | PreVote | VoteRequest | Vote | LeaderAnnounce | LeaderAck | StateSync;

/**
 * Client requests a node accepts: `client.set` writes the replicated value (at the leader; any
 * other node refuses it with `not_leader`), `client.get` reads it as this node knows it.
 */
export type ElectionClient = { type: 'client.set'; value: string } | { type: 'client.get' };

/** Timer events the machine raises to itself with a delay. */
export type ElectionTimer = { type: 'election_timeout' } | { type: 'heartbeat' };

/**
 * The leader a node follows, or null when it follows none.
 * @TJS-type ["integer", "null"]
 * @minimum 1
 * @maximum 32
 */
export type LeaderOrNone = NodeId | null;

/** Observable facts: ghost history, traces and client answers. */
export type ElectionNote =
  | { type: 'term'; term: Counter }
  | { type: 'voted'; term: Counter; for: NodeId }
  | { type: 'elected'; term: Counter; votes: NodeIdList }
  | { type: 'accept_leader'; term: Counter; leader: NodeId }
  | { type: 'synced'; term: Counter; version: Counter }
  | { type: 'written'; term: Counter; version: Counter }
  /** A write refused: this node is not the leader; `leader` is the node it follows (the one to ask), null when it follows none. */
  | { type: 'not_leader'; term: Counter; leader: LeaderOrNone }
  /** Answer to `client.get`: the replicated value as this node holds it, and the leader it follows. */
  | { type: 'value'; term: Counter; version: Counter; value: string | null; leader: LeaderOrNone };

export type Inbound<M> = M & { from: NodeId };
export type ElectionEvent = Inbound<ElectionMessage> | ElectionClient | ElectionTimer;
