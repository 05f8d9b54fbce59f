/**
 * The two search orders: depth-first reaches exactly the worlds breadth-first does, finds the
 * same violations (by a path that replays to a violating world, if not a shortest one), and
 * refuses a depth bound it could not honour. The bound counter tells exhaustive from bounded.
 */
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import { mutex } from '../machines/mutex/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { replay } from '../src/check/replay.js';
import { Simulator } from '../src/sim/simulator.js';
import type { Protocol } from '../src/protocol.js';

describe('depth-first search', () => {
  it.each([
    ['mutex', mutex, {}],
    ['election', election, { symmetry: false }],
    ['election with symmetry', election, {}],
  ] as [string, Protocol, object][])('%s: reaches the same worlds and transitions as breadth-first', (_name, protocol, overrides) => {
    const model = createModel(protocol, overrides);
    const bfs = explore(model);
    const dfs = explore(model, { search: 'dfs' });
    expect(dfs.search).toBe('dfs');
    expect(dfs.violations).toEqual([]);
    expect(dfs.states).toBe(bfs.states);
    expect(dfs.transitions).toBe(bfs.transitions);
    expect(dfs.bounded).toBe(bfs.bounded);
    // Paths found depth-first can be longer than the shortest ones.
    expect(dfs.depth).toBeGreaterThanOrEqual(bfs.depth);
  });

  it.each([
    ['mutex', 'no-reply-wait', mutex],
    ['mutex', 'tie-by-arrival', mutex],
    ['election', 'vote-twice', election],
  ] as [string, string, Protocol][])('%s %s: finds the violation, by a path that replays into a violating world', (_name, variant, protocol) => {
    const model = createModel(protocol, { variant, faults: [], maxDepth: 0 });
    const bfs = explore(model).violations[0];
    const found = explore(model, { search: 'dfs' }).violations[0];
    expect(found.invariant).toBe(bfs.invariant);
    expect(found.replay).toContain('--search dfs');
    expect(found.steps.length).toBeGreaterThanOrEqual(bfs.steps.length);
    const sim = new Simulator(model.protocol, model.variant, model.config);
    const world = replay(model, found.path, sim).worlds.at(-1)!;
    const property = protocol.properties.find((p) => p.name === found.invariant)!;
    expect(property.holds(sim.view(world))).toBe(false);
  });

  it('refuses a depth bound', () => {
    expect(() => explore(createModel(election, { faults: ['crash'] }), { search: 'dfs' })).toThrow(/cannot honour a depth bound \(max depth 11\)/);
  });
});

describe('bound counter', () => {
  it('is zero when the model is finite within its bounds, and counts what a tighter bound cut', () => {
    expect(explore(createModel(mutex)).bounded).toBe(0);
    const tight = createModel(mutex, { maxRound: 3 });
    const bfs = explore(tight);
    expect(bfs.bounded).toBeGreaterThan(0);
    expect(bfs.states).toBeLessThan(74_797);
    expect(explore(tight, { search: 'dfs' }).bounded).toBe(bfs.bounded);
  });
});
