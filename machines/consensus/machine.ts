/**
 * Consensus over a log of slots, one machine per node: Paxos (Lamport, "Paxos Made Simple",
 * 2001; §3 for the sequence of instances) spoken with the seed's four messages, each carrying
 * the slot it is about. Every node is an acceptor; a node a client asks to propose is also a
 * proposer (and its own first acceptor). The seed's single decision is the first slot.
 *
 * How the seed's flow maps onto Paxos:
 *
 * | seed (Diagram 1)           | Paxos Made Simple               | here                                        |
 * |----------------------------|---------------------------------|---------------------------------------------|
 * | broadcast_propose(v, term) | phase 1a: prepare(n)            | `propose {term, slot, value}`                |
 * | promise_accept(term)       | phase 1b: promise(n, last vote) | `promise {term, slot, accepted}`             |
 * | broadcast_commit(v, term)  | phase 2a: accept!(n, v)         | `commit {term, slot, value}`                 |
 * | ack_commit(term)           | phase 2b: accepted(n)           | `ack {term, slot}`                           |
 * | consensus_complete         | value chosen, learned           | `decided` note, `decided` notification       |
 *
 * What the verified flow adds to the seed's (the `as-drawn` variant leaves all of it out):
 * - A promise lists what the node already accepted, (slot, term, value), for the proposal's
 *   slot and every later one (P2c); a proposer commits, for each slot, the value of the highest
 *   term reported instead of its own. So once a value is chosen for a slot, every later term
 *   commits it there.
 * - A node accepts a commit only in a term it has not promised to refuse (term ≥ promised, P1a);
 *   accepting raises its promise to that term, so the commit itself promises it.
 * - Nodes do not apply on commit. A value is decided for a slot when a majority has acked it
 *   there; the proposer then applies it and broadcasts a `decided` notification, and each other
 *   node applies the value when that notification arrives. We chose a notification over "the
 *   next round teaches it" because it costs one broadcast (n - 1 frames), adds no round trip,
 *   and keeps `decided` meaning what the seed's `consensus_complete` means. A node that misses it
 *   (lost, crashed) applies nothing, which is safe; it learns the value when some proposer runs
 *   phase 1 from that slot again, finds the chosen value, commits it again and announces it.
 *
 * A client's proposal goes to the first slot its node knows no decision of, and the client is
 * told the value decided there (`decision`): its own when it was placed, another's when a
 * value reported by the promises took the slot. Nothing is retried in a later slot on the
 * client's behalf: a value is placed once or not at all, and the client knows which.
 *
 * Many decisions (Multi-Paxos, "Paxos Made Simple" §3): a promise of a term covers the
 * proposal's slot and every later slot, so a proposer that won phase 1 keeps its term when its
 * slot is decided (state `decided`, the leader) and runs only phase 2 for the next client's
 * proposal, committing in each later slot the highest value the promises reported there, else
 * the client's. A leader whose promise rises to someone else's term (a propose or commit
 * arrived), or that learns a decision from someone else, steps back: its next proposal runs
 * phase 1 again. Slots are decided one at a time per proposer (no pipelining).
 *
 * Terms are unique per proposer: term = round · n + id (round = 0, 1, 2, ...), so node 2 of 3
 * proposes in terms 2, 5, 8, ... and two proposers never share a term. A proposer starts in
 * the smallest of its terms above the highest term it has promised, and promises that term to
 * itself first. On `consensus_timeout` (5000 ms, as in the seed) it retries in its next term.
 *
 * Terms and slots are bounded (src/bounds.ts): a message carrying one outside [0, MAX_COUNTER]
 * is ignored (`inBound`), whatever the transport let through. A promise of term 2^53 could
 * never be outbid (2^53 + n === 2^53 for small n in a JavaScript number), so one such frame
 * would stop every later proposal.
 *
 * Durable (written before any message that depends on it leaves): promised term, what was
 * accepted per slot, the decisions applied per slot and the client's proposal (slot and value),
 * so a restarted proposer retries. A leader's term is not durable: a restarted node runs phase 1.
 * The one message that need not wait is the proposer's commit (the variant's `beforeFlush`, see
 * index.ts): it depends on the term, on disk since phase 1, not on the proposer's own acceptance,
 * which is counted only by the step that decides, whose effects wait for its flush.
 */
import { isCounter } from '../../src/bounds.js';
import { majority } from '../../src/quorum.js';
import { enqueueActions, setup } from 'xstate';
import type { NodeId, NodeInput } from '../../src/protocol.js';
import type { Accepted, ConsensusEvent, ConsensusMessage, ConsensusNote } from './messages.js';

export const CONSENSUS_TIMEOUT_MS = 5000;

/** A client's value and the slot this node proposes it for. */
export interface Proposal {
  slot: number;
  value: string;
}

export interface ConsensusContext {
  id: NodeId;
  n: number;
  /** Acceptor: the highest term promised, for every slot; lower terms are refused. */
  promised: number;
  /** Acceptor: the last commit accepted, per slot (sorted by slot, one each). */
  accepted: Accepted[];
  /** The value applied to this node's local state (`apply_consensus`) per slot, once: `log[0]` is slot 1, null unknown. */
  log: (string | null)[];
  /** Proposer: the last value a client asked this node to propose, and its slot. */
  proposal: Proposal | null;
  /** Proposer: the term of the current attempt; a leader keeps the term it won (0: none). */
  term: number;
  /** Proposer: the slot of the current attempt (0: none). */
  slot: number;
  /** Proposer: the value committed in `term` for `slot`. */
  value: string | null;
  /** Proposer: nodes that promised `term`, sorted. */
  promises: NodeId[];
  /** Proposer: per slot, the highest accepted (slot, term, value) the promises of `term` reported; a leader keeps those of later slots. */
  highest: Accepted[];
  /** Proposer: nodes that acked `term` for `slot`, sorted. */
  acks: NodeId[];
}

export interface ConsensusDurable {
  /** Absent in the `volatile-acceptor` variant: a restarted node has promised nothing. */
  promised?: number;
  accepted: Accepted[];
  log: (string | null)[];
  proposal: Proposal | null;
}

export interface ConsensusOptions {
  /**
   * `paxos`: accept a commit only for a term not below the promise, apply on `decided`.
   * `as-drawn`: the seed's flow: every commit is applied at once, nobody sends `decided`.
   */
  flow: 'paxos' | 'as-drawn';
  /** A promise reports what the node accepted. Off: `forget-accepted`, `as-drawn`. */
  carryAccepted: boolean;
  /** Promises (the proposer's own included) needed to commit. `half`: the `minority-commit` bug. */
  commitQuorum: 'majority' | 'half';
  /** The proposer counts its own promise and acceptance. Off: the `own-vote-uncounted` bug. */
  countOwn?: boolean;
  /** Acks that decide: a majority, or more (the `ack-quorum-above-majority` bug). */
  ackQuorum?: 'majority' | 'above-majority';
  /** The proposer broadcasts `decided`. Off: the `no-decided-broadcast` bug. */
  announce?: boolean;
  /** A `decided` is applied by a node that knew no decision for its slot. Inverted: the `ignore-decided` bug. */
  learnFromDecided?: boolean;
  /** A restarted node retries its pending proposal. Off: the `restart-idle` bug. */
  resumeProposal?: boolean;
  /**
   * What a node that does not take a client's proposal (it knows the decision of the slot the
   * client allows, or proposes another value already) tells the client: the decision as it
   * knows it; nothing (the `silent-after-decision` bug); or the client's own value (the
   * `tell-own-value` bug).
   */
  answerLate?: 'decision' | 'nothing' | 'own-value';
  /** A client's proposal goes to the first slot its node knows no decision of. Off: the `reuse-slot` bug (the slot before it). */
  freshSlot?: boolean;
  /** An ack counts only for the slot it names. Off: the `ack-any-slot` bug. */
  ackSlot?: boolean;
  /** Accepting a commit is noted. Off: the `unnoted-accept` bug. */
  noteAccepted?: boolean;
  /** A campaign's term is the node's next one above its promise. `skip`: the `skip-round` bug (one round further). */
  campaignTerm?: 'next' | 'skip';
}

export type ConsensusEmitted = { type: 'send'; to: NodeId | 'others'; msg: ConsensusMessage } | { type: 'note'; note: ConsensusNote };

/** The round a term belongs to: terms 1..n are round 0, n+1..2n round 1, ... */
export const roundOfTerm = (term: number, n: number) => (term === 0 ? 0 : Math.floor((term - 1) / n));

/** The smallest term of node `id` (round · n + id) above `above`. */
export function nextTerm(id: NodeId, n: number, above: number): number {
  return above < id ? id : id + n * (Math.floor((above - id) / n) + 1);
}

/** The value decided for `slot` as the log knows it (null: unknown). */
export const decisionAt = (log: readonly (string | null)[], slot: number): string | null => log[slot - 1] ?? null;

/** The first slot the log knows no decision of. */
export function firstUnknown(log: readonly (string | null)[]): number {
  const hole = log.indexOf(null);
  return (hole < 0 ? log.length : hole) + 1;
}

const withDecision = (log: readonly (string | null)[], slot: number, value: string) => {
  const next = [...log];
  while (next.length < slot) next.push(null);
  next[slot - 1] = value;
  return next;
};

const send = (to: NodeId | 'others', msg: ConsensusMessage): ConsensusEmitted => ({ type: 'send', to, msg });
const note = (fact: ConsensusNote): ConsensusEmitted => ({ type: 'note', note: fact });
const addNode = (nodes: NodeId[], id: NodeId) => (nodes.includes(id) ? nodes : [...nodes, id].sort((a, b) => a - b));
const acceptedAt = (list: readonly Accepted[], slot: number) => list.find((a) => a.slot === slot) ?? null;
/** `list` with `entry` in place of what it held for the entry's slot. */
const put = (list: readonly Accepted[], entry: Accepted) => [...list.filter((a) => a.slot !== entry.slot), entry].sort((a, b) => a.slot - b.slot);
/** Per slot, the higher-term entry of the two lists (the first on a tie). */
const higher = (list: Accepted[], reported: readonly Accepted[]) =>
  reported.reduce((acc, a) => ((acceptedAt(acc, a.slot)?.term ?? -1) >= a.term ? acc : put(acc, a)), list);
/** Every term and slot the event carries (a promise's accepted ones too) is a counter a node may adopt. */
const inBound = (event: ConsensusEvent) =>
  (!('term' in event) || isCounter(event.term)) &&
  (!('slot' in event) || isCounter(event.slot)) &&
  (event.type !== 'promise' || event.accepted.every((a) => isCounter(a.term) && isCounter(a.slot)));

/**
 * The proposer's scratch fields when no attempt is running and it leads no term. Each phase
 * clears what it no longer reads, so worlds that differ only in stale bookkeeping are one world
 * to the checker.
 */
const IDLE_PROPOSER = { term: 0, slot: 0, value: null, promises: [], highest: [], acks: [] } satisfies Partial<ConsensusContext>;

type Enqueue = { assign(values: Partial<ConsensusContext>): void; emit(e: ConsensusEmitted): void };

export function consensusMachine(options: ConsensusOptions, machineId = 'consensus') {
  const commitQuorum = (n: number) => (options.commitQuorum === 'majority' ? majority(n) : Math.floor(n / 2));
  /** What an acceptor reports to a proposer of `slot`: its accepted entries from that slot on. */
  const reported = (accepted: readonly Accepted[], slot: number) => (options.carryAccepted ? accepted.filter((a) => a.slot >= slot) : []);

  /** Raises the promise to `term` (noting it) when it is higher. */
  const promise = (context: ConsensusContext, term: number, enqueue: Enqueue) => {
    if (term <= context.promised) return;
    enqueue.assign({ promised: term });
    enqueue.emit(note({ type: 'promised', term }));
  };

  /** Applies `value` for `slot` to the local state once (as drawn: again whenever it differs). */
  const apply = (context: ConsensusContext, slot: number, term: number, value: string, enqueue: Enqueue) => {
    const known = decisionAt(context.log, slot);
    if (known === value || (options.flow === 'paxos' && known !== null)) return;
    enqueue.assign({ log: withDecision(context.log, slot, value) });
    enqueue.emit(note({ type: 'applied', slot, term, value }));
  };

  /** Tells the client of the pending proposal for `slot`, if any, the value decided there. */
  const answer = (context: ConsensusContext, slot: number, value: string, enqueue: Enqueue) => {
    const { proposal } = context;
    if (proposal && proposal.slot === slot && decisionAt(context.log, slot) === null) enqueue.emit(note({ type: 'decision', slot, value, proposal: proposal.value }));
  };

  /** The acceptor's side of a commit, for a peer's commit and the proposer's own; true when acked. */
  const acceptCommit = (context: ConsensusContext, term: number, slot: number, value: string, enqueue: Enqueue): boolean => {
    if (options.flow === 'as-drawn') {
      apply(context, slot, term, value, enqueue);
      return true;
    }
    if (term < context.promised) return false;
    promise(context, term, enqueue);
    enqueue.assign({ accepted: put(context.accepted, { slot, term, value }) });
    if (options.noteAccepted !== false) enqueue.emit(note({ type: 'accepted', slot, term, value }));
    return true;
  };

  /** The slot a client's proposal goes to: the first this node knows no decision of. */
  const freeSlot = (context: ConsensusContext) => {
    const slot = firstUnknown(context.log);
    return options.freshSlot === false ? Math.max(1, slot - 1) : slot;
  };

  /** The client allows the first slot this node knows no decision of. */
  const placeable = (context: ConsensusContext, event: ConsensusEvent) =>
    event.type === 'client.propose' && firstUnknown(context.log) <= (event.maxSlot ?? Number.POSITIVE_INFINITY);

  return setup({
    types: {
      context: {} as ConsensusContext,
      events: {} as ConsensusEvent,
      input: {} as NodeInput<ConsensusDurable>,
      emitted: {} as ConsensusEmitted,
    },
    guards: {
      /** A client's proposal is not yet decided (a restarted proposer retries it). */
      pending: ({ context: { proposal, log } }) => options.resumeProposal !== false && proposal !== null && decisionAt(log, proposal.slot) === null,
      /** This node knows some decision. */
      hasLearned: ({ context }) => context.log.length > 0,
      /** The slot the client allows is not decided here yet, so a proposal can still be made. */
      canPropose: ({ context, event }) => placeable(context, event),
      /** This node still leads the term it won (no higher promise since) and the client allows the next slot: phase 2 only. */
      leads: ({ context, event }) => context.term !== 0 && placeable(context, event),
      /** This node leads a term it has since promised to refuse: someone else proposes in a higher term. */
      superseded: ({ context }) => context.term !== 0 && context.promised > context.term,
      /** A promise for the term and slot this node is proposing in (within bounds). */
      promiseForTerm: ({ context, event }) => event.type === 'promise' && inBound(event) && event.term === context.term && event.slot === context.slot,
      /** An ack of the term and slot this node is committing in. */
      ackForTerm: ({ context, event }) => event.type === 'ack' && event.term === context.term && (options.ackSlot === false || event.slot === context.slot),
      /** Promises (its own included) reached the commit quorum. */
      enoughPromises: ({ context }) => context.promises.length >= commitQuorum(context.n),
      /** A majority (its own acceptance included) acked the commit: the value is chosen. */
      enoughAcks: ({ context }) => (options.ackQuorum === 'above-majority' ? context.acks.length > majority(context.n) : context.acks.length >= majority(context.n)),
      /**
       * A decided notification (within bounds) for a slot this node knew no decision of, which
       * ends what it was doing: the slot it proposes for, or no attempt (a leader steps back).
       */
      endsAttempt: ({ context, event }) =>
        event.type === 'decided' && inBound(event) && (decisionAt(context.log, event.slot) === null) === (options.learnFromDecided !== false) && (context.slot === 0 || context.slot === event.slot),
      /** A decided notification (within bounds) for another slot than the one this node proposes for, unknown here. */
      otherSlot: ({ context, event }) => event.type === 'decided' && inBound(event) && (decisionAt(context.log, event.slot) === null) === (options.learnFromDecided !== false),
      /** The message's terms and slots are within the wire's bounds; a message outside them is ignored. */
      inBound: ({ event }) => inBound(event),
    },
    actions: {
      /** Keeps the client's value as this node's proposal for the first slot it knows no decision of (durable, so a restart retries it). */
      takeProposal: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'client.propose') return;
        const slot = freeSlot(context);
        enqueue.assign({ proposal: { slot, value: event.value } });
        enqueue.emit(note({ type: 'proposed', slot, value: event.value }));
      }),
      /** Phase 1 from the acceptor's side: promise a term no lower than any promised before. */
      answerPropose: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'propose' || event.term < context.promised) return;
        promise(context, event.term, enqueue);
        enqueue.emit(send(event.from, { type: 'promise', term: event.term, slot: event.slot, accepted: reported(context.accepted, event.slot) }));
      }),
      /** Phase 2 from the acceptor's side. */
      answerCommit: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'commit') return;
        if (acceptCommit(context, event.term, event.slot, event.value, enqueue)) enqueue.emit(send(event.from, { type: 'ack', term: event.term, slot: event.slot }));
      }),
      /** Phase 1 from the proposer's side: a fresh term for the proposal's slot and every later one, promised to itself first. */
      startTerm: enqueueActions(({ context, enqueue }) => {
        const term = nextTerm(context.id, context.n, context.promised) + (options.campaignTerm === 'skip' ? context.n : 0);
        const slot = context.proposal?.slot ?? firstUnknown(context.log);
        enqueue.assign({ term, slot, value: null, promises: options.countOwn === false ? [] : [context.id], highest: reported(context.accepted, slot), acks: [] });
        promise(context, term, enqueue);
        enqueue.emit(send('others', { type: 'propose', term, slot, value: context.proposal?.value ?? '' }));
        enqueue.raise({ type: 'consensus_timeout' }, { delay: CONSENSUS_TIMEOUT_MS, id: 'consensus' });
      }),
      /** A leader's next proposal: phase 2 at once, in the term it leads, for the proposal's slot. */
      continueTerm: enqueueActions(({ context, enqueue }) => {
        enqueue.assign({ slot: freeSlot(context) });
        enqueue.raise({ type: 'consensus_timeout' }, { delay: CONSENSUS_TIMEOUT_MS, id: 'consensus' });
      }),
      /** Counts the sender's promise and keeps, per slot, the highest (term, value) reported. */
      countPromise: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'promise') return;
        enqueue.assign({ promises: addNode(context.promises, event.from), highest: higher(context.highest, event.accepted) });
      }),
      /** Phase 2 from the proposer's side: the highest value reported for the slot, else the client's. */
      startCommit: enqueueActions(({ context, enqueue }) => {
        const { slot } = context;
        const value = acceptedAt(context.highest, slot)?.value ?? context.proposal?.value ?? '';
        enqueue.assign({ value, acks: [], promises: [], highest: context.highest.filter((a) => a.slot > slot) });
        if (acceptCommit(context, context.term, slot, value, enqueue) && options.countOwn !== false) enqueue.assign({ acks: [context.id] });
        enqueue.emit(send('others', { type: 'commit', term: context.term, slot, value }));
      }),
      /** Counts the sender's ack. */
      countAck: enqueueActions(({ context, event, enqueue }) => {
        if (event.type === 'ack') enqueue.assign({ acks: addNode(context.acks, event.from) });
      }),
      /**
       * A majority acked: the value is chosen for the slot. Apply it, tell the client and, in
       * the verified flow, the other nodes. The term is kept: this node leads it.
       */
      decide: enqueueActions(({ context, enqueue }) => {
        const decision = { slot: context.slot, term: context.term, value: context.value! };
        enqueue.cancel('consensus');
        enqueue.assign({ slot: 0, value: null, promises: [], acks: [] });
        enqueue.emit(note({ type: 'decided', ...decision }));
        if (options.flow === 'paxos') {
          answer(context, decision.slot, decision.value, enqueue);
          apply(context, decision.slot, decision.term, decision.value, enqueue);
          if (options.announce !== false) enqueue.emit(send('others', { type: 'decided', ...decision }));
        }
      }),
      /** A leader that promised a higher term leads no more: its next proposal runs phase 1. */
      stepBack: enqueueActions(({ enqueue }) => enqueue.assign({ term: 0, highest: [] })),
      /** Answer to a read: the decisions, slot by slot, as this node knows them. */
      tellLog: enqueueActions(({ context, enqueue }) => {
        enqueue.emit(note({ type: 'log', decided: context.log }));
      }),
      /**
       * Answer to a proposal the node does not take: the value decided for the last slot the
       * client allows, as this node knows it, which the proposal cannot change; or, while it
       * proposes another value, the slot it proposes for and no value.
       */
      answerProposal: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'client.propose' || options.answerLate === 'nothing') return;
        const slot = placeable(context, event) ? context.proposal!.slot : event.maxSlot!;
        const value = options.answerLate === 'own-value' ? event.value : decisionAt(context.log, slot);
        enqueue.emit(note({ type: 'decision', slot, value, proposal: event.value }));
      }),
      /** Applies the value another proposer decided, tells the client whose proposal it ends, and stops proposing (or leading). */
      learn: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'decided') return;
        enqueue.cancel('consensus');
        enqueue.assign(IDLE_PROPOSER);
        answer(context, event.slot, event.value, enqueue);
        apply(context, event.slot, event.term, event.value, enqueue);
      }),
      /** Applies the value another proposer decided for a slot this node is not proposing for. */
      record: enqueueActions(({ context, event, enqueue }) => {
        if (event.type === 'decided') apply(context, event.slot, event.term, event.value, enqueue);
      }),
    },
  }).createMachine({
    id: machineId,
    context: ({ input }) => ({
      id: input.id,
      n: input.n,
      promised: input.restored?.promised ?? 0,
      accepted: input.restored?.accepted ?? [],
      log: input.restored?.log ?? [],
      proposal: input.restored?.proposal ?? null,
      ...IDLE_PROPOSER,
    }),
    initial: 'start',
    on: {
      propose: { guard: 'inBound', actions: 'answerPropose' },
      commit: { guard: 'inBound', actions: 'answerCommit' },
      decided: [
        { guard: 'endsAttempt', target: '.learned', actions: 'learn' },
        { guard: 'otherSlot', actions: 'record' },
      ],
      // A proposal the node does not take (it knows the decision of the slot the client allows, or
      // is proposing another value) cannot change a decision: the client is told it as this node knows it.
      'client.propose': { actions: 'answerProposal' },
      'client.get': { actions: 'tellLog' },
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
      /**
       * This node's proposal was acked by a majority (`consensus_complete`); it leads its term
       * until it promises a higher one, and a client's next proposal goes straight to phase 2.
       */
      decided: {
        entry: 'decide',
        always: { guard: 'superseded', actions: 'stepBack' },
        on: {
          'client.propose': [
            { guard: 'leads', target: 'committing', actions: ['takeProposal', 'continueTerm'] },
            { guard: 'canPropose', target: 'proposing', actions: 'takeProposal' },
          ],
        },
      },
      /** This node learned a decision from another proposer's `decided` notification. */
      learned: {
        on: { 'client.propose': { guard: 'canPropose', target: 'proposing', actions: 'takeProposal' } },
      },
    },
  });
}

/** The durable part of a context: what a restarted node resumes from. */
export function consensusDurable(context: ConsensusContext): ConsensusDurable {
  return { promised: context.promised, accepted: context.accepted, log: context.log, proposal: context.proposal };
}
