/**
 * The explorer skips building a successor world when its fingerprint can be had without it
 * (`Simulator.peek`), and keeps each world's fingerprint up to date step by step. Both must
 * agree with the world actually built: for every choice of the first few thousand worlds of
 * every primitive and of two-phase commit on each network, the peeked fingerprint (when there
 * is one) equals the successor's, and the successor's equals its fingerprint recomputed from
 * scratch.
 */
import { describe, expect, it } from 'vitest';
import protocol from '../examples/two-phase-commit/index.js';
import { protocols } from '../machines/index.js';
import { createModel } from '../src/check/model.js';
import type { Protocol } from '../src/protocol.js';
import { Simulator } from '../src/sim/simulator.js';
import type { World } from '../src/sim/world.js';

const cases: [string, Protocol, object][] = [
  ['two-phase-commit, duplicating', protocol, { nodes: 4 }],
  ['two-phase-commit, unordered', protocol, { nodes: 4, network: 'unordered' }],
  ['two-phase-commit, fifo', protocol, { nodes: 4, network: 'fifo' }],
  ...protocols.map((p): [string, Protocol, object] => [p.name, p, { symmetry: false, faults: ['loss', 'dup', 'crash', 'partition'] }]),
];

/** The world's fingerprint from all of its parts, through a fresh copy the simulator has never hashed. */
function fromScratch(sim: Simulator, world: World) {
  const copy = { ...world, hashHi: 0, hashLo: 0 };
  (sim as unknown as { rehash(w: World): void }).rehash(copy);
  return sim.fingerprint(copy);
}

describe('successor fingerprints', () => {
  it.each(cases)('%s: peeked and incremental fingerprints equal the built world\'s', (_name, p, config) => {
    const model = createModel(p, config);
    const sim = new Simulator(model.protocol, model.variant, model.config);
    const seen = new Set<string>();
    const queue = [sim.initial().world];
    let peeked = 0;
    let transitions = 0;
    while (queue.length && seen.size < 3_000) {
      const world = queue.shift()!;
      if (!sim.withinBounds(world)) continue;
      for (const choice of sim.enabled(world)) {
        const peek = sim.peek(world, choice);
        const before = peek && { ...peek };
        const child = sim.successor(world, choice);
        const fingerprint = sim.fingerprint(child);
        transitions++;
        if (before) {
          peeked++;
          expect(before).toEqual(fingerprint);
        }
        expect(fromScratch(sim, child)).toEqual(fingerprint);
        const key = `${fingerprint.hi}:${fingerprint.lo}`;
        if (!seen.has(key)) {
          seen.add(key);
          queue.push(child);
        }
      }
    }
    // Memoized deliveries and client requests are peekable (faults and timers are not).
    expect(peeked).toBeGreaterThan(transitions / 20);
  });
});
