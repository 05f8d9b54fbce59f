/**
 * The timed scenario of a protocol that names none: its default configuration on 5 ms links,
 * each node asked, 10 ms apart, for the first client request its initial state enables.
 */
import { createModel } from '../check/model.js';
import type { Protocol } from '../protocol.js';
import { initialRequests } from './initial-requests.js';
import type { Scenario } from './timed-scenario.js';

export const DEFAULT_SCENARIO = 'default';

export function defaultScenario(protocol: Protocol): Scenario {
  const { config } = createModel(protocol, { faults: [] });
  const events = initialRequests(protocol, config.nodes, config.params).map((r, i) => ({ atMs: 10 * i, node: r.node, client: r.request }));
  const asked = events.length ? `each node asked, 10 ms apart, for the first client request its initial state enables (${events.length} requests)` : 'no client request (the protocol enables none in its initial state)';
  return {
    primitive: protocol.name,
    name: DEFAULT_SCENARIO,
    description: `Generated, as ${protocol.name} names no scenario: ${config.nodes} nodes on 5 ms links, ${asked}, run for 2 s.`,
    nodes: config.nodes,
    network: config.network === 'fifo' ? 'fifo' : 'unordered',
    latencyMs: { default: 5, links: {} },
    untilMs: 2000,
    events,
    work: [],
    params: config.params,
    metrics: {},
    file: `(generated for ${protocol.name})`,
  };
}
