/**
 * The node's stepper (src/runtime/machine-stepper.ts: one inert actor scope for a node's life)
 * against xstate's `initialTransition()` and `transition()` (a new scope every call): the same
 * snapshots and the same actions, from the first one and step by step, over seeded random runs
 * of sample events, for every variant of every built-in machine.
 */
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { effectsOf } from '../src/machine-effects.js';
import { machineStepper } from '../src/runtime/machine-stepper.js';

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const seen = (s: AnyMachineSnapshot, actions: readonly unknown[]) => ({
  value: s.value,
  status: s.status,
  context: s.context,
  actions: (actions as { type: string }[]).map((a) => a.type),
  effects: effectsOf(actions),
});

const config = { nodes: 3, params: {} };
const cases = protocols.filter((p) => p.sampleEvents).flatMap((p) => p.variants.map((v) => ({ protocol: p, variant: v })));

describe('machine stepper', () => {
  it('covers every built-in primitive', () => {
    expect(new Set(cases.map((c) => c.protocol.name))).toEqual(new Set(protocols.map((p) => p.name)));
  });

  it.each(cases.map((c) => [`${c.protocol.name} (${c.variant.name})`, c] as const))('%s: the same steps as transition()', (_name, { protocol, variant }) => {
    const events = protocol.sampleEvents!(config);
    let changes = 0;
    for (let seed = 1; seed <= 6; seed++) {
      const next = random(seed);
      const input = { id: 1 + Math.floor(next() * 3), n: 3, restored: undefined };
      const step = machineStepper(variant.machine, input);
      let [expected, ea0] = initialTransition(variant.machine, input);
      let [actual, aa0] = step.initial();
      expect(seen(actual, aa0), `${protocol.name} seed ${seed} initial`).toEqual(seen(expected, ea0));
      for (let i = 0; i < 150; i++) {
        const event = events[Math.floor(next() * events.length)];
        const [e, ea] = transition(variant.machine, expected, event as never);
        const [a, aa] = step(actual, event);
        expect(seen(a, aa), `${protocol.name} seed ${seed} step ${i} ${event.type}`).toEqual(seen(e, ea));
        if (JSON.stringify(e.value) !== JSON.stringify(expected.value)) changes++;
        [expected, actual] = [e, a];
      }
    }
    // The runs go somewhere: states change (the comparison is not of a machine stuck at its start).
    expect(changes).toBeGreaterThan(3);
  });
});
