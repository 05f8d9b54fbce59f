/**
 * Barrier properties, over the ghost history: what each node really did (`arrive`, `released`,
 * `straggler`) against what the coordinator claims when it releases (`release`).
 */
import { notesOf } from '../src/notes-of.js';
import type { Property, WorldView } from '../src/protocol.js';
import type { BarrierContext } from '../machines/barrier/machine.js';
import type { BarrierNote } from '../machines/barrier/messages.js';

type View = WorldView<BarrierContext, BarrierNote>;
type Release = Extract<BarrierNote, { type: 'release' }>;

const notes = <T extends BarrierNote['type']>(w: View, type: T) => notesOf<BarrierNote, T>(w, type);
/** Nodes that really arrived at each generation, as `node/generation`. */
const arrivals = (w: View) => new Set(notes(w, 'arrive').map((h) => `${h.node}/${h.note.generation}`));
const everyone = (w: View) => w.nodes.map((v) => v.id);
const allArrived = (w: View, came: Set<string>, r: Release) => everyone(w).every((x) => came.has(`${x}/${r.generation}`));
/** The barrier promises releases at a deadline (the timeout barrier); every node's context says so. */
const hasDeadline = (w: View) => w.nodes.some((v) => v.up && v.context.deadlineMs !== null);
/** Nodes a release names as not counted are exactly the nodes it does not name as arrived. */
const stragglersExact = (w: View, r: Release) => {
  const missing = everyone(w).filter((x) => !r.arrived.includes(x));
  return missing.length === r.stragglers.length && missing.every((x) => r.stragglers.includes(x));
};

/**
 * Every arrival counted toward a generation's release, and every release of a waiting node,
 * belongs to that generation: the node arrived at exactly that generation.
 */
export const generationsDoNotMix: Property<View> = {
  name: 'generations do not mix',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const came = arrivals(w);
    return (
      notes(w, 'release').every((h) => h.note.arrived.every((x) => came.has(`${x}/${h.note.generation}`))) &&
      notes(w, 'released').every((h) => came.has(`${h.node}/${h.note.generation}`))
    );
  },
};

/**
 * The strict barrier's promise: every release comes after every node arrived at that
 * generation. Nothing a release claims exempts it: a barrier without a deadline makes no
 * deadline releases. (The timeout barrier's promise is the next property.)
 */
export const noReleaseBeforeAllArrived: Property<View> = {
  name: 'no release before all arrived',
  kind: 'always',
  holds: (w) => {
    if (hasDeadline(w)) return true;
    const came = arrivals(w);
    return notes(w, 'release').every((h) => !h.note.deadline && allArrived(w, came, h.note));
  },
};

/**
 * The timeout barrier's weaker promise: a release comes after every node arrived, or at the
 * deadline of a barrier that has one, short of some arrivals, naming exactly the nodes it did
 * not count as stragglers.
 */
export const noReleaseBeforeAllArrivedOrDeadline: Property<View> = {
  name: 'no release before all arrived or deadline',
  kind: 'always',
  holds: (w) => {
    const came = arrivals(w);
    const deadline = hasDeadline(w);
    return notes(w, 'release').every(({ note: r }) => (r.deadline ? deadline && r.stragglers.length > 0 && stragglersExact(w, r) : allArrived(w, came, r)));
  },
};

/**
 * Stragglers are exactly the nodes that had not arrived: a release names as stragglers exactly
 * the nodes it did not count, and a node notes itself a straggler of a generation only if it
 * never arrived at it (released, only if it did).
 */
export const stragglersAreTheMissing: Property<View> = {
  name: 'stragglers are exactly the ones that had not arrived',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const came = arrivals(w);
    return (
      notes(w, 'release').every((h) => stragglersExact(w, h.note)) &&
      notes(w, 'straggler').every((h) => !came.has(`${h.node}/${h.note.generation}`)) &&
      notes(w, 'released').every((h) => came.has(`${h.node}/${h.note.generation}`))
    );
  },
};

/**
 * A node resumes only after a release: a node back at work has been released from every
 * generation it arrived at (the coordinator's release of that generation is in the history).
 * A node that passes the barrier without waiting, or stops waiting before the release, breaks it.
 * A node restarted after a crash lost the work it arrived with: working on that generation again
 * is not passing the barrier, so its earlier arrivals do not bind it.
 */
export const resumesOnlyAfterRelease: Property<View> = {
  name: 'a node resumes only after a release',
  kind: 'always',
  holds: (w) => {
    const released = new Set(notes(w, 'release').map((h) => h.note.generation));
    return notes(w, 'arrive').every((h) => {
      const v = w.nodes[h.node - 1];
      return released.has(h.note.generation) || v.state !== 'working' || v.context.restarted;
    });
  },
};

/**
 * A node that moves on notes its release: a node that arrived at a generation and no longer
 * waits for it noted how it left, released from that generation or, when the release of a later
 * one overtook it (an unordered network), a straggler of that later one. A restarted node's
 * arrivals were another life's.
 */
export const movingOnIsNoted: Property<View> = {
  name: 'a node that moves on notes its release',
  kind: 'always',
  holds: (w) => {
    const ends = new Map<number, number[]>();
    for (const h of w.history) if (h.note.type === 'released' || h.note.type === 'straggler') ends.set(h.node, [...(ends.get(h.node) ?? []), h.note.generation]);
    return notes(w, 'arrive').every(({ node, note: { generation: g } }) => {
      const v = w.nodes[node - 1];
      if (!v.up || v.context.restarted || v.context.waitingFor === g || v.context.generation <= g) return true;
      return (ends.get(node) ?? []).some((e) => e >= g && e < v.context.generation);
    });
  },
};

/**
 * The seed's Phase 1: a node registers with the barrier before it takes part, once per life,
 * and works on the generation the coordinator gave it or a later one: every arrival comes at or
 * after a generation the node registered at, and a node that never restarted registered once.
 */
export const registersBeforeArriving: Property<View> = {
  name: 'a node registers once, then arrives at or past its generation',
  kind: 'always',
  holds: (w) => {
    const registered = new Map<number, number[]>();
    for (const h of notes(w, 'registered')) registered.set(h.node, [...(registered.get(h.node) ?? []), h.note.generation]);
    return (
      notes(w, 'arrive').every((h) => (registered.get(h.node) ?? []).some((g) => g <= h.note.generation)) &&
      w.nodes.every((v) => v.context.restarted || (registered.get(v.id)?.length ?? 0) <= 1)
    );
  },
};

/**
 * Nobody idles at the barrier: once nothing is in flight, every node is at work, or waits for a
 * generation some node has not arrived at yet (a registered node never stops working, a
 * released one goes back to work).
 */
export const atWorkOrWaitingForAnArrival: Property<View> = {
  name: 'every node is at work or waits for an arrival',
  kind: 'eventually',
  holds: (w) => {
    const came = arrivals(w);
    return w.nodes.every((v) => {
      if (!v.up || v.state === 'working') return true;
      const g = v.context.waitingFor;
      return v.state === 'waiting' && g !== null && !everyone(w).every((x) => came.has(`${x}/${g}`));
    });
  },
};

/** The coordinator releases each generation once, in order: release number k ends generation k - 1. */
export const releasedExactlyOncePerGeneration: Property<View> = {
  name: 'released exactly once per generation',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const releases = notes(w, 'release');
    return releases.every((h) => h.note.seq === h.note.generation + 1) && new Set(releases.map((h) => h.note.generation)).size === releases.length;
  },
};

export const aGenerationIsReleased: Property<View> = {
  name: 'a generation is released',
  kind: 'sometimes',
  holds: (w) => notes(w, 'release').length > 0,
};

/** The timeout barrier's deadline fires: some run has a deadline release. */
export const aDeadlineReleaseHappens: Property<View> = {
  name: 'a deadline release happens',
  kind: 'sometimes',
  holds: (w) => !hasDeadline(w) || notes(w, 'release').some((h) => h.note.deadline),
};

/**
 * A barrier with a deadline does not wait for stragglers: once nothing is in flight and no
 * deadline pending, no node still waits, whoever has not arrived.
 */
export const deadlineReleasesWhoeverWaits: Property<View> = {
  name: 'a deadline releases whoever waits',
  kind: 'eventually',
  holds: (w) => !hasDeadline(w) || w.nodes.every((v) => !v.up || v.context.waitingFor === null),
};

/** Nobody waits forever at a generation every node has arrived at. */
export const allReleased: Property<View> = {
  name: 'all released',
  kind: 'eventually',
  holds: (w) => {
    const came = arrivals(w);
    return w.nodes.every((v) => !v.up || v.context.waitingFor === null || !everyone(w).every((x) => came.has(`${x}/${v.context.waitingFor}`)));
  },
};

export const barrierProperties = [
  generationsDoNotMix,
  noReleaseBeforeAllArrived,
  noReleaseBeforeAllArrivedOrDeadline,
  releasedExactlyOncePerGeneration,
  stragglersAreTheMissing,
  resumesOnlyAfterRelease,
  aGenerationIsReleased,
  aDeadlineReleaseHappens,
  allReleased,
  deadlineReleasesWhoeverWaits,
  movingOnIsNoted,
  registersBeforeArriving,
  atWorkOrWaitingForAnArrival,
] as Property[];
