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

/** A release that is not a deadline's comes after every node arrived at that generation. */
export const noReleaseBeforeAllArrived: Property<View> = {
  name: 'no release before all arrived',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const came = arrivals(w);
    return notes(w, 'release').every((h) => h.note.deadline || allArrived(w, came, h.note));
  },
};

/**
 * The timeout barrier's weaker promise: a release comes after every node arrived, or at the
 * deadline, naming exactly the nodes that had not arrived as stragglers.
 */
export const noReleaseBeforeAllArrivedOrDeadline: Property<View> = {
  name: 'no release before all arrived or deadline',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const came = arrivals(w);
    return notes(w, 'release').every(({ note: r }) => {
      if (allArrived(w, came, r)) return true;
      const missing = everyone(w).filter((x) => !r.arrived.includes(x));
      return r.deadline && missing.length === r.stragglers.length && missing.every((x) => r.stragglers.includes(x));
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
  aGenerationIsReleased,
  allReleased,
] as Property[];
