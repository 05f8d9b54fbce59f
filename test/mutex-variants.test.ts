/**
 * Every buggy mutex variant is caught by both checkers, naming the invariant it breaks, at its
 * own defaults (what `coordkit check mutex --variant V` runs).
 */
import { describe, expect, it } from 'vitest';
import { mutex } from '../machines/mutex/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';
import type { ExploreResult } from '../src/check/explore.js';

/** The world the first violation of a search ends in. */
function replayEnd(r: ExploreResult) {
  let world = r.sim.initial().world;
  for (const s of r.violations[0].steps) world = r.sim.step(world, s.choice).world;
  return world;
}

const buggy = mutex.variants.filter((v) => v.breaks);

describe('mutex buggy variants', () => {
  it('are the ten named ones', () => {
    expect(buggy.map((v) => [v.name, v.breaks])).toEqual([
      ['no-reply-wait', 'mutual exclusion'],
      ['tie-by-arrival', 'mutual exclusion'],
      ['clock-not-advanced', 'every request is granted'],
      ['local-token', 'fencing tokens increase'],
      ['silent-grant', 'a holder was told of its grant'],
      ['token-not-kept', 'fencing tokens increase'],
      ['rejoin-keeps-request', 'every request is granted'],
      ['rejoin-waits-for-self', 'a restarted node recovers'],
      ['clock-not-leased', 'timestamps never repeat'],
      ['silent-rejoin-ack', 'every request is granted'],
    ]);
  });

  for (const v of buggy) {
    it(`${v.name}: explore finds '${v.breaks}' first`, () => {
      const r = explore(createModel(mutex, { variant: v.name }));
      expect(r.violations[0]?.invariant).toBe(v.breaks);
      expect(r.violations[0].steps.length).toBeGreaterThan(0);
    });

    it(`${v.name}: walk finds '${v.breaks}'`, () => {
      const r = walk(createModel(mutex, { variant: v.name }), { seed: 2026, runs: 1_000 });
      expect(r.violations.map((x) => x.invariant)).toContain(v.breaks);
    });
  }

  it('tie-by-arrival: two requests with equal timestamps are both granted', () => {
    const r = explore(createModel(mutex, { variant: 'tie-by-arrival' }));
    const enters = r.violations[0].steps.flatMap((s) => s.notes.filter((n: any) => n.type === 'enter').map((n: any) => n.ts));
    expect(enters).toHaveLength(2);
    expect(enters[0]).toBe(enters[1]);
  });

  it('token-not-kept: the holder has no token to fence with', () => {
    const r = explore(createModel(mutex, { variant: 'token-not-kept' }));
    const last = r.violations[0].steps.at(-1)!;
    expect(last.after).toBe('critical');
    expect(r.sim.view(replayEnd(r)).nodes.find((v) => v.state === 'critical')?.context.token).toBeNull();
  });

  it('silent-grant: a node enters, and the history holds no grant of it', () => {
    const r = explore(createModel(mutex, { variant: 'silent-grant' }));
    const end = r.sim.view(replayEnd(r));
    const holder = end.nodes.find((v) => v.state === 'critical')!;
    expect(holder.context.token).toBe(holder.context.myTs * 3 + holder.id - 1);
    expect(end.history.filter((h) => h.node === holder.id)).toEqual([]);
  });

  it('rejoin-waits-for-self: every node is up and quiet, and the restarted one is still recovering', () => {
    const r = explore(createModel(mutex, { variant: 'rejoin-waits-for-self' }));
    const end = r.sim.view(replayEnd(r));
    expect(end.nodes.map((v) => v.up)).toEqual([true, true]);
    expect(end.nodes.some((v) => v.state === 'recovering')).toBe(true);
    expect(end.nodes.find((v) => v.state === 'recovering')!.context.rejoined).toHaveLength(1);
  });

  it.each(['rejoin-keeps-request', 'rejoin-waits-for-self', 'silent-rejoin-ack'])('%s: the deadlock comes after a crash and a restart, with every node up', (variant) => {
    const r = explore(createModel(mutex, { variant }));
    const kinds = r.violations[0].steps.map((s) => s.choice.kind);
    expect(kinds.indexOf('restart')).toBeGreaterThan(kinds.indexOf('crash'));
    expect(r.sim.view(replayEnd(r)).nodes.every((v) => v.up)).toBe(true);
    // Without crashes the variant is Lamport's algorithm.
    expect(explore(createModel(mutex, { variant, faults: [] })).violations).toEqual([]);
  });

  it('clock-not-advanced: the deadlock is a node waiting in a quiescent world', () => {
    const r = explore(createModel(mutex, { variant: 'clock-not-advanced' }));
    const v = r.violations[0];
    expect(v.kind).toBe('eventually');
    const replies = v.steps.flatMap((s) => s.sends.filter((m) => m.msg.type === 'reply').map((m) => m.msg.ts));
    expect(replies.every((ts) => ts <= 1)).toBe(true);
  });
});
