/**
 * The simulator's node step reuses one inert actor scope instead of calling xstate's
 * `transition()` (which builds an actor per call). It must agree with `transition()` exactly:
 * same next state, same context, same effects, for every variant of every primitive, over the
 * node states reachable with the primitive's sample events.
 */
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import { protocols } from '../machines/index.js';
import { createModel } from '../src/check/model.js';
import { effectsOf } from '../src/machine-effects.js';
import { NodeStepper } from '../src/sim/node-step.js';
import { canonical } from '../src/canonical.js';

const cases = protocols.flatMap((p) => p.variants.map((v) => [p.name, v.name] as const));

describe('node step', () => {
  it.each(cases)('%s %s: agrees with xstate transition() on every reachable node state', (name, variant) => {
    const protocol = protocols.find((p) => p.name === name)!;
    const model = createModel(protocol, { variant });
    const machine = model.variant.machine;
    const stepper = new NodeStepper(machine);
    const events = protocol.sampleEvents!(model.config);
    let [snapshot] = initialTransition(machine, { id: 1, n: model.config.nodes });
    let local = stepper.init({ id: 1, n: model.config.nodes }).next;
    const queue: [AnyMachineSnapshot, typeof local][] = [[snapshot, local]];
    const seen = new Set<number>([local.id]);
    let compared = 0;
    while (queue.length && compared < 2_000) {
      [snapshot, local] = queue.shift()!;
      for (const event of events) {
        const [next, actions] = transition(machine, snapshot, event as never);
        const ours = stepper.step(local, event, canonical(event));
        expect([ours.next.value, ours.next.context]).toEqual([next.value, next.context]);
        expect(ours.effects).toEqual(effectsOf(actions));
        compared++;
        if (!seen.has(ours.next.id)) {
          seen.add(ours.next.id);
          queue.push([next, ours.next]);
        }
      }
    }
    expect(compared).toBeGreaterThan(events.length);
  });
});
