/**
 * The client requests a protocol's own generator enables at each node of the initial world:
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

/** For each node, the first request the generator lists for it in the initial world (none without a generator). */
export function initialRequests(protocol: Protocol, nodes: number, params?: Record<string, unknown>): InitialRequest[] {
  if (!protocol.clients) return [];
  const model = createModel(protocol, { nodes, faults: [], params });
  const sim = new Simulator(protocol, model.variant, model.config);
  const { world } = sim.initial();
  const out: InitialRequest[] = [];
  for (let id = 1; id <= nodes; id++) {
    const [first] = protocol.clients(sim.nodeView(world, id), 0, model.config);
    if (first) out.push({ node: id, request: first as InitialRequest['request'] });
  }
  return out;
}
