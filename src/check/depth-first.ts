/**
 * Depth-first search from a world already visited and judged: only the current path is held,
 * next to the visited set. The set may be shared between threads, each thread expanding just
 * the worlds it added first (Laarman, van de Pol and Weber, "Boosting multi-core reachability
 * performance with shared hash tables", FMCAD 2010); threads then try choices in different
 * orders so that they spread over the space.
 */
import type { Choice } from '../sim/choice.js';
import type { Hash64 } from '../sim/hash64.js';
import type { Simulator } from '../sim/simulator.js';
import type { World } from '../sim/world.js';
import type { Judge } from './judge.js';

export interface DepthFirstSearch {
  /** Adds a fingerprint; false when it was there already. */
  visited: { add(h: Hash64): boolean };
  /** Where to start trying the `count` choices of a world (0: the canonical order). */
  firstChoice?: (count: number) => number;
  /** Polled at the start and every `pollEvery` (1,024) transitions: true ends the search. */
  stopped?: () => boolean;
  pollEvery?: number;
  /** Called at each poll, with the totals so far. */
  onPoll?: (totals: DepthFirstTotals) => void;
  /** Called every `every` new worlds. */
  onProgress?: (totals: DepthFirstTotals) => void;
  every?: number;
  /**
   * Work sharing, polled with `stopped`: when `wanted()`, the choices left at the oldest world
   * on the path are offered to `give` (with the choice path to that world) and dropped here if
   * taken. Only after `pollEvery` transitions of this search, and as many between offers: a search
   * that gave away its work as soon as it started would hand one job back and forth between
   * idle threads for ever, each replaying its path and none taking a step.
   */
  share?: { wanted(): boolean; give(job: { path: number[]; choices: number[] }): boolean };
}

/** Where a search starts: a world reached by `path`, and optionally which of its choices to try. */
export interface Start {
  world: World;
  path?: number[];
  choices?: number[];
}

export interface DepthFirstTotals {
  /** Worlds this search added (the start world excluded). */
  states: number;
  transitions: number;
  /** The longest path, in steps. */
  depth: number;
  /** The current path's length. */
  path: number;
  /** Worlds added but not expanded because they lie past a bound. */
  bounded: number;
  /** Of those, the ones past the round bound (the others are past the in-flight bound). */
  roundCut: number;
}

/** A world on the path. Frames are kept for reuse (with their choice arrays) when the path shortens: no allocation per world expanded. */
interface Frame {
  world: World;
  /** The world's choices are the first `size` entries (the array is reused). */
  choices: Choice[];
  size: number;
  first: number;
  /** Which choices to try, in order, when not all of them. */
  order: number[] | undefined;
  /** Choices tried so far. */
  tried: number;
}

export function depthFirst(sim: Simulator, judge: Judge, start: Start, search: DepthFirstSearch): DepthFirstTotals {
  const totals: DepthFirstTotals = { states: 0, transitions: 0, depth: 0, path: 0, bounded: 0, roundCut: 0 };
  const every = search.every ?? 10_000;
  const prefix = start.path ?? [];
  // stack[0 .. height - 1] is the path; frames past it wait for reuse.
  const stack: Frame[] = [];
  let height = 0;
  const push = (world: World, order?: number[]) => {
    let f = stack[height];
    if (!f) stack.push((f = { world, choices: [], size: 0, order, first: 0, tried: 0 }));
    f.world = world;
    f.order = order;
    f.tried = 0;
    f.size = sim.enabledInto(world, f.choices);
    f.first = search.firstChoice && f.size > 1 ? search.firstChoice(f.size) : 0;
    height++;
  };
  const count = (f: Frame) => (f.order ? f.order.length : f.size);
  const indexOf = (f: Frame, k = f.tried - 1) => (f.order ? f.order[k] : (f.first + k) % f.size);
  const pathTo = (depth: number) => [...prefix, ...stack.slice(0, depth).map((f) => indexOf(f))];
  /** The path to the world being judged (a child of the top frame). */
  const pathHere = () => pathTo(height);
  const share = () => {
    let at = 0;
    while (at < height && stack[at].tried >= count(stack[at])) at++;
    if (at === height) return;
    const f = stack[at];
    const left: number[] = [];
    for (let k = f.tried; k < count(f); k++) left.push(indexOf(f, k));
    // Given away: keep only the choices already tried, so the frame ends when they are done.
    if (search.share!.give({ path: pathTo(at), choices: left })) f.order = Array.from({ length: f.tried }, (_, k) => indexOf(f, k));
  };
  const cut = (world: World) => {
    const bound = sim.boundPassed(world);
    if (bound) totals.bounded++;
    if (bound === 'round') totals.roundCut++;
    return bound !== undefined;
  };
  if (!cut(start.world)) push(start.world, start.choices);

  let poll = 0;
  while (height && !judge.stop) {
    if (totals.transitions >= poll) {
      poll = totals.transitions + (search.pollEvery ?? 1024);
      totals.path = prefix.length + height;
      search.onPoll?.(totals);
      if (search.stopped?.()) break;
      if (totals.transitions > 0 && search.share?.wanted()) share();
    }
    const top = stack[height - 1];
    if (top.tried === count(top)) {
      // Dropped, so that a frame kept for reuse holds no world alive.
      top.world = undefined as unknown as World;
      height--;
      continue;
    }
    top.tried++;
    const world = top.world;
    const choice = top.choices[indexOf(top)];
    totals.transitions++;
    // A world seen before is not built when its fingerprint can be had without it; a step that
    // leaves the world as it is (a delivery the receiver ignores) needs no look-up at all.
    const peeked = sim.peek(world, choice);
    if (peeked && (sim.same(world, peeked) || !search.visited.add(peeked))) continue;
    const child = sim.successor(world, choice);
    if (!peeked && !search.visited.add(sim.fingerprint(child))) continue;
    totals.states++;
    judge.judge(child, pathHere);
    if (search.onProgress && totals.states % every === 0) {
      totals.path = prefix.length + height;
      search.onProgress(totals);
    }
    if (cut(child)) continue;
    push(child);
    if (prefix.length + height - 1 > totals.depth) totals.depth = prefix.length + height - 1;
  }
  return totals;
}
