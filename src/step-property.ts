/**
 * Properties of each node step rather than of each world, as Raft states its rules for servers
 * (Figure 2: "if RPC request or response contains term T > currentTerm: set currentTerm = T,
 * convert to follower"), as TLA+ states an action property [][A]_v. The simulator judges every
 * step a node's machine takes (sim/node-step.ts) and enters a step that breaks one in the ghost
 * history as a note of type STEP_BROKEN naming it; the property, an `always` one, holds while the
 * history has no such note. So the explorer, the walk and the fair phases judge it with no code
 * of their own, and a counterexample ends at the step that broke it.
 */
import type { NodeStep, Property, StepOutput } from './protocol.js';

/** The note type of a step that broke a step property (never a note a machine emits). */
export const STEP_BROKEN = 'step property broken';

/** An `always` property judged on each node step: `step(before, event, after, out)` is true when the step obeys it. */
export function stepProperty<C = any, E extends { type: string } = { type: string }>(
  name: string,
  step: (before: NodeStep<C>, event: E, after: NodeStep<C>, out: StepOutput) => boolean,
): Property {
  return {
    name,
    kind: 'always',
    reads: 'history',
    step: step as Property['step'],
    holds: (w) => !w.history.some(({ note }) => note?.type === STEP_BROKEN && note.property === name),
  };
}
