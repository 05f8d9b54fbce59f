/**
 * Consensus wire types: the seed's four message kinds (propose, promise, commit, ack) plus the
 * `decided` notification by which the verified flow tells every node the chosen value, each
 * for one slot of a log of decisions (Multi-Paxos). Peer messages carry no sender: the
 * transport stamps `from`.
 */
import type { Counter } from '../../src/bounds.js';
import type { NodeId } from '../../src/protocol.js';

/** A value an acceptor accepted for a slot, and in which term. */
export interface Accepted {
  slot: Counter;
  term: Counter;
  value: string;
}

/**
 * Phase 1 (`broadcast_propose`): will you promise `term`, for `slot` and every later slot?
 * Carries the proposer's own value for `slot`, as drawn.
 */
export interface ProposeMessage {
  type: 'propose';
  term: Counter;
  slot: Counter;
  value: string;
}

/**
 * Phase 1 answer (`promise_accept`): the sender will refuse every lower term. In the verified
 * flow it lists what the sender accepted in `slot` and every later slot, one (slot, term, value)
 * each; as drawn it lists nothing (`accepted: []` always).
 */
export interface PromiseMessage {
  type: 'promise';
  term: Counter;
  slot: Counter;
  accepted: Accepted[];
}

/** Phase 2 (`broadcast_commit`): accept `value` for `slot` in `term`. */
export interface CommitMessage {
  type: 'commit';
  term: Counter;
  slot: Counter;
  value: string;
}

/** Phase 2 answer (`ack_commit`): the sender accepted (or, as drawn, applied) the commit of `term` for `slot`. */
export interface AckMessage {
  type: 'ack';
  term: Counter;
  slot: Counter;
}

/** Learning: a majority acked `value` for `slot` in `term`, so it is chosen there; apply it. */
export interface DecidedMessage {
  type: 'decided';
  term: Counter;
  slot: Counter;
  value: string;
}

export type ConsensusMessage = ProposeMessage | PromiseMessage | CommitMessage | AckMessage | DecidedMessage;

/**
 * Client requests a node accepts: propose `value` for the first slot this node knows no
 * decision of (answered with the slot and the value decided there), or read the decisions as
 * this node knows them. A proposal naming `maxSlot` is placed no later than that slot: when
 * this node already knows a decision there, the client is told it instead (the checker's
 * clients name the `slots` bound; a proposal without it goes to the next free slot).
 */
export type ConsensusClient = { type: 'client.propose'; value: string; maxSlot?: Counter } | { type: 'client.get' };

/** The proposer's retry timer (`consensus_timeout`, 5000 ms in the seed). */
export type ConsensusTimer = { type: 'consensus_timeout' };

/**
 * Observable facts: ghost history, traces and client answers.
 * - `proposed`: a client asked this node to propose `value`, which it proposes for `slot`.
 * - `promised`: this node's promised term rose to `term`.
 * - `accepted`: this node accepted `value` for `slot` in `term` (phase 2).
 * - `applied`: this node applied `value` for `slot` to its local state (`apply_consensus`).
 * - `decided`: this node, as proposer, saw a majority ack `value` for `slot` in `term` (`consensus_complete`).
 * - `decision`: the answer to a client's proposal of `proposal`: `value` is decided for `slot`
 *   (the client's value was placed when the two are equal); `value` null: this node is
 *   proposing another client's value for `slot` and did not take this one.
 * - `log`: answer to a read: the value decided for each slot as this node knows it (`decided[0]`
 *   is slot 1; null: not known here).
 */
export type ConsensusNote =
  | { type: 'proposed'; slot: Counter; value: string }
  | { type: 'promised'; term: Counter }
  | { type: 'accepted'; slot: Counter; term: Counter; value: string }
  | { type: 'applied'; slot: Counter; term: Counter; value: string }
  | { type: 'decided'; slot: Counter; term: Counter; value: string }
  | { type: 'decision'; slot: Counter; value: string | null; proposal: string }
  | { type: 'log'; decided: (string | null)[] };

export type Inbound<M> = M & { from: NodeId };
export type ConsensusEvent = Inbound<ConsensusMessage> | ConsensusClient | ConsensusTimer;
