/**
 * Coverage of one node's machine, with @xstate/graph: the machine's transition graph (state
 * value, event type, next state value) is traversed breadth-first from the initial state with
 * the primitive's sample events, up to the model's round bound and GRAPH_STATES node states; the
 * checks' reached transitions are compared against it.
 */
import { getAdjacencyMap, getShortestPaths } from '@xstate/graph';
import type { AnyStateMachine } from 'xstate';
import type { Protocol, ProtocolConfig } from '../protocol.js';
import { canonical } from '../canonical.js';
import { flattenValue } from '../sim/node-step.js';

export interface MachineGraph {
  states: Set<string>;
  /** `from|event|to` */
  transitions: Set<string>;
}

export interface Coverage {
  /** Share of the graph's node states the checks reached, 0..1. */
  states: number;
  transitions: number;
  unreachedStates: string[];
  unreachedTransitions: string[];
}

/** Node states (value and context) expanded at most: contexts can grow without bound (versions, clocks). */
const GRAPH_STATES = 2_000;

function events(protocol: Protocol, config: ProtocolConfig): { type: string }[] {
  if (!protocol.sampleEvents) throw new Error(`${protocol.name} defines no sample events for coverage`);
  return protocol.sampleEvents(config);
}

export function machineGraph(protocol: Protocol, machine: AnyStateMachine, config: ProtocolConfig & { maxRound: number }): MachineGraph {
  const round = protocol.round ?? (() => 0);
  let expanded = 0;
  const adjacency = getAdjacencyMap(machine, {
    input: { id: 1, n: config.nodes },
    events: events(protocol, config) as never,
    serializeState: (s: any) => flattenValue(s.value) + canonical(s.context),
    stopWhen: (s: any) => round(s.context) > config.maxRound || ++expanded > GRAPH_STATES,
    limit: Number.MAX_SAFE_INTEGER,
  });
  const states = new Set<string>();
  const transitions = new Set<string>();
  for (const { state, transitions: out } of Object.values(adjacency)) {
    const from = flattenValue((state as any).value);
    states.add(from);
    for (const { event, state: next } of Object.values(out) as { event: unknown; state: unknown }[]) {
      const to = flattenValue((next as any).value);
      states.add(to);
      transitions.add(`${from}|${(event as { type: string }).type}|${to}`);
    }
  }
  return { states, transitions };
}

export function coverage(graph: MachineGraph, reached: Set<string>): Coverage {
  const reachedStates = new Set<string>();
  for (const t of reached) {
    const [from, , to] = t.split('|');
    reachedStates.add(from);
    reachedStates.add(to);
  }
  const unreachedStates = [...graph.states].filter((s) => !reachedStates.has(s)).sort();
  const unreachedTransitions = [...graph.transitions].filter((t) => !reached.has(t)).sort();
  return {
    states: 1 - unreachedStates.length / Math.max(graph.states.size, 1),
    transitions: 1 - unreachedTransitions.length / Math.max(graph.transitions.size, 1),
    unreachedStates,
    unreachedTransitions,
  };
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
