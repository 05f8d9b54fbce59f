/**
 * What the browser explorer shows of one run: the world after the first `at` choices of a path
 * (each an index into the choices the simulator enables, as in a counterexample's path), the
 * choices enabled there, every property's verdict, and the run so far as steps and a sequence
 * diagram. Pure: it drives the checker's own Simulator, so a run seen here is a run the checker
 * explores.
 */
import type { Property } from '../protocol.js';
import { describeChoice, describePartition } from '../sim/choice.js';
import { Simulator, type StepRecord } from '../sim/simulator.js';
import type { World } from '../sim/world.js';
import type { Model } from '../check/model.js';
import { sequenceDiagram } from '../trace/sequence-diagram.js';
import { stateDiagram } from '../trace/state-diagram.js';

/** A path as the URL carries it: choice indices joined by ':' (empty: the initial world). */
export function parsePath(raw: string | null | undefined): number[] {
  if (raw === null || raw === undefined || raw === '') return [];
  if (!/^\d{1,6}(:\d{1,6})*$/.test(raw)) throw new Error(`malformed path '${raw.slice(0, 80)}': expected choice numbers joined by ':' (like 0:2:1)`);
  return raw.split(':').map(Number);
}

export const formatPath = (path: readonly number[]) => path.join(':');

export interface NodeCard {
  id: number;
  up: boolean;
  state: string;
  /** Context fields (the durable part only, while down), each marked when it survives a crash. */
  fields: { name: string; value: unknown; durable: boolean }[];
  timers: string[];
}

export interface PropertyVerdict {
  name: string;
  kind: Property['kind'];
  /** In the shown world: `eventually` properties are judged only in quiescent worlds. */
  verdict: 'holds' | 'violated' | 'not judged';
  /** Step (1-based; 0 the initial world) where the run first violated it, if it has. */
  firstViolatedAt?: number;
  /** `sometimes` only: the step where the run first satisfied it, if it has. */
  satisfiedAt?: number;
}

export interface RunView {
  protocol: string;
  variant: string;
  nodes: number;
  network: string;
  faults: string[];
  /** The whole path (the run, including steps after `at` kept for redo). */
  path: number[];
  /** How many steps of `path` the shown world is after. */
  at: number;
  /** Set when the path could not be followed to its end: the path is cut before the bad step. */
  error?: string;
  steps: string[];
  cards: NodeCard[];
  channels: { from: number; to: number; messages: string[] }[];
  partition: string | null;
  budgets: { fault: string; left: number; of: number }[];
  properties: PropertyVerdict[];
  quiescent: boolean;
  /** Outside the checker's bounds (in flight, round): the checker would not expand this world. */
  pastBound: boolean;
  choices: { index: number; kind: string; label: string }[];
  diagram: string;
  /** One node's machine, the states some up node is in highlighted. */
  stateDiagram: string;
}

const machineDiagrams = new WeakMap<object, string>();

/** The machine's state diagram with the states `states` (dotted state values) marked. */
function highlighted(machine: Model['variant']['machine'], states: string[]): string {
  let base = machineDiagrams.get(machine);
  if (base === undefined) machineDiagrams.set(machine, (base = stateDiagram(machine)));
  // The diagram names a state by its path with every other character as '_'.
  const ids = [...new Set(states)].map((s) => s.replace(/[^A-Za-z0-9]/g, '_'));
  if (!ids.length) return base;
  return `${base}\n    classDef here fill:#ffd54f,stroke:#b8860b,stroke-width:3px\n    class ${ids.join(',')} here`;
}

interface Followed {
  sim: Simulator;
  worlds: World[];
  records: StepRecord[];
  error?: string;
}

/** Follows `path` strictly: an index that is not one of the enabled choices stops it with a message. */
export function followPath(model: Model, path: readonly number[]): Followed {
  const sim = new Simulator(model.protocol, model.variant, model.config);
  let world = sim.initial().world;
  const worlds = [world];
  const records: StepRecord[] = [];
  for (const [i, index] of path.entries()) {
    const choices = sim.enabled(world);
    if (index >= choices.length) {
      const error = choices.length
        ? `step ${i + 1}: choice ${index} is not enabled (this world enables ${choices.length}: 0 to ${choices.length - 1}); showing the run up to step ${i}`
        : `step ${i + 1}: nothing is enabled after step ${i}; showing the run up to step ${i}`;
      return { sim, worlds, records, error };
    }
    const result = sim.step(world, choices[index]);
    world = result.world;
    worlds.push(world);
    records.push(result.record);
  }
  return { sim, worlds, records };
}

export function runView(model: Model, path: readonly number[], at = path.length): RunView {
  const followed = followPath(model, path);
  const { sim, worlds, records } = followed;
  const kept = path.slice(0, records.length);
  const shownAt = Math.max(0, Math.min(at, kept.length));
  const world = worlds[shownAt];
  const { protocol, variant, config } = model;
  const n = config.nodes;
  const view = sim.view(world);

  const cards: NodeCard[] = view.nodes.map((node) => {
    const slot = world.nodes[node.id - 1];
    const durableKeys = new Set(Object.keys(node.up ? variant.durable(node.context) : node.context));
    const context = (node.context ?? {}) as Record<string, unknown>;
    return {
      id: node.id,
      up: node.up,
      state: node.state,
      fields: Object.keys(context).map((name) => ({ name, value: context[name], durable: durableKeys.has(name) })),
      timers: slot.timers.map((t) => `${t.name} (${t.delayMs} ms)`),
    };
  });

  const channels: RunView['channels'] = [];
  for (let c = 0; c < world.channels.length; c++) {
    const ch = world.channels[c];
    if (ch.length) channels.push({ from: Math.floor(c / n) + 1, to: (c % n) + 1, messages: ch.map((m) => describeChoice({ kind: 'deliver', from: 1, to: 1, msg: m }, n).replace(/^deliver 1->1 /, '')) });
  }

  const budgets: RunView['budgets'] = [];
  const budget = (fault: string, used: number, of: number) => config.faults.includes(fault as never) && budgets.push({ fault, left: of - used, of });
  budget('crash', world.used.crashes, config.maxCrashes);
  budget('loss', world.used.drops, config.maxDrops);
  budget('dup', world.used.duplicates, config.maxDuplicates);
  budget('partition', world.used.partitions, config.maxPartitions);

  const views = worlds.slice(0, shownAt + 1).map((w) => sim.view(w));
  const properties: PropertyVerdict[] = protocol.properties.map((p) => {
    const judged = (v: (typeof views)[number]) => (p.kind === 'eventually' && !v.quiescent ? null : p.holds(v));
    const here = judged(view);
    const verdict: PropertyVerdict = { name: p.name, kind: p.kind, verdict: here === null ? 'not judged' : here ? 'holds' : 'violated' };
    if (p.kind === 'sometimes') {
      const i = views.findIndex((v) => p.holds(v));
      if (i >= 0) verdict.satisfiedAt = i;
    } else {
      const i = views.findIndex((v) => judged(v) === false);
      if (i >= 0) verdict.firstViolatedAt = i;
    }
    return verdict;
  });

  const choices = sim.enabled(world).map((c, index) => ({ index, kind: c.kind, label: describeChoice(c, n) }));
  const shownRecords = records.slice(0, shownAt);
  return {
    protocol: protocol.name,
    variant: config.variant,
    nodes: n,
    network: config.network,
    faults: config.faults,
    path: kept,
    at: shownAt,
    error: followed.error,
    steps: records.map((r) => describeChoice(r.choice, n)),
    cards,
    channels,
    partition: world.partition ? describePartition(world.partition, n) : null,
    budgets,
    properties,
    quiescent: view.quiescent,
    pastBound: !sim.withinBounds(world),
    choices,
    diagram: sequenceDiagram(shownRecords, n),
    stateDiagram: highlighted(variant.machine, cards.filter((c) => c.up).map((c) => c.state)),
  };
}

/** A small seeded generator (mulberry32): the same seed takes the same random steps. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Extends the first `at` steps of `path` with random choices drawn from `seed`: `steps` of them,
 * or (`untilQuiescent`) until no message is in flight and no timer pending, nothing is enabled,
 * or `maxSteps` were taken.
 */
export function randomRun(model: Model, path: readonly number[], at: number, seed: number, opts: { steps?: number; untilQuiescent?: boolean; maxSteps?: number }): number[] {
  const followed = followPath(model, path.slice(0, at));
  const { sim } = followed;
  const out = path.slice(0, followed.records.length);
  let world = followed.worlds[followed.worlds.length - 1];
  const next = random(seed + out.length * 7919);
  const limit = opts.untilQuiescent ? (opts.maxSteps ?? 200) : (opts.steps ?? 1);
  for (let taken = 0; taken < limit; taken++) {
    if (opts.untilQuiescent && sim.view(world).quiescent && taken > 0) break;
    const choices = sim.enabled(world);
    if (!choices.length) break;
    const index = Math.floor(next() * choices.length);
    out.push(index);
    world = sim.step(world, choices[index]).world;
    if (opts.untilQuiescent && sim.view(world).quiescent) break;
  }
  return out;
}
