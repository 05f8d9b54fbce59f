/**
 * One shard's exploration (see shard.ts) in each search order: breadth-first splits its own
 * levels; depth-first, on one thread or several, searches the prefix breadth-first and then
 * below each world of its share in turn.
 */
import { Simulator } from '../sim/simulator.js';
import { depthFirst } from './depth-first.js';
import { explore, type ExploreProgress, type ExploreResult, type SearchOrder } from './explore.js';
import { exploreParallel } from './explore-parallel.js';
import { FingerprintSet } from './fingerprint-set.js';
import { Judge } from './judge.js';
import type { Model } from './model.js';
import { owns, splitsAt, type ShardPrefix, type ShardSpec } from './shard.js';
import { shardPrefix } from './shard-prefix.js';

export interface ShardExploreOptions {
  search: SearchOrder;
  /** Threads (depth-first); more than one needs `module`. */
  workers: number;
  module?: string;
  maxStates?: number;
  onProgress?: (p: ExploreProgress) => void;
}

export interface ShardExplored {
  explore: ExploreResult;
  prefix: ShardPrefix;
}

export async function exploreShard(model: Model, spec: ShardSpec, options: ShardExploreOptions): Promise<ShardExplored> {
  const maxStates = options.maxStates ?? Infinity;
  let prefix: ShardPrefix | undefined;
  const found = (p: ShardPrefix) => (prefix = p);
  let explored: ExploreResult;
  if (options.workers > 1) {
    explored = await exploreParallel(model, { workers: options.workers, module: options.module!, maxStates, onProgress: options.onProgress, prefix: shardPrefix(spec, maxStates, found), all: true });
  } else if (options.search === 'dfs') {
    explored = depthFirstShard(model, spec, maxStates, found, options.onProgress);
  } else {
    explored = explore(model, {
      search: 'bfs',
      maxStates,
      all: true,
      onProgress: options.onProgress,
      split: (level) => {
        if (!splitsAt(spec, level.depth, level.size)) return undefined;
        let share = 0;
        for (let k = 0; k < level.size; k++) if (owns(spec, k, level.size)) share++;
        found({ depth: level.depth, states: level.states, transitions: level.transitions, cut: level.cut, frontier: level.size, share });
        return (k) => owns(spec, k, level.size);
      },
    });
  }
  // No split: the search ended above the split depth, and every shard searched what it did.
  prefix ??= { depth: null, states: explored.states, transitions: explored.transitions, cut: { ...explored.cut }, frontier: 0, share: 0 };
  // The shard's own command searches the same share again (on one thread: the same run).
  const again = ` --shard ${spec.index}/${spec.count}${spec.depth !== undefined ? ` --shard-depth ${spec.depth}` : ''}`;
  for (const v of explored.violations) v.replay += again;
  return { explore: explored, prefix };
}

function depthFirstShard(model: Model, spec: ShardSpec, maxStates: number, found: (p: ShardPrefix) => void, onProgress?: (p: ExploreProgress) => void): ExploreResult {
  const started = performance.now();
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const judge = new Judge(model, sim, 'dfs', true);
  const visited = new FingerprintSet();
  const above = shardPrefix(spec, maxStates, found)(sim, judge, visited);
  const totals = { states: above.states, transitions: above.transitions, depth: above.depth, bounded: above.bounded, roundCut: above.roundCut };
  for (const start of above.starts) {
    if (judge.stop || visited.size >= maxStates) break;
    const base = { ...totals };
    const t = depthFirst(sim, judge, start, {
      visited,
      stopped: () => visited.size >= maxStates,
      onProgress: onProgress && ((t) => onProgress({ states: base.states + t.states, transitions: base.transitions + t.transitions, depth: t.path, elapsedMs: performance.now() - started })),
    });
    totals.states += t.states;
    totals.transitions += t.transitions;
    totals.bounded += t.bounded;
    totals.roundCut += t.roundCut;
    totals.depth = Math.max(totals.depth, t.depth);
  }
  const stopped = judge.stop ? 'violation' : totals.states >= maxStates ? 'max-states' : undefined;
  const elapsedMs = performance.now() - started;
  return {
    search: 'dfs',
    threads: 1,
    states: totals.states,
    transitions: totals.transitions,
    depth: totals.depth,
    elapsedMs,
    statesPerSecond: Math.round((totals.states / Math.max(elapsedMs, 1)) * 1000),
    complete: stopped === undefined,
    ...(stopped ? { stopped } : {}),
    bounded: totals.bounded,
    cut: { inFlight: totals.bounded - totals.roundCut, round: totals.roundCut, depth: 0 },
    violations: judge.violations,
    unsatisfied: judge.unsatisfied,
    indexBytes: visited.bytes,
    reached: sim.stepper.reached,
    sim,
  };
}
