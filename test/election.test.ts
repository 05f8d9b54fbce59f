/**
 * Leader election: the verified variant holds every property; each buggy variant is caught by
 * the explorer (with a shortest counterexample) and by random walks.
 */
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';
import type { CheckConfig } from '../src/protocol.js';

const model = (o: Partial<CheckConfig> = {}) => createModel(election, o);
/** Variants that break a safety property; the liveness ones are in test/liveness-properties.test.ts. */
const buggy = election.variants.filter((v) => election.properties.find((p) => p.name === v.breaks)?.kind === 'always');
/**
 * Walks are random: these seeds make the tests deterministic (a variant not named here walks
 * seed 1). Each is the first of seeds 1..10 to find the bug within 5000 runs; a change to the walk
 * or the machine may need a new one. Seed 9 of prevote-refusal-termless finds another property
 * first, and the run that then breaks its own breaks the other one earlier: its replay must still
 * report it.
 */
const WALK_SEEDS: Record<string, number> = { 'vote-twice': 1, 'volatile-vote': 7, 'count-duplicates': 1, 'prevote-refusal-termless': 9 };

describe('election: verified variant', () => {
  it('pins the distinct-state count of the default model (3 nodes, terms <= 2, <= 3 in flight)', () => {
    const full = explore(model({ symmetry: false }));
    expect(full.complete).toBe(true);
    expect(full.violations).toEqual([]);
    // A change here changes the model: explain it in the commit.
    expect(full.states).toBe(144_724);
    // Symmetry keeps one world per renaming class: almost every class has 3! = 6 members.
    const reduced = explore(model());
    expect(reduced.states).toBe(24_126);
    expect(reduced.depth).toBe(full.depth);
  });

  it('symmetry reduction finds the same shortest counterexamples as the full space', () => {
    for (const v of buggy) {
      const full = explore(model({ variant: v.name, symmetry: false })).violations[0];
      const reduced = explore(model({ variant: v.name })).violations[0];
      expect(reduced.invariant).toBe(full.invariant);
      expect(reduced.steps.length).toBe(full.steps.length);
    }
  });

  it('holds under loss, duplication, crash/restart and partition (depth-bounded)', () => {
    const r = explore(model({ faults: ['loss', 'dup', 'crash', 'partition'], maxDepth: 9 }));
    expect(r.violations.map((v) => v.invariant)).toEqual([]);
    expect(r.states).toBe(56_648);
  });

  it('holds under random walks with 5 nodes and every fault, and converges after the faults heal', () => {
    const r = walk(model({ nodes: 5, faults: ['loss', 'dup', 'crash', 'partition'] }), { runs: 150, seed: 42 });
    expect(r.violations).toEqual([]);
    // Each run also ends in a fair phase with two of the five nodes crashed or cut off.
  }, 300_000);
});

describe.each(buggy.map((v) => [v.name, v.breaks!]))('election: buggy variant %s', (variant, invariant) => {
  it(`explore finds '${invariant}' violated, with a shortest counterexample`, () => {
    const m = model({ variant });
    const r = explore(m);
    const v = r.violations.find((x) => x.invariant === invariant);
    expect(v, `explore should break '${invariant}'`).toBeDefined();
    // Minimal: no run one step shorter breaks anything (a one-step run is: the initial world is
    // the verified machine's, and maxDepth 0 would mean no bound).
    if (v!.steps.length > 1) {
      const shorter = explore({ ...m, config: { ...m.config, maxDepth: v!.steps.length - 1 } });
      expect(shorter.violations.filter((x) => x.kind === 'always')).toEqual([]);
    }
  });

  it(`walk finds '${invariant}' violated and the printed seed and path replay it`, () => {
    const m = model({ variant });
    const r = walk(m, { runs: 5000, seed: WALK_SEEDS[variant] ?? 1, safetyOnly: true, all: true, until: invariant });
    const v = r.violations.find((x) => x.invariant === invariant);
    expect(v, `walk should break '${invariant}'`).toBeDefined();
    // As the printed replay command runs it (check's walks look for every property).
    const again = walk(m, { seed: v!.seed, path: v!.counterexamplePath, safetyOnly: true, all: true });
    const replayed = again.violations.find((x) => x.invariant === invariant);
    expect(replayed?.steps.length).toBe(v!.steps.length);
    expect(replayed?.path).toEqual(v!.path);
  });
});

describe('election: the correct variant passes the configurations that reveal the bugs', () => {
  it.each(buggy.map((v) => [v.name]))('same bounds as %s, to depth 12 (past every counterexample)', (variant) => {
    const reveal = model({ variant }).config;
    const r = explore(model({ ...reveal, variant: 'prevote', maxDepth: 12 }));
    expect(r.violations).toEqual([]);
  });
});
