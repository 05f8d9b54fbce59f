/**
 * Single-value consensus, one machine per node: single-decree Paxos (Lamport, "Paxos Made
 * Simple", 2001) spoken with the seed's four messages. Every node is an acceptor; a node a client
 * asks to propose is also a proposer (and its own first acceptor).
 *
 * How the seed's flow maps onto Paxos:
 *
 * | seed (Diagram 1)           | Paxos Made Simple               | here                                  |
 * |----------------------------|---------------------------------|---------------------------------------|
 * | broadcast_propose(v, term) | phase 1a: prepare(n)            | `propose {term, value}`                |
 * | promise_accept(term)       | phase 1b: promise(n, last vote) | `promise {term, accepted}`             |
 * | broadcast_commit(v, term)  | phase 2a: accept!(n, v)         | `commit {term, value}`                 |
 * | ack_commit(term)           | phase 2b: accepted(n)           | `ack {term}`                           |
 * | consensus_complete         | value chosen, learned           | `decided` note, `decided` notification |
 *
 * What the verified flow adds to the seed's (the `as-drawn` variant leaves all of it out):
 * - A promise carries the highest (term, value) the node already accepted (P2c); a proposer that
 *   learns of one commits that value instead of its own. So once a value is chosen, every later
 *   term commits it.
 * - A node accepts a commit only in a term it has not promised to refuse (term ≥ promised, P1a);
 *   accepting raises its promise to that term, so the commit itself promises it.
 * - Nodes do not apply on commit. A value is decided when a majority has acked it; the proposer
 *   then applies it and broadcasts a `decided` notification, and each other node applies the
 *   value when that notification arrives. We chose a notification over "the next round teaches
 *   it" because it costs one broadcast (n - 1 frames), adds no round trip, and keeps `decided`
 *   meaning what the seed's `consensus_complete` means. A node that misses it (lost, crashed)
 *   applies nothing, which is safe; it learns the value when some proposer runs again, whose
 *   phase 1 finds the chosen value, commits it again and announces it again.
 *
 * Terms are unique per proposer: term = round · n + id (round = 0, 1, 2, ...), so node 2 of 3
 * proposes in terms 2, 5, 8, ... and two proposers never share a term. A proposer starts in
 * the smallest of its terms above the highest term it has promised, and promises that term to
 * itself first. On `consensus_timeout` (5000 ms, as in the seed) it retries in its next term.
 *
 * Terms are bounded (src/bounds.ts): a message carrying a term outside [0, MAX_COUNTER] is
 * ignored (`inBound`), whatever the transport let through. A promise of term 2^53 could never
 * be outbid (2^53 + n === 2^53 for small n in a JavaScript number), so one such frame would stop
 * every later proposal.
 *
 * Durable (written before any message that depends on it leaves): promised term, accepted
 * (term, value), the applied value and the client's proposal, so a restarted proposer retries.
 */
import { isCounter } from '../../src/bounds.js';
import { majority } from '../../src/quorum.js';
import { enqueueActions, setup } from 'xstate';
import type { NodeId, NodeInput } from '../../src/protocol.js';
import type { Accepted, ConsensusEvent, ConsensusMessage, ConsensusNote } from './messages.js';

export const CONSENSUS_TIMEOUT_MS = 5000;

export interface ConsensusContext {
  id: NodeId;
  n: number;
  /** Acceptor: the highest term promised; lower terms are refused. */
  promised: number;
  /** Acceptor: the last commit accepted. */
  accepted: Accepted | null;
  /** The value applied to this node's local state (`apply_consensus`), once. */
  learned: string | null;
  /** Proposer: the value a client asked this node to propose. */
  proposal: string | null;
  /** Proposer: the term of the current attempt (0: none). */
  term: number;
  /** Proposer: the value committed in `term`. */
  value: string | null;
  /** Proposer: nodes that promised `term`, sorted. */
  promises: NodeId[];
  /** Proposer: the highest accepted (term, value) those promises reported. */
  highest: Accepted | null;
  /** Proposer: nodes that acked `term`, sorted. */
  acks: NodeId[];
}

export interface ConsensusDurable {
  /** Absent in the `volatile-acceptor` variant: a restarted node has promised nothing. */
  promised?: number;
  accepted: Accepted | null;
  learned: string | null;
  proposal: string | null;
}

export interface ConsensusOptions {
  /**
   * `paxos`: accept a commit only for a term not below the promise, apply on `decided`.
   * `as-drawn`: the seed's flow: every commit is applied at once, nobody sends `decided`.
   */
  flow: 'paxos' | 'as-drawn';
  /** A promise reports the highest accepted (term, value). Off: `forget-accepted`, `as-drawn`. */
  carryAccepted: boolean;
  /** Promises (the proposer's own included) needed to commit. `half`: the `minority-commit` bug. */
  commitQuorum: 'majority' | 'half';
  /** The proposer counts its own promise and acceptance. Off: the `own-vote-uncounted` bug. */
  countOwn?: boolean;
  /** Acks that decide: a majority, or more (the `ack-quorum-above-majority` bug). */
  ackQuorum?: 'majority' | 'above-majority';
  /** The proposer broadcasts `decided`. Off: the `no-decided-broadcast` bug. */
  announce?: boolean;
  /** A `decided` is applied by a node that knew no decision. Inverted: the `ignore-decided` bug. */
  learnFromDecided?: boolean;
  /** A restarted node retries its pending proposal. Off: the `restart-idle` bug. */
  resumeProposal?: boolean;
  /**
   * What a node that does not take a client's proposal (it knows the decision, or proposes one
   * already) tells the client: the decision as it knows it; nothing (the `silent-after-decision`
   * bug); or the client's own value (the `tell-own-value` bug).
   */
  answerLate?: 'decision' | 'nothing' | 'own-value';
}

export type ConsensusEmitted = { type: 'send'; to: NodeId | 'others'; msg: ConsensusMessage } | { type: 'note'; note: ConsensusNote };


/** The round a term belongs to: terms 1..n are round 0, n+1..2n round 1, ... */
export const roundOfTerm = (term: number, n: number) => (term === 0 ? 0 : Math.floor((term - 1) / n));

/** The smallest term of node `id` (round · n + id) above `above`. */
export function nextTerm(id: NodeId, n: number, above: number): number {
  return above < id ? id : id + n * (Math.floor((above - id) / n) + 1);
}

const send = (to: NodeId | 'others', msg: ConsensusMessage): ConsensusEmitted => ({ type: 'send', to, msg });
const note = (fact: ConsensusNote): ConsensusEmitted => ({ type: 'note', note: fact });
const addNode = (nodes: NodeId[], id: NodeId) => (nodes.includes(id) ? nodes : [...nodes, id].sort((a, b) => a - b));
const higher = (a: Accepted | null, b: Accepted | null) => (!a || (b && b.term > a.term) ? b : a);
/** Every term the event carries (a promise's accepted term too) is a counter a node may adopt. */
const inBound = (event: ConsensusEvent) =>
  (!('term' in event) || isCounter(event.term)) && (event.type !== 'promise' || event.accepted === null || isCounter(event.accepted.term));

/**
 * The proposer's scratch fields when no attempt is running. Each phase clears what it no longer
 * reads, so worlds that differ only in stale bookkeeping are one world to the checker.
 */
const IDLE_PROPOSER = { term: 0, value: null, promises: [], highest: null, acks: [] } satisfies Partial<ConsensusContext>;

type Enqueue = { assign(values: Partial<ConsensusContext>): void; emit(e: ConsensusEmitted): void };

export function consensusMachine(options: ConsensusOptions, machineId = 'consensus') {
  const commitQuorum = (n: number) => (options.commitQuorum === 'majority' ? majority(n) : Math.floor(n / 2));
  const reported = (accepted: Accepted | null) => (options.carryAccepted ? accepted : null);

  /** Raises the promise to `term` (noting it) when it is higher. */
  const promise = (context: ConsensusContext, term: number, enqueue: Enqueue) => {
    if (term <= context.promised) return;
    enqueue.assign({ promised: term });
    enqueue.emit(note({ type: 'promised', term }));
  };

  /** Applies `value` to the local state once (as drawn: again whenever it differs). */
  const apply = (context: ConsensusContext, term: number, value: string, enqueue: Enqueue) => {
    if (context.learned === value || (options.flow === 'paxos' && context.learned !== null)) return;
    enqueue.assign({ learned: value });
    enqueue.emit(note({ type: 'applied', term, value }));
  };

  /** The acceptor's side of a commit, for a peer's commit and the proposer's own; true when acked. */
  const acceptCommit = (context: ConsensusContext, term: number, value: string, enqueue: Enqueue): boolean => {
    if (options.flow === 'as-drawn') {
      apply(context, term, value, enqueue);
      return true;
    }
    if (term < context.promised) return false;
    promise(context, term, enqueue);
    enqueue.assign({ accepted: { term, value } });
    enqueue.emit(note({ type: 'accepted', term, value }));
    return true;
  };

  return setup({
    types: {
      context: {} as ConsensusContext,
      events: {} as ConsensusEvent,
      input: {} as NodeInput<ConsensusDurable>,
      emitted: {} as ConsensusEmitted,
    },
    guards: {
      /** A client's proposal is not yet decided (a restarted proposer retries it). */
      pending: ({ context }) => options.resumeProposal !== false && context.proposal !== null && context.learned === null,
      /** This node knows the decided value. */
      hasLearned: ({ context }) => context.learned !== null,
      /** No decision is known yet, so a proposal can still be made. */
      canPropose: ({ context }) => context.learned === null,
      /** A promise for the term this node is proposing in (within bounds). */
      promiseForTerm: ({ context, event }) => event.type === 'promise' && inBound(event) && event.term === context.term,
      /** An ack of the term this node is committing in. */
      ackForTerm: ({ context, event }) => event.type === 'ack' && event.term === context.term,
      /** Promises (its own included) reached the commit quorum. */
      enoughPromises: ({ context }) => context.promises.length >= commitQuorum(context.n),
      /** A majority (its own acceptance included) acked the commit: the value is chosen. */
      enoughAcks: ({ context }) => (options.ackQuorum === 'above-majority' ? context.acks.length > majority(context.n) : context.acks.length >= majority(context.n)),
      /** A decided notification (within bounds) at a node that knew no decision yet. */
      firstDecision: ({ context, event }) => event.type === 'decided' && inBound(event) && (context.learned === null) === (options.learnFromDecided !== false),
      /** The message's terms are within the wire's bounds; a message outside them is ignored. */
      inBound: ({ event }) => inBound(event),
    },
    actions: {
      /** Keeps the client's value as this node's proposal (durable, so a restart retries it). */
      takeProposal: enqueueActions(({ event, enqueue }) => {
        if (event.type !== 'client.propose') return;
        enqueue.assign({ proposal: event.value });
        enqueue.emit(note({ type: 'proposed', value: event.value }));
      }),
      /** Phase 1 from the acceptor's side: promise a term no lower than any promised before. */
      answerPropose: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'propose' || event.term < context.promised) return;
        promise(context, event.term, enqueue);
        enqueue.emit(send(event.from, { type: 'promise', term: event.term, accepted: reported(context.accepted) }));
      }),
      /** Phase 2 from the acceptor's side. */
      answerCommit: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'commit') return;
        if (acceptCommit(context, event.term, event.value, enqueue)) enqueue.emit(send(event.from, { type: 'ack', term: event.term }));
      }),
      /** Phase 1 from the proposer's side: a fresh term, promised to itself first. */
      startTerm: enqueueActions(({ context, enqueue }) => {
        const term = nextTerm(context.id, context.n, context.promised);
        enqueue.assign({ term, value: null, promises: options.countOwn === false ? [] : [context.id], highest: reported(context.accepted), acks: [] });
        promise(context, term, enqueue);
        enqueue.emit(send('others', { type: 'propose', term, value: context.proposal! }));
        enqueue.raise({ type: 'consensus_timeout' }, { delay: CONSENSUS_TIMEOUT_MS, id: 'consensus' });
      }),
      /** Counts the sender's promise and keeps the highest (term, value) reported. */
      countPromise: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'promise') return;
        enqueue.assign({ promises: addNode(context.promises, event.from), highest: higher(context.highest, reported(event.accepted)) });
      }),
      /** Phase 2 from the proposer's side: the highest value reported, else its own. */
      startCommit: enqueueActions(({ context, enqueue }) => {
        const value = context.highest?.value ?? context.proposal!;
        enqueue.assign({ value, acks: [], promises: [], highest: null });
        if (acceptCommit(context, context.term, value, enqueue) && options.countOwn !== false) enqueue.assign({ acks: [context.id] });
        enqueue.emit(send('others', { type: 'commit', term: context.term, value }));
      }),
      /** Counts the sender's ack. */
      countAck: enqueueActions(({ context, event, enqueue }) => {
        if (event.type === 'ack') enqueue.assign({ acks: addNode(context.acks, event.from) });
      }),
      /** A majority acked: the value is chosen. Apply it and, in the verified flow, tell the others. */
      decide: enqueueActions(({ context, enqueue }) => {
        const decision = { term: context.term, value: context.value! };
        enqueue.cancel('consensus');
        enqueue.assign(IDLE_PROPOSER);
        enqueue.emit(note({ type: 'decided', ...decision }));
        if (options.flow === 'paxos') {
          apply(context, decision.term, decision.value, enqueue);
          if (options.announce !== false) enqueue.emit(send('others', { type: 'decided', ...decision }));
        }
      }),
      /** Answer to a read: the decided value, as this node knows it (null: none yet). */
      tellDecision: enqueueActions(({ context, enqueue }) => {
        enqueue.emit(note({ type: 'decision', value: context.learned }));
      }),
      /** Answer to a proposal the node does not take: the decided value as it knows it, which the proposal cannot change. */
      answerProposal: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'client.propose' || options.answerLate === 'nothing') return;
        enqueue.emit(note({ type: 'decision', value: options.answerLate === 'own-value' ? event.value : context.learned }));
      }),
      /** Applies the value another proposer decided and stops proposing. */
      learn: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'decided') return;
        enqueue.cancel('consensus');
        enqueue.assign(IDLE_PROPOSER);
        apply(context, event.term, event.value, enqueue);
      }),
    },
  }).createMachine({
    id: machineId,
    context: ({ input }) => ({
      id: input.id,
      n: input.n,
      promised: input.restored?.promised ?? 0,
      accepted: input.restored?.accepted ?? null,
      learned: input.restored?.learned ?? null,
      proposal: input.restored?.proposal ?? null,
      ...IDLE_PROPOSER,
    }),
    initial: 'start',
    on: {
      propose: { guard: 'inBound', actions: 'answerPropose' },
      commit: { guard: 'inBound', actions: 'answerCommit' },
      decided: { guard: 'firstDecision', target: '.learned', actions: 'learn' },
      // A proposal the node does not take (it knows the decision, or is proposing one already) cannot change
      // the decision: the client is told it as this node knows it.
      'client.propose': { actions: 'answerProposal' },
      'client.get': { actions: 'tellDecision' },
    },
    states: {
      /** Where a (re)started node resumes: a pending proposal is retried at once. */
      start: {
        always: [{ guard: 'pending', target: 'proposing' }, { guard: 'hasLearned', target: 'learned' }, { target: 'idle' }],
      },
      idle: {
        on: { 'client.propose': { guard: 'canPropose', target: 'proposing', actions: 'takeProposal' } },
      },
      proposing: {
        entry: 'startTerm',
        always: { guard: 'enoughPromises', target: 'committing' },
        on: {
          promise: { guard: 'promiseForTerm', actions: 'countPromise' },
          consensus_timeout: { target: 'proposing', reenter: true },
        },
      },
      committing: {
        entry: 'startCommit',
        always: { guard: 'enoughAcks', target: 'decided' },
        on: {
          ack: { guard: 'ackForTerm', actions: 'countAck' },
          consensus_timeout: 'proposing',
        },
      },
      /** This node's proposal was acked by a majority (`consensus_complete`). */
      decided: { entry: 'decide' },
      /** This node learned the decision from another proposer's `decided` notification. */
      learned: {},
    },
  });
}

/** The durable part of a context: what a restarted node resumes from. */
export function consensusDurable(context: ConsensusContext): ConsensusDurable {
  return { promised: context.promised, accepted: context.accepted, learned: context.learned, proposal: context.proposal };
}
