/**
 * Coverage of one node's machine: the state nodes and declared transitions of its graph
 * (@xstate/graph's `toDirectedGraph`, read from the definition, so no sample events are needed)
 * against what the checks' node steps actually did (recorded by the stepper, see
 * sim/covered.ts). Eventless (`always`) transitions are not counted; the states they pass
 * through are. Nothing executed means nothing measured, never 0%.
 */
import { getShortestPaths, toDirectedGraph, type DirectedGraphNode } from '@xstate/graph';
import type { AnyStateMachine, AnyStateNode } from 'xstate';
import type { Protocol, ProtocolConfig } from '../protocol.js';
import { coveredState, coveredTransition, statePath } from '../sim/covered.js';
import { flattenValue } from '../sim/node-step.js';

export interface MachineGraph {
  /** Covered-state key to state path. */
  states: Map<string, string>;
  /** Covered-transition key to `from|event|to` (targets joined by `,`; a targetless one stays in `from`). */
  transitions: Map<string, string>;
}

export interface Coverage {
  /** False when no node step ran: the shares below then mean nothing. */
  measured: boolean;
  /** Share of the graph's node states the checks reached, 0..1. */
  states: number;
  transitions: number;
  unreachedStates: string[];
  unreachedTransitions: string[];
}

export const NOT_MEASURED: Coverage = { measured: false, states: 0, transitions: 0, unreachedStates: [], unreachedTransitions: [] };

export function machineGraph(machine: AnyStateMachine): MachineGraph {
  const graph: MachineGraph = { states: new Map(), transitions: new Map() };
  const visit = (node: DirectedGraphNode) => {
    if (node.stateNode.path.length) graph.states.set(coveredState(node.stateNode), statePath(node.stateNode));
    for (const edge of node.edges) {
      const t = edge.transition;
      const name = (n: AnyStateNode) => statePath(n) || '(any state)';
      const to = t.target?.length ? t.target.map(name).join(',') : name(t.source);
      // Guarded alternatives for one event are numbered in declaration order.
      const alternatives = t.source.transitions.get(t.eventType) ?? [];
      const which = alternatives.length > 1 ? ` #${alternatives.indexOf(t) + 1}` : '';
      graph.transitions.set(coveredTransition(t), `${name(t.source)}|${t.eventType}|${to}${which}`);
    }
    node.children.forEach(visit);
  };
  visit(toDirectedGraph(machine));
  return graph;
}

export function coverage(graph: MachineGraph, reached: Set<string>): Coverage {
  if (reached.size === 0) return NOT_MEASURED;
  const unreachedStates = [...graph.states].filter(([key]) => !reached.has(key)).map(([, name]) => name).sort();
  const unreachedTransitions = [...graph.transitions].filter(([key]) => !reached.has(key)).map(([, name]) => name).sort();
  return {
    measured: true,
    states: 1 - unreachedStates.length / Math.max(graph.states.size, 1),
    transitions: 1 - unreachedTransitions.length / Math.max(graph.transitions.size, 1),
    unreachedStates,
    unreachedTransitions,
  };
}

function events(protocol: Protocol, config: ProtocolConfig): { type: string }[] {
  if (!protocol.sampleEvents) throw new Error(`${protocol.name} defines no sample events for paths`);
  return protocol.sampleEvents(config);
}

/** Shortest event sequences from the initial state to every state value of one node's machine. */
export function shortestPathsToStates(protocol: Protocol, machine: AnyStateMachine, config: ProtocolConfig) {
  const paths = getShortestPaths(machine, {
    input: { id: 1, n: config.nodes },
    events: events(protocol, config) as never,
    serializeState: (s: any) => flattenValue(s.value),
  });
  return paths.map((p) => ({ state: flattenValue((p.state as any).value), events: p.steps.map((s) => s.event as { type: string }).slice(1) }));
}
