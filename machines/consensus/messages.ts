/**
 * Consensus wire types: the seed's four message kinds (propose, promise, commit, ack) plus the
 * `decided` notification by which the verified flow tells every node the chosen value. Peer
 * messages carry no sender: the transport stamps `from`.
 */
import type { Counter } from '../../src/bounds.js';
import type { NodeId } from '../../src/protocol.js';

/** A value an acceptor accepted, and in which term. */
export interface Accepted {
  term: Counter;
  value: string;
}

/** Phase 1 (`broadcast_propose`): will you promise `term`? Carries the proposer's own value, as drawn. */
export interface ProposeMessage {
  type: 'propose';
  term: Counter;
  value: string;
}

/**
 * Phase 1 answer (`promise_accept`): the sender will refuse every lower term. In the verified
 * flow it carries the highest (term, value) the sender already accepted; as drawn it carries
 * nothing (`accepted: null` always).
 */
export interface PromiseMessage {
  type: 'promise';
  term: Counter;
  accepted: Accepted | null;
}

/** Phase 2 (`broadcast_commit`): accept `value` in `term`. */
export interface CommitMessage {
  type: 'commit';
  term: Counter;
  value: string;
}

/** Phase 2 answer (`ack_commit`): the sender accepted (or, as drawn, applied) the commit of `term`. */
export interface AckMessage {
  type: 'ack';
  term: Counter;
}

/** Learning: a majority acked `value` in `term`, so it is chosen; apply it. */
export interface DecidedMessage {
  type: 'decided';
  term: Counter;
  value: string;
}

export type ConsensusMessage = ProposeMessage | PromiseMessage | CommitMessage | AckMessage | DecidedMessage;

/**
 * Client requests a node accepts: propose `value` for consensus (at a node that already knows
 * the decision, answered with it), or read the decision as this node knows it.
 */
export type ConsensusClient = { type: 'client.propose'; value: string } | { type: 'client.get' };

/** The proposer's retry timer (`consensus_timeout`, 5000 ms in the seed). */
export type ConsensusTimer = { type: 'consensus_timeout' };

/**
 * Observable facts: ghost history, traces and client answers.
 * - `proposed`: a client asked this node to propose `value`.
 * - `promised`: this node's promised term rose to `term`.
 * - `accepted`: this node accepted `value` in `term` (phase 2).
 * - `applied`: this node applied `value` to its local state (`apply_consensus`).
 * - `decided`: this node, as proposer, saw a majority ack `value` in `term` (`consensus_complete`).
 * - `decision`: answer to a proposal or a read: the decided value as this node knows it (null:
 *   it knows none yet).
 */
export type ConsensusNote =
  | { type: 'proposed'; value: string }
  | { type: 'promised'; term: Counter }
  | { type: 'accepted'; term: Counter; value: string }
  | { type: 'applied'; term: Counter; value: string }
  | { type: 'decided'; term: Counter; value: string }
  | { type: 'decision'; value: string | null };

export type Inbound<M> = M & { from: NodeId };
export type ConsensusEvent = Inbound<ConsensusMessage> | ConsensusClient | ConsensusTimer;
