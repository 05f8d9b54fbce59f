/**
 * Exhaustive exploration of every world reachable within the model's bounds, in one of two
 * orders:
 *
 * - `bfs` (default): breadth-first, so the first violation found is a shortest one; each world
 *   is logged as (parent, choice) and a counterexample is rebuilt by replaying the choices. It
 *   holds a whole level of worlds in memory.
 * - `dfs`: depth-first, holding only the current path next to the set of fingerprints, so it
 *   reaches spaces whose widest level would not fit in memory; a counterexample is the path on
 *   the stack, not necessarily a shortest one. It refuses a depth bound: with one, a world first
 *   met deep (and not expanded) could later be met shallower and wrongly skipped.
 *
 * Both count the worlds a bound (`maxInFlight`, the primitive's round bound, `maxDepth`) kept
 * from being expanded: zero means the search was exhaustive for the model, not just bounded.
 */
import { Simulator } from '../sim/simulator.js';
import type { World } from '../sim/world.js';
import { depthFirst } from './depth-first.js';
import { FingerprintSet, slotsFor } from './fingerprint-set.js';
import { Judge } from './judge.js';
import type { Model } from './model.js';
import { ParentLog } from './parent-log.js';
import type { Violation } from './violation.js';

export const SEARCH_ORDERS = ['bfs', 'dfs'] as const;
export type SearchOrder = (typeof SEARCH_ORDERS)[number];

export interface ExploreProgress {
  states: number;
  transitions: number;
  /** Breadth-first: the level being built; depth-first: the length of the current path. */
  depth: number;
  /** Breadth-first only: worlds waiting to be expanded (the rest of the level and the next). */
  frontier?: number;
  elapsedMs: number;
}

export interface ExploreOptions {
  /** Search order, `bfs` unless given. */
  search?: SearchOrder;
  /** Stop after this many distinct states (the result is then marked incomplete). */
  maxStates?: number;
  /** Called every `progressEvery` new states. */
  onProgress?: (p: ExploreProgress) => void;
  progressEvery?: number;
  /** Keep going after the first violation (each property reported once). */
  all?: boolean;
  /**
   * About how many worlds the search will find (a previous run's count, an estimate): the
   * visited set starts large enough to hold them without growing. A hint only: a wrong one
   * changes no count, it costs growth (too small) or memory (too large).
   */
  expectStates?: number;
  /** With `all`: stop once this property is violated. */
  until?: string;
  /**
   * Breadth-first only, for shards (shard.ts): offered each level once built; a function it
   * returns keeps the level's worlds it accepts (by their order in the level), and no later
   * level is offered.
   */
  split?: (level: SplitLevel) => ((k: number) => boolean) | undefined;
}

/** A level of a breadth-first search as offered to `split`, with the totals up to it. */
export interface SplitLevel {
  depth: number;
  size: number;
  states: number;
  transitions: number;
  cut: BoundCuts;
}

export interface ExploreResult {
  search: SearchOrder;
  /** Threads that searched (more than one: a depth-first search over a shared visited set). */
  threads: number;
  /** Several threads only: how many times one thread took work another had posted. */
  handoffs?: number;
  /** Several threads only, per thread: CPU time in ms (Linux), wall time spent waiting for work, and while the visited set grew. */
  perThread?: { cpuMs?: number; startCpuMs?: number; waitMs: number; resizingMs: number }[];
  states: number;
  transitions: number;
  /** Breadth-first: the deepest level; depth-first: the longest path. */
  depth: number;
  elapsedMs: number;
  statesPerSecond: number;
  /**
   * True when every world within the bounds was searched: false when the search stopped early,
   * at the first violation, at `maxStates`, or (threads) when the shared visited set filled up at its largest size;
   * `stopped` says which.
   */
  complete: boolean;
  stopped?: 'violation' | 'max-states' | 'capacity';
  /** Worlds reached but not expanded because they lie at or past a bound (in flight, round, depth). */
  bounded: number;
  /** `bounded`, by the bound that held each world back. */
  cut: BoundCuts;
  violations: Violation[];
  /** `sometimes` properties no searched world satisfies. */
  unsatisfied: string[];
  /** How `eventually` properties were judged: quiescent worlds, and fair phases from how many worlds. */
  fair?: { quiescent: number; starts: number; phases: number };
  /** Bytes held by the visited set and parent log. */
  indexBytes: number;
  /** Node-level transitions reached, as `from|event|to`. */
  reached: Set<string>;
  sim: Simulator;
}

/** Worlds a bound kept from being expanded, by bound. */
export interface BoundCuts {
  inFlight: number;
  round: number;
  depth: number;
}

export function explore(model: Model, options: ExploreOptions = {}): ExploreResult {
  const search = options.search ?? 'bfs';
  if (search === 'dfs' && model.config.maxDepth > 0) {
    throw new Error(`a depth-first search cannot honour a depth bound (max depth ${model.config.maxDepth}); use a breadth-first one`);
  }
  const started = performance.now();
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const judge = new Judge(model, sim, search, options.all, options.until);
  const run = search === 'bfs' ? breadthFirst : depthFirstAlone;
  const { states, transitions, depth, bounded, cut, indexBytes } = run(model, sim, judge, options, started);
  const stopped = judge.stop ? 'violation' : states >= (options.maxStates ?? Infinity) ? 'max-states' : undefined;
  const elapsedMs = performance.now() - started;
  return {
    search,
    threads: 1,
    states,
    transitions,
    depth,
    elapsedMs,
    statesPerSecond: Math.round((states / Math.max(elapsedMs, 1)) * 1000),
    complete: stopped === undefined,
    ...(stopped ? { stopped } : {}),
    bounded,
    cut,
    violations: judge.violations,
    unsatisfied: judge.unsatisfied,
    fair: judge.fair,
    indexBytes,
    reached: sim.stepper.reached,
    sim,
  };
}

/** The visited set of one thread starts with 2^16 slots; a hint sizes it up to 2^29 (4 GiB) at most, past which it grows as needed. */
const DEFAULT_SLOTS = 2 ** 16;
const MAX_SLOTS = 2 ** 29;

interface SearchTotals {
  states: number;
  transitions: number;
  depth: number;
  bounded: number;
  cut: BoundCuts;
  indexBytes: number;
}

function breadthFirst(model: Model, sim: Simulator, judge: Judge, options: ExploreOptions, started: number): SearchTotals {
  const { maxDepth } = model.config;
  const visited = new FingerprintSet(slotsFor(options.expectStates, DEFAULT_SLOTS, MAX_SLOTS));
  const parents = new ParentLog();
  const maxStates = options.maxStates ?? Infinity;
  const every = options.progressEvery ?? 10_000;
  let transitions = 0;
  let depth = 0;
  const cut: BoundCuts = { inFlight: 0, round: 0, depth: 0 };
  let split = options.split;

  const root = sim.initial().world;
  visited.add(sim.fingerprint(root));
  parents.push(0, 0);
  judge.judge(root, () => []);
  let frontier: World[] = [root];
  let frontierIds: number[] = [0];
  let stop = judge.stop;

  while (frontier.length && !stop && (maxDepth === 0 || depth < maxDepth)) {
    const next: World[] = [];
    const nextIds: number[] = [];
    for (let f = 0; f < frontier.length && !stop; f++) {
      const world = frontier[f];
      const bound = sim.boundPassed(world);
      if (bound) {
        cut[bound]++;
        continue;
      }
      const choices = sim.enabled(world);
      for (let c = 0; c < choices.length && !stop; c++) {
        transitions++;
        // A world seen before is not built when its fingerprint can be had without it.
        const peeked = sim.peek(world, choices[c]);
        if (peeked && (sim.same(world, peeked) || !visited.add(peeked))) continue;
        const child = sim.successor(world, choices[c]);
        if (!peeked && !visited.add(sim.fingerprint(child))) continue;
        const index = parents.push(frontierIds[f], c);
        judge.judge(child, () => parents.pathTo(index));
        next.push(child);
        nextIds.push(index);
        if (options.onProgress && parents.size % every === 0) {
          options.onProgress({ states: parents.size, transitions, depth: depth + 1, frontier: frontier.length - f + next.length, elapsedMs: performance.now() - started });
        }
        stop = judge.stop || parents.size >= maxStates;
      }
    }
    if (next.length) depth++;
    const keep = next.length && !stop ? split?.({ depth, size: next.length, states: parents.size, transitions, cut: { ...cut } }) : undefined;
    if (keep) {
      split = undefined;
      let kept = 0;
      for (let k = 0; k < next.length; k++) if (keep(k)) [next[kept], nextIds[kept++]] = [next[k], nextIds[k]];
      next.length = nextIds.length = kept;
    }
    frontier = next;
    frontierIds = nextIds;
  }
  // A level left unexpanded by the depth bound.
  if (!stop) cut.depth += frontier.length;
  return { states: parents.size, transitions, depth, bounded: cut.inFlight + cut.round + cut.depth, cut, indexBytes: visited.bytes + parents.bytes };
}

function depthFirstAlone(_model: Model, sim: Simulator, judge: Judge, options: ExploreOptions, started: number): SearchTotals {
  const visited = new FingerprintSet(slotsFor(options.expectStates, DEFAULT_SLOTS, MAX_SLOTS));
  const maxStates = options.maxStates ?? Infinity;
  const root = sim.initial().world;
  visited.add(sim.fingerprint(root));
  judge.judge(root, () => []);
  const totals = judge.stop
    ? { states: 0, transitions: 0, depth: 0, bounded: 0, roundCut: 0 }
    : depthFirst(sim, judge, { world: root }, {
        visited,
        stopped: () => visited.size >= maxStates,
        every: options.progressEvery,
        onProgress: options.onProgress && ((t) => options.onProgress!({ states: t.states + 1, transitions: t.transitions, depth: t.path, elapsedMs: performance.now() - started })),
      });
  const cut = { inFlight: totals.bounded - totals.roundCut, round: totals.roundCut, depth: 0 };
  return { states: totals.states + 1, transitions: totals.transitions, depth: totals.depth, bounded: totals.bounded, cut, indexBytes: visited.bytes };
}
