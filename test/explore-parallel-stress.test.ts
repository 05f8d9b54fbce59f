/**
 * The threads of a parallel search hand work to each other through shared memory; an ordering
 * nobody thought of must neither hang the search nor lose or repeat a world. Each run here
 * slows random steps of the hand-off (posting, publishing, claiming, waiting, finishing) by up
 * to half a millisecond, with offers of work every 8 transitions instead of 1,024 so that work
 * changes hands dozens of times, and must end, within a watchdog far shorter than the test's
 * time limit, with exactly the single-thread counts. The threads load the built modules.
 */
import { describe, expect, it } from 'vitest';
import type { ExploreResult } from '../src/check/explore.js';
import type { ParallelOptions } from '../src/check/explore-parallel.js';
import type { Model } from '../src/check/model.js';

const dist = new URL('../dist/', import.meta.url);
const { exploreParallel } = (await import(new URL('src/check/explore-parallel.js', dist).href)) as typeof import('../src/check/explore-parallel.js');
const { explore } = (await import(new URL('src/check/explore.js', dist).href)) as typeof import('../src/check/explore.js');
const { createModel } = (await import(new URL('src/check/model.js', dist).href)) as typeof import('../src/check/model.js');
const { protocols } = (await import(new URL('machines/index.js', dist).href)) as typeof import('../machines/index.js');
const module = new URL('machines/index.js', dist).href;

const counts = (r: ExploreResult) => ({ states: r.states, transitions: r.transitions, bounded: r.bounded, complete: r.complete, violations: r.violations.map((v) => v.invariant) });

describe('parallel search under random delays in the hand-off', () => {
  it.each([
    ['consensus', 2, 5],
    ['barrier', 3, 6],
  ])('%s with %i nodes: %i runs each end with the single-thread counts', async (name, nodes, runs) => {
    const model: Model = createModel(protocols.find((p) => p.name === name)!, { nodes, symmetry: false });
    const one = explore(model, { search: 'dfs' });
    let handoffs = 0;
    for (let seed = 1; seed <= runs; seed++) {
      const options: ParallelOptions = { workers: 2, module, stallMs: 15_000, jitter: { seed: seed * 7919 + nodes, maxMs: 0.5, pollEvery: 8 } };
      const two = await exploreParallel(model, options);
      expect(counts(two), `seed ${options.jitter!.seed}`).toEqual(counts(one));
      handoffs += two.handoffs!;
    }
    // The delays are only worth something if work did change hands.
    expect(handoffs).toBeGreaterThan(runs);
  });

  it('three threads on one board end with the single-thread counts', async () => {
    const model: Model = createModel(protocols.find((p) => p.name === 'consensus')!, { nodes: 2, symmetry: false });
    const one = explore(model, { search: 'dfs' });
    for (let seed = 1; seed <= 2; seed++) {
      const two = await exploreParallel(model, { workers: 3, module, stallMs: 15_000, jitter: { seed, maxMs: 0.5, pollEvery: 8 } });
      expect(counts(two)).toEqual(counts(one));
    }
  });

  it('a visited set that starts tiny grows many times under the same delays and ends with the single-thread counts', async () => {
    const model: Model = createModel(protocols.find((p) => p.name === 'consensus')!, { nodes: 2, symmetry: false });
    const one = explore(model, { search: 'dfs' });
    for (const [workers, seed] of [[2, 11], [3, 12]]) {
      // 256 slots: the table doubles until it holds every world, with every thread stopped each time.
      const many = await exploreParallel(model, { workers, module, capacity: 256, stallMs: 15_000, jitter: { seed, maxMs: 0.5, pollEvery: 8 } });
      expect(counts(many), `${workers} threads`).toEqual(counts(one));
      expect(many.indexBytes).toBeGreaterThanOrEqual(one.states * 8 * 2);
    }
  });

  it('a visited set sized from a hint, right or wrong, ends with the counts of one thread (which a hint does not change either)', async () => {
    // TwoPhase with 8 resource managers: 1,745,408 worlds, more than the threads' table holds
    // unhinted (2^20 slots), so the default search grows it and a right hint does not.
    const twoPhase = (await import(new URL('examples/two-phase-commit/index.js', dist).href)).default as import('../src/protocol.js').Protocol;
    const model: Model = createModel(twoPhase, { nodes: 9 });
    const twoPhaseModule = new URL('examples/two-phase-commit/index.js', dist).href;
    const one = explore(model, { search: 'dfs' });
    expect(one.states).toBe(1_745_408);
    const large = explore(model, { search: 'dfs', expectStates: 4 * one.states });
    expect(counts(large)).toEqual(counts(one));
    expect(large.indexBytes).toBe(2 ** 24 * 8);
    const right = await exploreParallel(model, { workers: 2, module: twoPhaseModule, expectStates: one.states });
    expect(counts(right)).toEqual(counts(one));
    expect(right.indexBytes).toBe(2 ** 22 * 8);
    expect(right.perThread!.map((t) => t.resizingMs)).toEqual([0, 0]);
    // A hint far too small: the table grows as without one.
    const small = await exploreParallel(model, { workers: 2, module: twoPhaseModule, expectStates: 1_000 });
    expect(counts(small)).toEqual(counts(one));
    expect(small.indexBytes).toBe(2 ** 22 * 8);
    expect(small.perThread!.some((t) => t.resizingMs > 0)).toBe(true);
  });

  it('a search whose threads stop taking steps ends with an error naming what each thread was doing', async () => {
    const model: Model = createModel(protocols.find((p) => p.name === 'consensus')!, { nodes: 2, symmetry: false });
    // Pauses of a second at every step of the hand-off and a watchdog of 300 ms: the threads
    // cannot make a transition in time.
    const stuck = exploreParallel(model, { workers: 2, module, stallMs: 300, jitter: { seed: 3, maxMs: 4_000, pollEvery: 1 } });
    await expect(stuck).rejects.toThrow(/made no transition for 0.3 s: thread 0 \w[\w ]+ \(\d+ transitions, path \d+, \d+ jobs taken\); thread 1 .*unit\(s\) of work unfinished/);
  });
});
