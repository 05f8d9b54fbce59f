/**
 * xstate's pure `transition(machine, snapshot, event)` for a node that takes thousands of steps:
 * the same `machine.transition` with the same inert actor scope (actions are collected, never
 * executed), but the scope is made once for the node's life. xstate's `transition()` makes a new
 * one on every call, and making one builds an actor, which computes the machine's initial
 * snapshot (without input, so the context factory throws and the error is caught): under client
 * load that cost a leader most of its time in xstate. A protocol machine spawns and invokes
 * nothing (the runtime would have nothing to run it with), so no step registers anything in the
 * scope's system that a later step could meet. test/runtime-machine-stepper.test.ts compares
 * this with `transition()` step by step over random runs of every built-in machine.
 */
import { createActor, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';

export type Step = (snapshot: AnyMachineSnapshot, event: { type: string }) => [AnyMachineSnapshot, unknown[]];

/** A `transition()` for one machine; `input` is what the node's actor is created with. */
export function machineStepper(machine: AnyStateMachine, input: unknown): Step {
  const self = createActor(machine, { input });
  let collected: unknown[] = [];
  const scope = {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: (action: unknown) => {
      collected.push(action);
    },
  };
  return (snapshot, event) => {
    collected = [];
    const next = machine.transition(snapshot as never, event as never, scope as never) as AnyMachineSnapshot;
    return [next, collected];
  };
}
