/**
 * A refused pre-vote names the refuser's term (etcd's answer to a liveness gap of PreVote): a node
 * behind in term but ahead in version (a leader cut off in a minority that took a write) and a
 * node ahead in term but behind in version, the third down for good, otherwise refuse each other's
 * pre-votes for ever — one because the other's version is older, the other because the term asked
 * for is not above its own — and no leader is elected again. Walks under every fault with one write
 * find that in `prevote-refusal-termless`; the same walks find nothing in the verified machine.
 */
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

const FAULT_TOLERANCE = 'a leader despite a minority down';
// Only the liveness property: the variant's wrong answer also breaks a step property at once.
const livenessOnly = { ...election, properties: election.properties.filter((p) => p.name === FAULT_TOLERANCE) };
const everyFault = { faults: ['loss', 'dup', 'crash', 'partition'] as ('loss' | 'dup' | 'crash' | 'partition')[], params: { writes: 1 } };
/** Seeds whose 2,000 runs find the variant's deadlock (of seeds 1–12, these four do). */
const SEEDS = [2, 5, 6, 11];

describe('election: a refused pre-vote teaches the requester the term', () => {
  it('without it, two nodes refuse each other for ever and no leader is elected', () => {
    const model = createModel(livenessOnly, { variant: 'prevote-refusal-termless', ...everyFault });
    // Not shrunk: shrinking a run of this length to a minimal one takes minutes.
    const found = walk(model, { runs: 2000, seed: 5, shrink: false }).violations.find((v) => v.invariant === FAULT_TOLERANCE);
    expect(found, 'the walk should find no leader elected again').toBeDefined();
  }, 120_000);

  it('with it, the same walks elect a leader every time', () => {
    const model = createModel(livenessOnly, everyFault);
    for (const seed of SEEDS) expect(walk(model, { runs: 2000, seed }).violations, `seed ${seed}`).toEqual([]);
  }, 300_000);
});
