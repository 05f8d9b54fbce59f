/**
 * Crashes are outside Lamport's model: a crash loses the messages in flight to the node. The
 * machine keeps only a bound on its clock, and a restarted node recovers the requests it lost before it
 * may request again. So a crash costs liveness while the node is down (the others wait for it),
 * never safety, and once it is back every request is granted.
 */
import { describe, expect, it } from 'vitest';
import { mutex } from '../machines/mutex/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

describe('mutex: crashes cost liveness while a node is down, never safety', () => {
  it('2 nodes, two requests each, one crash: every property holds, exhaustively', () => {
    const r = explore(createModel(mutex, { nodes: 2, faults: ['crash'], maxDepth: 0, params: { requests: 2 } }), { all: true });
    expect(r.complete).toBe(true);
    expect(r.states).toBe(18_994);
    expect(r.bounded).toBe(0);
    expect(r.violations).toEqual([]);
  });

  it('a node that stays down blocks the others: the deadlock property waits for it to be back', () => {
    const model = createModel(mutex, { nodes: 2, faults: ['crash'] });
    const r = explore(model);
    let world = r.sim.initial().world;
    for (const choice of [{ kind: 'client', node: 2, event: { type: 'client.acquire' } }, { kind: 'crash', node: 1 }] as const) world = r.sim.step(world, choice).world;
    const view = r.sim.view(world);
    expect(view.quiescent).toBe(true);
    expect(view.nodes.map((v) => v.state)).toEqual(['down', 'waiting']);
    const granted = mutex.properties.find((p) => p.name === 'every request is granted')!;
    expect(granted.holds(view)).toBe(true);
    // Back up, its rejoin clears the way: node 2 enters once the messages are delivered.
    world = r.sim.step(world, { kind: 'restart', node: 1 }).world;
    for (let c = r.sim.enabled(world).find((x) => x.kind === 'deliver'); c; c = r.sim.enabled(world).find((x) => x.kind === 'deliver')) world = r.sim.step(world, c).world;
    expect(r.sim.view(world).nodes.map((v) => v.state)).toEqual(['idle', 'critical']);
  });

  it('3 nodes: every run of up to 12 steps with a crash and a restart keeps every property', () => {
    // 12 steps is where a restarted node that forgot the requests it had queued used to enter
    // beside the holder; the rejoin round closes that.
    // The default depth bound with crashes.
    const r = explore(createModel(mutex, { faults: ['crash'] }), { all: true });
    expect(r.violations).toEqual([]);
    expect(r.states).toBe(214_560);
  });

  it('3 nodes, two requests each, up to two crashes: random runs keep every safety property', () => {
    const r = walk(createModel(mutex, { faults: ['crash'], maxCrashes: 2, params: { requests: 2 } }), { seed: 7, runs: 300, safetyOnly: true });
    expect(r.violations).toEqual([]);
  });
});
