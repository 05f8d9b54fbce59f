/**
 * Every buggy barrier variant is caught by both checkers, naming the invariant it breaks, at its
 * own defaults (what `coordkit check barrier --variant V` runs).
 */
import { describe, expect, it } from 'vitest';
import { barrier, BARRIER_ID } from '../machines/barrier/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

const buggy = barrier.variants.filter((v) => v.breaks);

describe('barrier buggy variants', () => {
  it('are the eleven named ones', () => {
    expect(buggy.map((v) => [v.name, v.breaks])).toEqual([
      ['count-duplicates', 'no release before all arrived'],
      ['off-by-one', 'no release before all arrived'],
      ['stale-generation', 'generations do not mix'],
      ['resume-early', 'a node resumes only after a release'],
      ['arrive-keeps-working', 'a node resumes only after a release'],
      ['deadline-never-fires', 'a deadline releases whoever waits'],
      ['all-stragglers', 'stragglers are exactly the ones that had not arrived'],
      ['silent-release', 'a node that moves on notes its release'],
      ['stale-registration', 'a node registers once, then arrives at or past its generation'],
      ['released-stays-waiting', 'every node is at work or waits for an arrival'],
      ['flagged-early-release', 'no release before all arrived'],
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

  it('deadline-never-fires: a node waits in a quiescent world though the barrier has a deadline; no deadline release is ever reached', () => {
    const r = explore(createModel(barrier, { variant: 'deadline-never-fires' }));
    expect(r.violations[0].kind).toBe('eventually');
    expect(r.violations[0].steps.some((s) => s.choice.kind === 'timer')).toBe(false);
    expect(explore(createModel(barrier, { variant: 'deadline-never-fires', faults: [] })).unsatisfied).toContain('a deadline release happens');
  });

  it('flagged-early-release: the deadline flag no longer excuses an early release of a barrier without deadline', () => {
    const r = explore(createModel(barrier, { variant: 'flagged-early-release' }));
    const release = r.violations[0].steps.flatMap((s) => s.notes as { type: string; deadline?: boolean; arrived?: number[] }[]).find((n) => n.type === 'release')!;
    expect(release.deadline).toBe(true);
    expect(release.arrived).toHaveLength(3);
  });

  it('all-stragglers: a node that arrived and waited notes itself a straggler', () => {
    const r = explore(createModel(barrier, { variant: 'all-stragglers' }));
    const last = r.violations[0].steps.at(-1)!;
    expect(last.before).toBe('waiting');
    expect(last.notes).toContainEqual({ type: 'straggler', generation: 0 });
  });

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

  it('silent-release: a participant released from the generation it arrived at notes nothing', () => {
    const r = explore(createModel(barrier, { variant: 'silent-release' }));
    const last = r.violations[0].steps.at(-1)!;
    expect(last.choice.kind).toBe('deliver');
    expect(last.before).toBe('waiting');
    expect(last.notes).toEqual([]);
  });

  it('stale-registration: a deadline release overtakes the registration answer, which names a later generation than the one the node then arrives at', () => {
    const r = explore(createModel(barrier, { variant: 'stale-registration' }));
    const notes = r.violations[0].steps.flatMap((s) => s.notes as { type: string; generation?: number }[]);
    expect(notes).toContainEqual({ type: 'registered', barrier: BARRIER_ID, generation: 1 });
    expect(notes.at(-1)).toEqual({ type: 'arrive', generation: 0 });
    // On a FIFO network the release comes first and the answer names no later generation.
    expect(explore(createModel(barrier, { variant: 'stale-registration', network: 'fifo' })).violations).toEqual([]);
  });

  it('released-stays-waiting: released nodes idle at the barrier with nothing left to wait for', () => {
    const r = explore(createModel(barrier, { variant: 'released-stays-waiting' }));
    expect(r.violations[0].kind).toBe('eventually');
    const released = r.violations[0].steps.flatMap((s) => s.notes as { type: string }[]).filter((n) => n.type === 'released');
    expect(released.length).toBeGreaterThan(0);
  });
});
