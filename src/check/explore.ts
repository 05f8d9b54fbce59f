/**
 * Exhaustive breadth-first exploration of every world reachable within the model's bounds.
 * Properties are checked when a world is first discovered, so the first violation found is a
 * shortest one; it is rebuilt from (parent, choice) pairs by replaying the choices.
 */
import type { Property, WorldView } from '../protocol.js';
import { Simulator } from '../sim/simulator.js';
import type { World } from '../sim/world.js';
import { FingerprintSet } from './fingerprint-set.js';
import type { Model } from './model.js';
import { ParentLog } from './parent-log.js';
import { replay } from './replay.js';
import { replayCommand } from './replay-command.js';
import type { Violation } from './violation.js';

export interface ExploreProgress {
  states: number;
  transitions: number;
  depth: number;
  frontier: number;
  elapsedMs: number;
}

export interface ExploreOptions {
  /** Stop after this many distinct states (the result is then marked incomplete). */
  maxStates?: number;
  /** Called every `progressEvery` new states. */
  onProgress?: (p: ExploreProgress) => void;
  progressEvery?: number;
  /** Keep going after the first violation (each property reported once). */
  all?: boolean;
}

export interface ExploreResult {
  states: number;
  transitions: number;
  depth: number;
  elapsedMs: number;
  statesPerSecond: number;
  /** False when maxStates cut the search short. */
  complete: boolean;
  violations: Violation[];
  /** Bytes held by the visited set and parent log. */
  indexBytes: number;
  /** Node-level transitions reached, as `from|event|to`. */
  reached: Set<string>;
  sim: Simulator;
}

export function explore(model: Model, options: ExploreOptions = {}): ExploreResult {
  const started = performance.now();
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const { maxDepth } = model.config;
  const always = model.protocol.properties.filter((p) => p.kind === 'always');
  const eventually = model.protocol.properties.filter((p) => p.kind === 'eventually');
  const pendingSometimes = new Set(model.protocol.properties.filter((p) => p.kind === 'sometimes'));
  const visited = new FingerprintSet();
  const parents = new ParentLog();
  const violations: Violation[] = [];
  const failed = new Set<string>();
  const maxStates = options.maxStates ?? Infinity;
  const every = options.progressEvery ?? 10_000;

  let transitions = 0;
  let depth = 0;
  let stop = false;

  const verdicts = new Map<Property, WeakMap<object, boolean>>();
  const holds = (p: Property, view: WorldView) => {
    if (p.reads !== 'history') return p.holds(view);
    let memo = verdicts.get(p);
    if (!memo) verdicts.set(p, (memo = new WeakMap()));
    let verdict = memo.get(view.history);
    if (verdict === undefined) memo.set(view.history, (verdict = p.holds(view)));
    return verdict;
  };
  const judge = (world: World, index: number) => {
    const view = sim.view(world);
    const check = (p: Property) => {
      if (failed.has(p.name) || holds(p, view)) return;
      failed.add(p.name);
      violations.push(toViolation(model, p, parents.pathTo(index), sim));
      if (!options.all) stop = true;
    };
    always.forEach(check);
    if (view.quiescent) eventually.forEach(check);
    for (const p of pendingSometimes) if (p.holds(view)) pendingSometimes.delete(p);
  };

  const root = sim.initial().world;
  visited.add(sim.fingerprint(root));
  parents.push(0, 0);
  judge(root, 0);
  let frontier: World[] = [root];
  let frontierIds: number[] = [0];

  while (frontier.length && !stop && (maxDepth === 0 || depth < maxDepth)) {
    const next: World[] = [];
    const nextIds: number[] = [];
    for (let f = 0; f < frontier.length && !stop; f++) {
      const world = frontier[f];
      if (!sim.withinBounds(world)) continue;
      const choices = sim.enabled(world);
      for (let c = 0; c < choices.length && !stop; c++) {
        const child = sim.step(world, choices[c]).world;
        transitions++;
        if (!visited.add(sim.fingerprint(child))) continue;
        const index = parents.push(frontierIds[f], c);
        judge(child, index);
        next.push(child);
        nextIds.push(index);
        if (options.onProgress && parents.size % every === 0) {
          options.onProgress({ states: parents.size, transitions, depth: depth + 1, frontier: frontier.length - f + next.length, elapsedMs: performance.now() - started });
        }
        if (parents.size >= maxStates) stop = true;
      }
    }
    frontier = next;
    frontierIds = nextIds;
    if (next.length) depth++;
  }

  const complete = parents.size < maxStates && (violations.length === 0 || !!options.all);
  if (complete && (maxDepth === 0 || frontier.length === 0)) {
    for (const p of pendingSometimes) violations.push({ invariant: p.name, kind: p.kind, mode: 'explore', path: [], steps: [], replay: replayCommand(model, 'explore') });
  }
  const elapsedMs = performance.now() - started;
  return {
    states: parents.size,
    transitions,
    depth,
    elapsedMs,
    statesPerSecond: Math.round((parents.size / Math.max(elapsedMs, 1)) * 1000),
    complete: parents.size < maxStates,
    violations,
    indexBytes: visited.bytes + parents.bytes,
    reached: sim.stepper.reached,
    sim,
  };
}

function toViolation(model: Model, p: Property, path: number[], sim: Simulator): Violation {
  const { steps } = replay(model, path, sim);
  return { invariant: p.name, kind: p.kind, mode: 'explore', path, steps, replay: replayCommand(model, 'explore') };
}
