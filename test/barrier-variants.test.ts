/**
 * Every buggy barrier variant is caught by both checkers, naming the invariant it breaks, at its
 * own defaults (what `coordkit check barrier --variant V` runs).
 */
import { describe, expect, it } from 'vitest';
import { barrier } from '../machines/barrier/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

const buggy = barrier.variants.filter((v) => v.breaks);

describe('barrier buggy variants', () => {
  it('are the three named ones', () => {
    expect(buggy.map((v) => [v.name, v.breaks])).toEqual([
      ['count-duplicates', 'no release before all arrived'],
      ['off-by-one', 'no release before all arrived'],
      ['stale-generation', 'generations do not mix'],
    ]);
  });

  for (const v of buggy) {
    it(`${v.name}: explore finds '${v.breaks}' first`, () => {
      const r = explore(createModel(barrier, { variant: v.name }));
      expect(r.violations[0]?.invariant).toBe(v.breaks);
    });

    it(`${v.name}: walk finds '${v.breaks}'`, () => {
      const r = walk(createModel(barrier, { variant: v.name }), { seed: 2026, runs: 1_000 });
      expect(r.violations.map((x) => x.invariant)).toContain(v.breaks);
    });
  }

  it('count-duplicates: only duplication reveals it', () => {
    const r = explore(createModel(barrier, { variant: 'count-duplicates', faults: [] }));
    expect(r.violations).toEqual([]);
    const found = explore(createModel(barrier, { variant: 'count-duplicates' }));
    expect(found.violations[0].steps.some((s) => s.choice.kind === 'duplicate')).toBe(true);
  });

  it("stale-generation: a straggler's late arrive, delivered after the deadline release, is counted in the next generation", () => {
    const r = explore(createModel(barrier, { variant: 'stale-generation' }));
    const steps = r.violations[0].steps;
    const deadline = steps.findIndex((s) => s.choice.kind === 'timer');
    const late = steps.findIndex((s, i) => i > deadline && s.choice.kind === 'deliver' && s.choice.msg.msg.type === 'arrive' && s.choice.msg.msg.generation === 0);
    expect(deadline).toBeGreaterThanOrEqual(0);
    expect(late).toBeGreaterThan(deadline);
  });
});
