/**
 * xstate's pure `transition(machine, snapshot, event)` for a node that takes thousands of steps:
 * the same `machine.transition` with the same inert actor scope (src/inert-scope.ts), made once
 * for the node's life instead of on every call. Making one builds an actor, which computes the
 * machine's initial snapshot (without input, so the context factory throws and the error is
 * caught): under client load that cost a leader most of its time in xstate.
 * test/runtime-machine-stepper.test.ts compares it with `transition()` step by step over random
 * runs of every built-in machine.
 */
import type { AnyMachineSnapshot, AnyStateMachine } from 'xstate';
import { inertScope } from '../inert-scope.js';

export type Step = ((snapshot: AnyMachineSnapshot, event: { type: string }) => [AnyMachineSnapshot, unknown[]]) & {
  /** xstate's `initialTransition(machine, input)` in the same scope: a node's start builds no second one. */
  initial: () => [AnyMachineSnapshot, unknown[]];
};

/** A `transition()` for one machine; `input` is what the node's actor is created with. */
export function machineStepper(machine: AnyStateMachine, input: unknown): Step {
  let collected: unknown[] = [];
  const scope = inertScope(machine, (action) => collected.push(action), input);
  const step = (snapshot: AnyMachineSnapshot, event: { type: string }): [AnyMachineSnapshot, unknown[]] => {
    collected = [];
    const next = machine.transition(snapshot as never, event as never, scope as never) as AnyMachineSnapshot;
    return [next, collected];
  };
  const initial = (): [AnyMachineSnapshot, unknown[]] => {
    collected = [];
    const first = machine.getInitialSnapshot(scope as never, input as never) as AnyMachineSnapshot;
    return [first, collected];
  };
  return Object.assign(step, { initial });
}
