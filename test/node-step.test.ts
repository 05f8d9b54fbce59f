/**
 * The simulator's node step reuses one inert actor scope instead of calling xstate's
 * `transition()` (which builds an actor per call). It must agree with `transition()` exactly:
 * same next state, same context, same effects, for every variant of every primitive, over the
 * node states reachable with the primitive's sample events.
 */
import { describe, expect, it } from 'vitest';
import { assign, initialTransition, setup, transition, type AnyMachineSnapshot } from 'xstate';
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

describe('a machine that edits its context in place', () => {
  // Replacing the list is what every machine of the kit does; pushing onto it edits the context
  // a node (and the checker) already recorded, so both freeze contexts and the edit fails.
  const machine = (inPlace: boolean) =>
    setup({ types: { context: {} as { id: number; log: string[] }, input: {} as { id: number } } }).createMachine({
      id: inPlace ? 'edits-in-place' : 'replaces',
      context: ({ input }) => ({ id: input.id, log: [] }),
      on: {
        add: {
          actions: assign({
            log: ({ context }) => {
              if (!inPlace) return [...context.log, 'x'];
              context.log.push('x');
              return context.log;
            },
          }),
        },
      },
    });

  it('fails on the step that edits, naming the machine; the same machine replacing its list steps on', () => {
    const editing = new NodeStepper(machine(true));
    const start = editing.init({ id: 1, n: 1 }).next;
    expect(() => editing.step(start, { type: 'add' }, 'add')).toThrow(/^machine edits-in-place threw on add: .*\(it edited its context in place: a machine must replace its context, never edit it; contexts are frozen\)$/);
    const replacing = new NodeStepper(machine(false));
    const one = replacing.step(replacing.init({ id: 1, n: 1 }).next, { type: 'add' }, 'add').next;
    expect(replacing.step(one, { type: 'add' }, 'add').next.context).toEqual({ id: 1, log: ['x', 'x'] });
  });
});
