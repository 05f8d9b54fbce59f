/**
 * The mutex search keeps only the largest grants of its ghost history (`latestGrants`). That is
 * sound only if no property can tell the summary from the whole history: checked here on every
 * reachable world of spaces with several grants, and by comparing searches with and without it.
 */
import { describe, expect, it } from 'vitest';
import { mutex } from '../machines/mutex/index.js';
import { latestGrants } from '../invariants/mutex.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { Simulator } from '../src/sim/simulator.js';
import type { CheckConfig, Protocol } from '../src/protocol.js';
import type { World } from '../src/sim/world.js';

const whole: Protocol = { ...mutex, ghostSummary: undefined };

/** Every reachable world of a model, depth-first. */
function* worlds(protocol: Protocol, overrides: Partial<CheckConfig>): Generator<{ world: World; sim: Simulator }> {
  const model = createModel(protocol, overrides);
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const seen = new Set<string>();
  const stack = [sim.initial().world];
  while (stack.length) {
    const world = stack.pop()!;
    const key = JSON.stringify(sim.fingerprint(world));
    if (seen.has(key)) continue;
    seen.add(key);
    yield { world, sim };
    if (sim.withinBounds(world)) for (const c of sim.enabled(world)) stack.push(sim.successor(world, c));
  }
}

describe('mutex ghost summary', () => {
  it.each([
    ['3 nodes, one request each', 'lamport', { nodes: 3 }],
    ['2 nodes, three requests each', 'lamport', { nodes: 2, params: { requests: 3 } }],
    // Tokens that repeat and break timestamp order.
    ['2 nodes, three requests each', 'local-token', { nodes: 2, params: { requests: 3 } }],
    // A holder whose token is not the one its grant noted.
    ['2 nodes, three requests each', 'token-not-kept', { nodes: 2, params: { requests: 3 } }],
  ] as [string, string, Partial<CheckConfig>][])('%s, %s: every property gives the same verdict on the summary as on the whole history, in every reachable world', (_name, variant, overrides) => {
    let grants = 0;
    const disagreements: string[] = [];
    for (const { world, sim } of worlds(whole, { ...overrides, variant })) {
      const view = sim.view(world);
      // The view lists its messages in flight on demand (a getter), which a spread does not copy.
      const summary = { ...view, inFlight: view.inFlight, history: latestGrants(view.history) };
      grants = Math.max(grants, view.history.length);
      for (const p of mutex.properties) if (p.holds(summary) !== p.holds(view)) disagreements.push(p.name);
    }
    expect(disagreements).toEqual([]);
    expect(grants).toBeGreaterThan(1);
  });

  it('keeps the last grant in (timestamp, id) order, every grant with the largest token and, when one grant alone has it, those with the next', () => {
    const g = (node: number, ts: number, token: number) => ({ node, note: { type: 'enter', ts, token } });
    expect(latestGrants([g(1, 1, 3), g(2, 2, 7), g(3, 2, 8)])).toEqual([g(2, 2, 7), g(3, 2, 8)]);
    // Tokens out of timestamp order and repeated (the local-token bug).
    expect(latestGrants([g(1, 1, 2), g(2, 2, 1), g(2, 3, 2), g(1, 4, 1)])).toEqual([g(1, 1, 2), g(2, 3, 2), g(1, 4, 1)]);
    expect(latestGrants([g(1, 1, 2), g(2, 2, 1), g(2, 3, 3), g(1, 4, 1)])).toEqual([g(1, 1, 2), g(2, 3, 3), g(1, 4, 1)]);
    expect(latestGrants([])).toEqual([]);
  });

  it('keeps what compares a holder with the grant before its own: a holder fencing with a token lower than that grant is caught on the summary', () => {
    const g = (node: number, ts: number, token: number) => ({ node, note: { type: 'enter', ts, token } });
    const history = [g(1, 1, 3), g(2, 2, 7), g(3, 3, 11)];
    const node = (id: number, state: string, context: object) => ({ id, state, up: true, context });
    // Node 3 holds the lock under its grant (ts 3) but fences with 4, below node 2's 7.
    const view = { n: 3, nodes: [node(1, 'idle', {}), node(2, 'idle', {}), node(3, 'critical', { myTs: 3, token: 4 })], history, inFlight: [], quiescent: false };
    const fencing = mutex.properties.find((p) => p.name === 'fencing tokens increase')!;
    expect(fencing.holds(view)).toBe(false);
    expect(fencing.holds({ ...view, history: latestGrants(history) })).toBe(false);
  });

  it.each(mutex.variants.map((v) => v.name))('%s: the summarized search finds what the whole one finds, as early', (variant) => {
    const summarized = explore(createModel(mutex, { variant, nodes: 2, params: { requests: 3 } }));
    const full = explore(createModel(whole, { variant, nodes: 2, params: { requests: 3 } }));
    expect(summarized.violations.map((v) => [v.invariant, v.steps.length])).toEqual(full.violations.map((v) => [v.invariant, v.steps.length]));
    expect(summarized.depth).toBe(full.depth);
    if (variant === 'lamport') expect([summarized.states, full.states]).toEqual([6_221, 19_821]);
  });
});
