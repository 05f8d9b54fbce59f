/**
 * Consensus properties (Lamport, "Paxos Made Simple", §2.1 safety requirements), read from the
 * ghost history: every value a client proposed, every promise raise, every value a node applied
 * and every decision a proposer reached, as TLA+ history variables record them.
 */
import { notesOf } from '../src/notes-of.js';
import { majority, minority } from '../src/quorum.js';
import type { Property, WorldView } from '../src/protocol.js';
import type { ConsensusContext } from '../machines/consensus/machine.js';
import type { ConsensusNote } from '../machines/consensus/messages.js';

type View = WorldView<ConsensusContext, ConsensusNote>;

/** The note types these properties read: the primitive's ghost history keeps only these. */
export const consensusGhost: ConsensusNote['type'][] = ['proposed', 'promised', 'applied', 'decided', 'decision'];

const notes = <T extends ConsensusNote['type']>(w: View, type: T) => notesOf<ConsensusNote, T>(w, type);

/** Every value some node applied or some proposer decided. */
const outcomes = (w: View) => [...notes(w, 'applied'), ...notes(w, 'decided')];

/** No two nodes ever apply or decide different values (only a single value is chosen). */
export const agreement: Property<View> = {
  name: 'agreement',
  kind: 'always',
  reads: 'history',
  holds: (w) => new Set(outcomes(w).map((h) => h.note.value)).size <= 1,
};

/** A value applied or decided was proposed by some client (only a proposed value may be chosen). */
export const validity: Property<View> = {
  name: 'validity',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const proposed = new Set(notes(w, 'proposed').map((h) => h.note.value));
    return outcomes(w).every((h) => proposed.has(h.note.value));
  },
};

/** A node applies a value at most once and decides at most once. */
export const integrity: Property<View> = {
  name: 'integrity',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    // The history is a set: a second entry of one kind at one node is a second decision.
    const kinds = outcomes(w).map(({ node, note }) => `${node}/${note.type}`);
    return new Set(kinds).size === kinds.length;
  },
};

/**
 * A node learns the decision once (uniform integrity: a process decides at most once): a proposer
 * that sees a majority ack (term, value) applies that value then, in that term. A node that had
 * already learned the decision, from a `decided` or a round of its own, runs no further round:
 * deciding again would announce the decision again and apply nothing.
 */
export const decideAppliesTheDecision: Property<View> = {
  name: 'a node that decides applies that decision',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const applied = notes(w, 'applied');
    return notes(w, 'decided').every((d) => applied.some((a) => a.node === d.node && a.note.term === d.note.term && a.note.value === d.note.value));
  },
};

/** A node's promised term, including the one it restarts with after a crash, never falls below one it promised before. */
export const termNeverDecreases: Property<View> = {
  name: 'term never decreases',
  kind: 'always',
  holds: (w) => notes(w, 'promised').every(({ node, note }) => (w.nodes[node - 1].context.promised ?? 0) >= note.term),
};

/**
 * Phase 2 follows phase 1 (Paxos Made Simple, §2.2: a proposer sends an accept request numbered
 * n only after "a response to its prepare requests (numbered n) from a majority of acceptors"):
 * every (term, value) a node holds as accepted is one a majority of nodes promised that term to.
 * A promise raise is noted with its term (the history keeps each), and accepting a commit raises
 * the promise to its term, so the node's own acceptance counts as its promise.
 */
export const commitFollowsPromises: Property<View> = {
  name: "a commit follows a majority's promises",
  kind: 'always',
  holds: (w) => {
    const promisers = new Map<number, Set<number>>();
    for (const { node, note } of notes(w, 'promised')) promisers.set(note.term, (promisers.get(note.term) ?? new Set()).add(node));
    return w.nodes.every(({ context: { accepted } }) => accepted === null || (promisers.get(accepted.term)?.size ?? 0) >= majority(w.n));
  },
};

/**
 * Only a chosen value is decided, and it stays chosen (Paxos Made Simple, §2.1: a process never
 * learns that a value has been chosen unless it actually has been; §2.2, P2: every
 * higher-numbered proposal accepted has the chosen value). A value is chosen in a term when a
 * majority accepted it in that term; an acceptor moves on only to later terms, with the same
 * value. So whenever a proposer has decided (term, value), a majority of nodes hold that value
 * accepted in that term or a later one, or applied it (the seed's flow, as drawn, applies on
 * commit instead of accepting).
 */
export const decidedStaysChosen: Property<View> = {
  name: 'a decided value stays chosen',
  kind: 'always',
  holds: (w) =>
    notes(w, 'decided').every(({ note }) => {
      const holding = w.nodes.filter(({ context: { accepted, learned } }) => (accepted !== null && accepted.value === note.value && accepted.term >= note.term) || learned === note.value);
      return holding.length >= majority(w.n);
    }),
};

/**
 * Every client request is answered when it arrives: the node takes a proposal (a `proposed`
 * note; the decision follows), or, knowing the decision already, tells the client the decided
 * value, and a read is told the decision as the node knows it (a `decision` note each). A node
 * that drops a request leaves its client waiting for ever. Judged where the model counts the
 * requests a node received (the checker; not a real trace, which does not count them).
 */
export const everyRequestIsAnswered: Property<View> = {
  name: 'every client request is answered',
  kind: 'always',
  holds: (w) => w.nodes.every((v) => !v.requests || w.history.some(({ node, note }) => node === v.id && (note.type === 'proposed' || note.type === 'decision'))),
};

/**
 * A client told a value was decided was told the decided value: a `decision` names no value
 * (none known yet) or one some node applied or decided, never one it merely proposed.
 */
export const clientIsToldTheDecidedValue: Property<View> = {
  name: 'a client is told the decided value',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const decided = new Set(outcomes(w).map((h) => h.note.value));
    return notes(w, 'decision').every(({ note }) => note.value === null || decided.has(note.value));
  },
};

/** Some run decides (catches a model in which nothing can ever be chosen). */
export const aValueIsDecided: Property<View> = {
  name: 'a value is decided',
  kind: 'sometimes',
  holds: (w) => notes(w, 'decided').length > 0,
};

/**
 * The nodes that learned: they hold a decided value and applied it to their local state (the
 * seed's `apply_consensus`, an `applied` note), both kept across a restart.
 */
const learners = (w: View) => {
  const applied = new Set(notes(w, 'applied').map((h) => h.node));
  return new Set(w.nodes.filter((v) => v.context.learned !== null && applied.has(v.id)).map((v) => v.id));
};

/**
 * Every up node a client asked to propose ends up holding a decided value it applied. Checked in quiescent
 * worlds (an undecided proposer always has its retry timer pending, so it must never go quiet)
 * and after a fair, fault-free phase with every node restarted.
 */
export const everyProposerDecides: Property<View> = {
  name: 'every proposer decides',
  kind: 'eventually',
  holds: (w) => {
    const learned = learners(w);
    return w.nodes.every((v) => !v.up || v.context.proposal === null || learned.has(v.id));
  },
};

/**
 * Paxos's progress ("if enough of the system (proposer, acceptors, and communication network) is
 * working properly"): with a minority of nodes down for good, crashed or cut off, every other
 * node a client asked to propose still decides.
 */
export const decidedDespiteMinorityDown: Property<View> = {
  name: 'a value is decided despite a minority down',
  kind: 'eventually',
  tolerates: minority,
  holds: everyProposerDecides.holds,
};

/**
 * Termination for every node, not only proposers (every correct process eventually decides):
 * once a node that stays up holds a client's proposal, every node that stays up learns the
 * decided value and applies it. As in the literature, it assumes reliable links between the nodes that stay up
 * and crash-stop failures: a `decided` notification lost on the way is never sent again.
 */
export const everyNodeLearns: Property<View> = {
  name: 'every node learns',
  kind: 'eventually',
  tolerates: minority,
  reliable: true,
  holds: (w) => {
    const up = w.nodes.filter((v) => v.up);
    const learned = learners(w);
    return !up.some((v) => v.context.proposal !== null) || up.every((v) => learned.has(v.id));
  },
};

export const consensusProperties = [agreement, validity, integrity, decideAppliesTheDecision, termNeverDecreases, commitFollowsPromises, decidedStaysChosen, everyRequestIsAnswered, clientIsToldTheDecidedValue, aValueIsDecided, everyProposerDecides, decidedDespiteMinorityDown, everyNodeLearns] as Property[];
