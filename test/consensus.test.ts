/**
 * Consensus, verified variant: the seed's message counts for a fault-free 4-node run (Diagram 1),
 * exhaustive checks of 3 nodes with 2 competing proposers under every fault the kit models, and
 * random walks with 5 nodes.
 */
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { explore } from '../src/check/explore.js';
import { fairChoice } from '../src/check/liveness.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';
import type { CheckConfig } from '../src/protocol.js';
import { Simulator, type StepRecord } from '../src/sim/simulator.js';

const model = (o: Partial<CheckConfig> = {}) => createModel(consensus, o);

/** Runs a fair, fault-free schedule (deliveries first, then clients, then the earliest timer) until nothing is enabled. */
function fairRun(config: Partial<CheckConfig>): { steps: StepRecord[]; sim: Simulator } {
  const m = model(config);
  const sim = new Simulator(m.protocol, m.variant, m.config);
  let world = sim.initial().world;
  const steps: StepRecord[] = [];
  const due = new Map<string, number>();
  let now = 0;
  for (let i = 0; i < 1000; i++) {
    const picked = fairChoice(sim, sim.enabled(world), due, now);
    if (!picked) break;
    now = picked.now;
    const r = sim.step(world, picked.choice);
    world = r.world;
    steps.push(r.record);
  }
  return { steps, sim };
}

/** Frames by message type, and messages counted per broadcast (one send to 'others' is one message). */
function count(steps: readonly StepRecord[]) {
  const frames: Record<string, number> = {};
  const messages: Record<string, number> = {};
  for (const s of steps) {
    const seen = new Set<string>();
    for (const { msg } of s.sends) {
      frames[msg.type] = (frames[msg.type] ?? 0) + 1;
      const key = JSON.stringify(msg);
      if (!seen.has(key)) messages[msg.type] = (messages[msg.type] ?? 0) + 1;
      seen.add(key);
    }
  }
  return { frames, messages };
}

describe('consensus: the seed\'s fault-free run (Diagram 1)', () => {
  const { steps } = fairRun({ nodes: 4, faults: [], params: { proposers: [1] } });
  const done = steps.findIndex((s) => s.node === 1 && s.notes.some((n: any) => n.type === 'decided'));

  it('decides scale_up at the proposer and every node applies it', () => {
    expect(done).toBeGreaterThan(0);
    expect(steps[done].notes).toContainEqual({ type: 'decided', slot: 1, term: 1, value: 'scale_up' });
    // The client is told the slot and the value decided there: its own.
    expect(steps[done].notes).toContainEqual({ type: 'decision', slot: 1, value: 'scale_up', proposal: 'scale_up' });
    const applied = steps.flatMap((s) => s.notes.filter((n: any) => n.type === 'applied').map(() => s.node)).sort();
    expect(applied).toEqual([1, 2, 3, 4]);
  });

  it('takes 8 messages counted per broadcast, 12 frames point to point, to completion at the proposer', () => {
    // Up to the step in which the proposer notes `decided` (consensus_complete).
    const { frames, messages } = count(steps.slice(0, done + 1));
    const { decided: learningFrames, ...flow } = frames;
    const { decided: learningMessages, ...flowMessages } = messages;
    expect(flowMessages).toEqual({ propose: 1, promise: 3, commit: 1, ack: 3 });
    expect(Object.values(flowMessages).reduce((a, b) => a + b)).toBe(8);
    expect(flow).toEqual({ propose: 3, promise: 3, commit: 3, ack: 3 });
    expect(Object.values(flow).reduce((a, b) => a + b)).toBe(12);
    // Learning costs one more broadcast: the decided notification, 3 frames.
    expect([learningMessages, learningFrames]).toEqual([1, 3]);
  });

  it('sends nothing else after completion', () => {
    expect(count(steps).frames).toEqual({ propose: 3, promise: 3, commit: 3, ack: 3, decided: 3 });
  });
});

describe('consensus: verified variant, 3 nodes, 2 competing proposers', () => {
  it('pins the distinct-state count of the default model (loss, dup, reordering; <= 4 in flight; one term each)', () => {
    const r = explore(model());
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    // A change here changes the model: explain it in the commit.
    expect(r.states).toBe(203_294);
  });

  it('holds under loss, duplication, reordering and crash/restart (<= 3 in flight)', () => {
    const r = explore(model({ faults: ['loss', 'dup', 'crash'], maxInFlight: 3 }));
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
    expect(r.states).toBe(210_180);
  });
});
