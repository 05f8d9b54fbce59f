/**
 * Walks inject faults at dangerous moments (buggify): crash bugs that a uniformly random crash
 * rarely hits are found by most seeds within a few hundred runs, and every walk stays
 * deterministic per seed. `npm run bench:walks` measures the same over 20 seeds and every buggy
 * variant; here a few seeds keep the test short.
 */
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import { mutex } from '../machines/mutex/index.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

describe('walks biased toward dangerous moments', () => {
  it('find a vote forgotten in a crash (volatile-vote) with every one of 3 seeds within 1,000 runs', () => {
    const model = createModel(election, { variant: 'volatile-vote' });
    for (const seed of [1, 2, 3]) {
      const r = walk(model, { seed, runs: 1_000, shrink: false, safetyOnly: true });
      expect(r.violations.map((v) => v.invariant), `seed ${seed}`).toEqual(['one vote per node per term']);
      // The counterexample crashes a node and restarts it.
      const kinds = r.violations[0].steps.map((s) => s.choice.kind);
      expect(kinds).toContain('crash');
      expect(kinds).toContain('restart');
    }
  });

  it('are deterministic per seed: the same runs, the same counterexample', () => {
    const model = createModel(election, { variant: 'volatile-vote' });
    const a = walk(model, { seed: 5, runs: 1_000, shrink: false, safetyOnly: true });
    const b = walk(model, { seed: 5, runs: 1_000, shrink: false, safetyOnly: true });
    expect(a.runs).toBe(b.runs);
    expect(a.violations[0].path).toEqual(b.violations[0].path);
    expect(a.violations[0].counterexamplePath).toBe(b.violations[0].counterexamplePath);
    // The printed seed and path replay it.
    const again = walk(model, { seed: a.seed, path: a.violations[0].counterexamplePath, shrink: false, safetyOnly: true });
    expect(again.violations[0].path).toEqual(a.violations[0].path);
  });

  it('find the deadlock of a restarted node whose rejoin keeps its dead request, at 3 nodes too', () => {
    const r = walk(createModel(mutex, { variant: 'rejoin-keeps-request', nodes: 3 }), { seed: 1, runs: 1_000, shrink: false });
    expect(r.violations.map((v) => v.invariant)).toEqual(['every request is granted']);
  });

  it('with `all`, keep looking past a first violation for the others, on the same seed', () => {
    const model = createModel(mutex, { variant: 'tie-by-arrival' });
    const first = walk(model, { seed: 2, runs: 1_000, shrink: false });
    const all = walk(model, { seed: 2, runs: 1_000, shrink: false, all: true });
    expect(first.violations).toHaveLength(1);
    expect(all.violations[0].invariant).toBe(first.violations[0].invariant);
    expect(all.violations.length).toBeGreaterThan(1);
    expect(all.violations.map((v) => v.invariant)).toContain('mutual exclusion');
    expect(all.runsToFind[first.violations[0].invariant]).toBe(first.runs);
  });
});
