/**
 * Names for what a node step covered of its machine's definition: the state nodes it was in
 * or entered, and the declared transitions it took. The stepper records them as it runs, the
 * coverage report compares them with the machine's graph; both name them the same way.
 */
import type { AnyStateNode, AnyTransitionDefinition } from 'xstate';

/** A state node by its path below the root (`candidate.pre`). */
export const statePath = (node: AnyStateNode): string => node.path.join('.');

export const coveredState = (node: AnyStateNode): string => `state ${statePath(node)}`;

/**
 * A declared transition: its source state, event type, and place among that state's
 * transitions for the event (guarded alternatives are told apart).
 */
export function coveredTransition(t: AnyTransitionDefinition): string {
  const index = t.source.transitions.get(t.eventType)?.indexOf(t) ?? 0;
  return `transition ${statePath(t.source)}|${t.eventType}|${index}`;
}
