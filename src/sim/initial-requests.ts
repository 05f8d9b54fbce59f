/**
 * The client requests a protocol's own generators (`clients`, then `spontaneous`: over TCP a
 * spontaneous move is asked of the node like any request) enable at each node of the initial world:
 * what a run nobody scripted can ask of the nodes, so that it exercises the protocol rather than
 * watching it idle.
 */
import { createModel } from '../check/model.js';
import type { NodeId, Protocol } from '../protocol.js';
import { Simulator } from './simulator.js';

export interface InitialRequest {
  node: NodeId;
  request: { type: string; [field: string]: unknown };
}

/** For each node, the first request the generators list for it in the initial world (none without a generator). */
export function initialRequests(protocol: Protocol, nodes: number, params?: Record<string, unknown>): InitialRequest[] {
  if (!protocol.clients && !protocol.spontaneous) return [];
  const model = createModel(protocol, { nodes, faults: [], params });
  const sim = new Simulator(protocol, model.variant, model.config);
  const { world } = sim.initial();
  const out: InitialRequest[] = [];
  for (let id = 1; id <= nodes; id++) {
    const view = sim.nodeView(world, id);
    const [first] = [...(protocol.clients?.(view, 0, model.config) ?? []), ...(protocol.spontaneous?.(view, model.config) ?? [])];
    if (first) out.push({ node: id, request: first as InitialRequest['request'] });
  }
  return out;
}
