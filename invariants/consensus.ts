/**
 * Consensus properties (Lamport, "Paxos Made Simple", §2.1 safety requirements), read from the
 * ghost history: every value a client proposed, every promise raise, every value a node applied
 * and every decision a proposer reached, each for its slot of the log, as TLA+ history variables
 * record them. Each safety property holds slot by slot (§3: one instance of Paxos per slot).
 */
import { notesOf } from '../src/notes-of.js';
import { majority, minority } from '../src/quorum.js';
import type { Property, WorldView } from '../src/protocol.js';
import { stepProperty } from '../src/step-property.js';
import type { ConsensusContext } from '../machines/consensus/machine.js';
import type { ConsensusEvent, ConsensusMessage, ConsensusNote } from '../machines/consensus/messages.js';

type View = WorldView<ConsensusContext, ConsensusNote>;

/** The note types these properties read: the primitive's ghost history keeps only these. */
export const consensusGhost: ConsensusNote['type'][] = ['proposed', 'promised', 'applied', 'decided', 'decision', 'log'];

const notes = <T extends ConsensusNote['type']>(w: View, type: T) => notesOf<ConsensusNote, T>(w, type);

/** Every value some node applied or some proposer decided. */
const outcomes = (w: View) => [...notes(w, 'applied'), ...notes(w, 'decided')];

/** The values some node applied or some proposer decided for each slot. */
function outcomesBySlot(w: View): Map<number, Set<string>> {
  const by = new Map<number, Set<string>>();
  for (const { note } of outcomes(w)) by.set(note.slot, (by.get(note.slot) ?? new Set()).add(note.value));
  return by;
}

/** No two nodes ever apply or decide different values for one slot (only a single value is chosen per slot). */
export const agreement: Property<View> = {
  name: 'agreement',
  kind: 'always',
  reads: 'history',
  holds: (w) => [...outcomesBySlot(w).values()].every((values) => values.size <= 1),
};

/** A value applied or decided for a slot was proposed by some client for that slot (only a proposed value may be chosen). */
export const validity: Property<View> = {
  name: 'validity',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const proposed = new Set(notes(w, 'proposed').map((h) => `${h.note.slot}/${h.note.value}`));
    return outcomes(w).every((h) => proposed.has(`${h.note.slot}/${h.note.value}`));
  },
};

/** A node applies a value at most once per slot and decides at most once per slot. */
export const integrity: Property<View> = {
  name: 'integrity',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    // The history is a set: a second entry of one kind at one node for one slot is a second decision.
    const kinds = outcomes(w).map(({ node, note }) => `${node}/${note.type}/${note.slot}`);
    return new Set(kinds).size === kinds.length;
  },
};

/**
 * A node learns each slot's decision once (uniform integrity: a process decides at most once): a
 * proposer that sees a majority ack (term, value) for a slot applies that value there then, in that term. A node that had
 * already learned the decision, from a `decided` or a round of its own, runs no further round:
 * deciding again would announce the decision again and apply nothing.
 */
export const decideAppliesTheDecision: Property<View> = {
  name: 'a node that decides applies that decision',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const applied = notes(w, 'applied');
    return notes(w, 'decided').every((d) => applied.some((a) => a.node === d.node && a.note.slot === d.note.slot && a.note.term === d.note.term && a.note.value === d.note.value));
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
    return w.nodes.every(({ context: { accepted } }) => accepted.every((a) => (promisers.get(a.term)?.size ?? 0) >= majority(w.n)));
  },
};

/**
 * Only a chosen value is decided, and it stays chosen (Paxos Made Simple, §2.1: a process never
 * learns that a value has been chosen unless it actually has been; §2.2, P2: every
 * higher-numbered proposal accepted has the chosen value). A value is chosen in a term when a
 * majority accepted it in that term; an acceptor moves on only to later terms, with the same
 * value. So whenever a proposer has decided (slot, term, value), a majority of nodes hold that
 * value accepted for that slot in that term or a later one, or applied it there (the seed's
 * flow, as drawn, applies on commit instead of accepting).
 */
export const decidedStaysChosen: Property<View> = {
  name: 'a decided value stays chosen',
  kind: 'always',
  holds: (w) =>
    notes(w, 'decided').every(({ note }) => {
      const holding = w.nodes.filter(({ context: { accepted, log } }) => {
        const held = accepted.find((a) => a.slot === note.slot);
        return (held !== undefined && held.value === note.value && held.term >= note.term) || log[note.slot - 1] === note.value;
      });
      return holding.length >= majority(w.n);
    }),
};

/**
 * Every client request is answered when it arrives: the node takes a proposal (a `proposed`
 * note; the decision follows), or tells the client the decision of the slot the client allows,
 * or that it proposes another value (a `decision` note naming the client's value), and a read
 * is told the log as the node knows it (a `log` note). A node that drops a request leaves its
 * client waiting for ever. The checker's clients propose a different value each time, so the
 * values answered count the proposals answered. Judged where the model counts the requests a
 * node received (the checker; not a real trace, which does not count them).
 */
export const everyRequestIsAnswered: Property<View> = {
  name: 'every client request is answered',
  kind: 'always',
  holds: (w) =>
    w.nodes.every((v) => {
      if (!v.requests) return true;
      const answered = new Set<string>();
      for (const { node, note } of w.history) {
        if (node !== v.id) continue;
        if (note.type === 'proposed') answered.add(`value ${note.value}`);
        else if (note.type === 'decision') answered.add(`value ${note.proposal}`);
        else if (note.type === 'log') answered.add('read');
      }
      return answered.size >= v.requests;
    }),
};

/**
 * A client told a value was decided for a slot was told the value decided there: a `decision`
 * or a `log` names no value (none known yet) or one some node applied or decided for that slot,
 * never one merely proposed.
 */
export const clientIsToldTheDecidedValue: Property<View> = {
  name: 'a client is told the decided value',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const decided = outcomesBySlot(w);
    const told = (slot: number, value: string | null) => value === null || (decided.get(slot)?.has(value) ?? false);
    return notes(w, 'decision').every(({ note }) => told(note.slot, note.value)) && notes(w, 'log').every(({ note }) => note.decided.every((value, i) => told(i + 1, value)));
  },
};

/** Some run decides (catches a model in which nothing can ever be chosen). */
export const aValueIsDecided: Property<View> = {
  name: 'a value is decided',
  kind: 'sometimes',
  holds: (w) => notes(w, 'decided').length > 0,
};

/**
 * Whether node `v` learned slot `slot`: it holds a decided value there and applied it to its
 * local state (the seed's `apply_consensus`, an `applied` note), both kept across a restart.
 */
const learnedAt = (w: View, v: View['nodes'][number], slot: number) =>
  (v.context.log[slot - 1] ?? null) !== null && notes(w, 'applied').some((h) => h.node === v.id && h.note.slot === slot);

/**
 * Every up node a client asked to propose ends up holding, for the slot of its last proposal,
 * a decided value it applied. Checked in quiescent worlds (an undecided proposer always has its
 * retry timer pending, so it must never go quiet) and after a fair, fault-free phase with every
 * node restarted.
 */
export const everyProposerDecides: Property<View> = {
  name: 'every proposer decides',
  kind: 'eventually',
  holds: (w) => w.nodes.every((v) => !v.up || v.context.proposal === null || learnedAt(w, v, v.context.proposal.slot)),
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
 * Termination for every node, not only proposers (every correct process eventually decides),
 * slot by slot: every slot a node that stays up holds a client's proposal for, and every slot a
 * proposer decided, is learned by every node that stays up, which applies the decided value
 * there. As in the literature, it assumes reliable links between the nodes that stay up and
 * crash-stop failures: a `decided` notification lost on the way is never sent again.
 */
export const everyNodeLearns: Property<View> = {
  name: 'every node learns',
  kind: 'eventually',
  tolerates: minority,
  reliable: true,
  holds: (w) => {
    const up = w.nodes.filter((v) => v.up);
    const slots = new Set(notes(w, 'decided').map((h) => h.note.slot));
    for (const v of up) if (v.context.proposal) slots.add(v.context.proposal.slot);
    return [...slots].every((slot) => up.every((v) => learnedAt(w, v, slot)));
  },
};

/** The sends and notes of one node step, typed. */
type Out = { sends: { to: number | 'others'; msg: ConsensusMessage }[]; notes: ConsensusNote[] };

/** The first slot a log knows no decision of. */
const firstFree = (log: readonly (string | null)[]) => (log.includes(null) ? log.indexOf(null) : log.length) + 1;

/**
 * Multi-Paxos's point ("Paxos Made Simple", §3: a leader that completed phase 1 for every later
 * instance "can immediately send accept messages"): a proposer that decided keeps the term it
 * won, its promises still binding every later slot, exactly while it has promised no higher
 * term; and a leader's next proposal the client allows runs phase 2 at once, in that term, with
 * no prepare. A leader stepping back at once only loses a round trip per slot; one that never
 * steps back would skip phase 1 in a term a rival's promises already refuse.
 */
export const leaderSkipsPhase1 = stepProperty<ConsensusContext, ConsensusEvent>('a leader keeps its term while unsuperseded and proposes with phase 2 only', (before, e, after, out: Out) => {
  const a = after.context;
  const b = before.context;
  // The term this node won: the one it decided in at this step, or the one it led before it.
  const won = out.notes.find((n) => n.type === 'decided')?.term ?? (before.state === 'decided' ? b.term : 0);
  if (after.state === 'decided' && won !== 0 && a.term !== (a.promised === won ? won : 0)) return false;
  if (before.state !== 'decided' || b.term === 0 || e.type !== 'client.propose' || firstFree(b.log) > (e.maxSlot ?? Infinity)) return true;
  return a.term === b.term && !out.sends.some(({ msg }) => msg.type === 'propose') && out.sends.some(({ msg }) => msg.type === 'commit' && msg.term === b.term);
});

/**
 * A client's proposal is placed (a `proposed` note) by a node that proposes nothing else exactly
 * when the first slot the node knows no decision of is one the client allows (`maxSlot`), and
 * then in a slot no later than that; a busy node places none.
 */
export const proposalWithinMaxSlot = stepProperty<ConsensusContext, ConsensusEvent>("a proposal is placed exactly when a slot up to the client's maxSlot is free", (before, e, _after, out: Out) => {
  if (e.type !== 'client.propose') return true;
  const placed = out.notes.filter((n) => n.type === 'proposed');
  const allowed = e.maxSlot ?? Infinity;
  if (!['idle', 'learned', 'decided'].includes(before.state)) return placed.length === 0;
  return placed.length === (firstFree(before.context.log) <= allowed ? 1 : 0) && placed.every((n) => n.slot <= allowed);
});

/**
 * Phase 2 from the acceptor's side: every value a node takes as accepted is noted (the trace's
 * record of what it voted for), and a commit is acked only by a node that then holds it,
 * accepted in its term or (the seed's flow, as drawn) applied.
 */
export const acceptsWhatItAcks = stepProperty<ConsensusContext, ConsensusEvent>('a node notes each value it accepts and acks only what it holds', (before, e, after, out: Out) => {
  const same = (x: { slot: number; term: number; value: string }, y: { slot: number; term: number; value: string }) => x.slot === y.slot && x.term === y.term && x.value === y.value;
  const taken = after.context.accepted.filter((x) => !before.context.accepted.some((y) => same(x, y)));
  if (!taken.every((x) => out.notes.some((n) => n.type === 'accepted' && same(n, x)))) return false;
  if (e.type !== 'commit') return true;
  const acked = out.sends.some(({ to, msg }) => to === e.from && msg.type === 'ack' && msg.term === e.term && msg.slot === e.slot);
  return !acked || after.context.accepted.some((x) => same(x, e)) || after.context.log[e.slot - 1] === e.value;
});

/**
 * A campaign (phase 1, a `propose` broadcast) is in the node's smallest term above every term it
 * has promised: one of its own (term = round · n + id), higher than the promise, and less than n
 * above it. A term further on wins nothing more and skips terms that were free.
 */
export const campaignsInNextTerm = stepProperty<ConsensusContext, ConsensusEvent>('a campaign is in the next term of the node above its promise', (before, _e, _after, out: Out) => {
  const { id, n, promised } = before.context;
  return out.sends.every(({ msg }) => msg.type !== 'propose' || (msg.term > promised && msg.term - n <= promised && (msg.term - id) % n === 0));
});

/**
 * A node that applies a decision another node announced for the slot it proposes for, or any
 * announced decision while it leads a term with no attempt running, gives up that term: its
 * attempt is over, and a leader that learns of a rival's decision runs phase 1 again.
 */
export const learnerGivesUpItsTerm = stepProperty<ConsensusContext, ConsensusEvent>('a proposer or leader that learns a decision from another gives up its term', (before, e, after, out: Out) => {
  const b = before.context;
  if (e.type !== 'decided' || b.term === 0 || (b.slot !== 0 && b.slot !== e.slot)) return true;
  if (!out.notes.some((n) => n.type === 'applied' && n.slot === e.slot)) return true;
  return after.context.term !== b.term;
});

export const consensusProperties = [agreement, validity, integrity, decideAppliesTheDecision, termNeverDecreases, commitFollowsPromises, decidedStaysChosen, everyRequestIsAnswered, clientIsToldTheDecidedValue, leaderSkipsPhase1, proposalWithinMaxSlot, acceptsWhatItAcks, campaignsInNextTerm, learnerGivesUpItsTerm, aValueIsDecided, everyProposerDecides, decidedDespiteMinorityDown, everyNodeLearns] as Property[];
