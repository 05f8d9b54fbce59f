/**
 * Crashes are outside Lamport's model: a crash loses the messages in flight to the node. The
 * machine keeps only its clock, and a restarted node recovers the requests it lost before it
 * may request again. So a crash costs liveness (the others wait for the dead node), never
 * safety.
 */
import { describe, expect, it } from 'vitest';
import { mutex } from '../machines/mutex/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

describe('mutex: crashes cost liveness, never safety', () => {
  it('2 nodes, two requests each, one crash: the only violation is a deadlock', () => {
    const r = explore(createModel(mutex, { nodes: 2, faults: ['crash'], params: { requests: 2 } }), { all: true });
    expect(r.complete).toBe(true);
    expect(r.states).toBe(14_563);
    expect(r.bounded).toBe(0);
    expect(r.violations.map((v) => v.invariant)).toEqual(['every request is granted']);
    const deadlock = r.violations[0].steps;
    expect(deadlock.map((s) => s.choice.kind)).toEqual(['client', 'crash']);
  });

  it('3 nodes: every run of up to 12 steps with a crash and a restart keeps every safety property', () => {
    // 12 steps is where a restarted node that forgot the requests it had queued used to enter
    // beside the holder; the rejoin round closes that.
    const r = explore(createModel(mutex, { faults: ['crash'], maxDepth: 12 }), { all: true });
    expect(r.violations.map((v) => v.invariant)).toEqual(['every request is granted']);
    expect(r.states).toBe(268_832);
  });

  it('3 nodes, two requests each, up to two crashes: random runs keep every safety property', () => {
    const r = walk(createModel(mutex, { faults: ['crash'], maxCrashes: 2, params: { requests: 2 } }), { seed: 7, runs: 300, safetyOnly: true });
    expect(r.violations).toEqual([]);
  });
});
