/**
 * The primitive's properties over a real run. The merged trace is folded into the same
 * `WorldView` the checker's invariants read: every node's state and context (a killed node shows
 * its durable context, as in the simulator), and the ghost history of notes. `always` properties
 * are evaluated after every record once all nodes have started; `eventually` properties on the
 * final world, which the cluster script lets settle before it stops.
 */
import type { GhostNote, NodeView, Protocol, Variant, WorldView } from '../protocol.js';
import { canonical } from '../canonical.js';
import type { TraceRecord } from './trace-log.js';

export interface TraceViolation {
  property: string;
  kind: 'always' | 'eventually';
  /** Index in the merged trace after which it first failed (-1: the final world). */
  index: number;
}

export interface TracePropertyReport {
  /** Names of the properties evaluated. */
  checked: string[];
  /** Worlds the always properties were evaluated in. */
  worlds: number;
  violations: TraceViolation[];
}

export function checkTraceProperties(protocol: Protocol, variant: Variant, n: number, merged: readonly TraceRecord[]): TracePropertyReport {
  const nodes = new Map<number, NodeView>();
  const history: GhostNote[] = [];
  const seen = new Set<string>();
  const ghost = protocol.ghost ? new Set(protocol.ghost) : null;
  const always = protocol.properties.filter((p) => p.kind === 'always');
  const eventually = protocol.properties.filter((p) => p.kind === 'eventually');
  const failed = new Set<string>();
  const violations: TraceViolation[] = [];
  let worlds = 0;
  const view = (): WorldView => ({
    n,
    nodes: Array.from({ length: n }, (_, i) => nodes.get(i + 1)!),
    history: history.slice(),
    inFlight: [],
    quiescent: false,
  });
  merged.forEach((r, index) => {
    if (r.kind === 'fault') {
      if (r.op === 'kill' && r.target !== undefined) {
        const v = nodes.get(r.target);
        if (v) nodes.set(r.target, { id: r.target, state: 'down', context: variant.durable(v.context), up: false });
      }
    } else {
      nodes.set(r.node, { id: r.node, state: r.after, context: r.context, up: true });
      for (const note of r.notes) {
        if (ghost && !ghost.has(note.type)) continue;
        const key = r.node + '\u0001' + canonical(note);
        if (seen.has(key)) continue;
        seen.add(key);
        history.push({ node: r.node, note });
      }
    }
    if (nodes.size < n) return;
    worlds++;
    const world = view();
    for (const p of always) {
      if (failed.has(p.name) || p.holds(world)) continue;
      failed.add(p.name);
      violations.push({ property: p.name, kind: 'always', index });
    }
  });
  if (nodes.size === n) {
    const world = view();
    // A property that assumes reliable links and crash-stop failures says nothing of a run with faults.
    const faulty = merged.some((r) => r.kind === 'fault');
    for (const p of eventually) if (!(p.reliable && faulty) && !p.holds(world)) violations.push({ property: p.name, kind: 'eventually', index: -1 });
  }
  return { checked: [...always, ...eventually].map((p) => p.name), worlds, violations };
}

/**
 * The `always` properties that read only the ghost history, judged over notes as a node's clients
 * saw them (an implementation's notes, when no trace of its states exists). Notes of different
 * nodes arrive over different connections, so their order of arrival need not be their order in
 * the run: a leader's `elected` may arrive before a voter's `voted`. A property is violated when
 * it fails over every note seen, and reported with the index of the note from which it failed
 * for good; one that fails for a while and holds again once later notes arrive is not.
 */
export function checkHistoryProperties(protocol: Protocol, n: number, notes: readonly GhostNote[]): { checked: string[]; violations: TraceViolation[] } {
  const ghost = protocol.ghost ? new Set(protocol.ghost) : null;
  const judged = protocol.properties.filter((p) => p.kind === 'always' && p.reads === 'history');
  const history: GhostNote[] = [];
  const seen = new Set<string>();
  /** Per property, the note from which it has failed without a break, if it fails now. */
  const failingSince = new Map<string, number>();
  notes.forEach(({ node, note }, index) => {
    const key = node + '\u0001' + canonical(note);
    if ((ghost && !ghost.has(note.type)) || seen.has(key)) return;
    seen.add(key);
    history.push({ node, note });
    const world: WorldView = { n, nodes: [], history: history.slice(), inFlight: [], quiescent: false };
    for (const p of judged) {
      if (p.holds(world)) failingSince.delete(p.name);
      else if (!failingSince.has(p.name)) failingSince.set(p.name, index);
    }
  });
  const violations = judged.filter((p) => failingSince.has(p.name)).map((p): TraceViolation => ({ property: p.name, kind: 'always', index: failingSince.get(p.name)! }));
  return { checked: judged.map((p) => p.name), violations };
}
