/**
 * The inert actor scope xstate's pure `transition()` builds on every call (actions are handed to
 * `collect`, never executed), made once instead: building one constructs an actor and computes
 * the machine's initial snapshot, which costs more than a step. Shared by the simulator's
 * stepper and the runtime's. Node machines spawn and invoke nothing, so no step leaves anything
 * in the scope's system that a later step could meet.
 */
import { createActor, type AnyActorScope, type AnyStateMachine } from 'xstate';

export function inertScope(machine: AnyStateMachine, collect: (action: unknown) => void, input?: unknown): AnyActorScope {
  const self = input === undefined ? createActor(machine) : createActor(machine, { input });
  return {
    self,
    defer: () => {},
    id: '',
    logger: () => {},
    sessionId: '',
    stopChild: () => {},
    system: self.system,
    emit: () => {},
    actionExecutor: collect,
  } as unknown as AnyActorScope;
}
