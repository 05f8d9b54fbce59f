/**
 * Consensus, verified variant beyond the default bounds: retries in a second round and
 * crash/restart with 4 messages in flight, explored exhaustively; random walks with 5 nodes and
 * 3 proposers under every fault, each followed by a fair phase in which every proposer decides.
 */
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

describe('consensus: verified variant beyond the default bounds', () => {
  it('holds when both proposers may retry once (terms up to round 1, no faults)', () => {
    const r = explore(createModel(consensus, { faults: [], maxRound: 1 }));
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    // Retries must really happen: some world holds a round-1 term (4 or 5 with 3 nodes).
    expect(r.sim.stepper.states.values.some((s) => s.context.promised >= 4)).toBe(true);
  });

  it('holds under loss and crash/restart with 4 in flight', () => {
    const r = explore(createModel(consensus, { faults: ['loss', 'crash'] }));
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.states).toBe(238_247);
  });

  it('holds under random walks with 5 nodes, 3 proposers, loss, duplication and crash/restart, and every proposer decides', () => {
    const m = createModel(consensus, {
      nodes: 5,
      faults: ['loss', 'dup', 'crash'],
      maxDrops: 4,
      maxDuplicates: 2,
      maxCrashes: 2,
      params: { proposers: [1, 2, 3] },
    });
    const r = walk(m, { runs: 300, seed: 42 });
    expect(r.violations).toEqual([]);
    expect(r.runs).toBe(300);
  });
});
