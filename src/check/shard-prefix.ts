/**
 * The part of a sharded depth-first search that every shard does alike (see shard.ts): the
 * worlds down to the split depth, breadth-first, in the order a breadth-first search meets them,
 * so that every shard deals the same worlds at the split depth the same way.
 */
import type { Hash64 } from '../sim/hash64.js';
import type { Simulator } from '../sim/simulator.js';
import type { World } from '../sim/world.js';
import type { Judge } from './judge.js';
import { owns, splitsAt, type ShardPrefix, type ShardSpec } from './shard.js';

/** The worlds a search goes on below, with the totals of the search that found them. */
export interface PrefixSearch {
  starts: { world: World; path: number[] }[];
  states: number;
  transitions: number;
  depth: number;
  /** Worlds above the starts that a bound kept from being expanded; `roundCut` of them by the round bound. */
  bounded: number;
  roundCut: number;
}

/** Adds and judges the worlds above where a search goes on, and says where that is. */
export type Prefixer = (sim: Simulator, judge: Judge, visited: { add(h: Hash64): boolean }) => PrefixSearch;

/**
 * The prefix of shard `spec`: every world down to the split depth is added to `visited` and
 * judged; the starts are this shard's worlds at that depth. `found` is told what was searched.
 * No starts when the space ended (or a violation, or `maxStates`, stopped the search) first.
 */
export function shardPrefix(spec: ShardSpec, maxStates: number, found: (prefix: ShardPrefix) => void): Prefixer {
  return (sim, judge, visited) => {
    const root = sim.initial().world;
    visited.add(sim.fingerprint(root));
    judge.judge(root, () => []);
    const cut = { inFlight: 0, round: 0, depth: 0 };
    let level: PrefixSearch['starts'] = [{ world: root, path: [] }];
    let states = 1;
    let transitions = 0;
    let depth = 0;
    const totals = (starts: PrefixSearch['starts']) => ({ starts, states, transitions, depth, bounded: cut.inFlight + cut.round, roundCut: cut.round });
    while (level.length && !judge.stop && states < maxStates) {
      const next: PrefixSearch['starts'] = [];
      for (const { world, path } of level) {
        const bound = sim.boundPassed(world);
        if (bound) {
          cut[bound]++;
          continue;
        }
        const choices = sim.enabled(world);
        for (let c = 0; c < choices.length && !judge.stop; c++) {
          const child = sim.successor(world, choices[c]);
          transitions++;
          if (!visited.add(sim.fingerprint(child))) continue;
          states++;
          const childPath = [...path, c];
          judge.judge(child, () => childPath);
          next.push({ world: child, path: childPath });
        }
        if (judge.stop) break;
      }
      if (next.length) depth++;
      if (!judge.stop && next.length && splitsAt(spec, depth, next.length)) {
        const share = next.filter((_, k) => owns(spec, k, next.length));
        found({ depth, states, transitions, cut: { ...cut }, frontier: next.length, share: share.length });
        return totals(share);
      }
      level = next;
    }
    found({ depth: null, states, transitions, cut: { ...cut }, frontier: 0, share: 0 });
    return totals([]);
  };
}
