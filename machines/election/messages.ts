/**
 * Leader election wire types. Peer messages carry no sender: the transport stamps `from`.
 */
import type { NodeId } from '../../src/protocol.js';

/** The replicated state the leader holds and syncs to followers. */
export interface ElectionData {
  /** Bumped by every client write at the leader. */
  version: number;
  value: string | null;
}

/** PreVote (Raft thesis §9.6): would you vote for me in `term`? Changes no state at the receiver. */
export interface PreVoteRequest {
  type: 'pre_vote_request';
  /** The term the sender would campaign in (its current term + 1). */
  term: number;
  version: number;
}

export interface PreVote {
  type: 'pre_vote';
  term: number;
  granted: boolean;
}

/** Raft §5.2 RequestVote. */
export interface VoteRequest {
  type: 'vote_request';
  term: number;
  version: number;
}

/** `vote_grant` / `vote_deny` in the seed. */
export interface Vote {
  type: 'vote';
  term: number;
  granted: boolean;
}

/** The leader's heartbeat. */
export interface LeaderAnnounce {
  type: 'leader_announce';
  term: number;
  version: number;
}

/** A follower's answer to a heartbeat: its term and how far its state is. */
export interface LeaderAck {
  type: 'leader_ack';
  term: number;
  version: number;
}

/** The leader's state, sent to a follower whose ack shows it behind (`sync_recovery`). */
export interface StateSync {
  type: 'state_sync';
  term: number;
  data: ElectionData;
}

export type ElectionMessage = PreVoteRequest | PreVote | VoteRequest | Vote | LeaderAnnounce | LeaderAck | StateSync;

/** Client requests a node accepts. */
export type ElectionClient = { type: 'client.set'; value: string };

/** Timer events the machine raises to itself with a delay. */
export type ElectionTimer = { type: 'election_timeout' } | { type: 'heartbeat' };

/** Observable facts: ghost history, traces and client answers. */
export type ElectionNote =
  | { type: 'term'; term: number }
  | { type: 'voted'; term: number; for: NodeId }
  | { type: 'elected'; term: number; votes: NodeId[] }
  | { type: 'accept_leader'; term: number; leader: NodeId }
  | { type: 'synced'; term: number; version: number }
  | { type: 'written'; term: number; version: number };

export type Inbound<M> = M & { from: NodeId };
export type ElectionEvent = Inbound<ElectionMessage> | ElectionClient | ElectionTimer;
