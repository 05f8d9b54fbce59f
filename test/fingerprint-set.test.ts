/** The compact visited set and the world fingerprint, against naive oracles. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import { FingerprintSet, slotsFor } from '../src/check/fingerprint-set.js';
import { SharedFingerprintSet } from '../src/check/shared-fingerprint-set.js';
import { createModel } from '../src/check/model.js';
import { hashInts } from '../src/sim/hash64.js';
import { Simulator } from '../src/sim/simulator.js';

describe('FingerprintSet', () => {
  it('agrees with a Set of "hi:lo" strings, across growth and (0, 0)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 40 }), fc.nat({ max: 40 })), { maxLength: 3000 }), (pairs) => {
        const set = new FingerprintSet(4);
        const oracle = new Set<string>();
        for (const [hi, lo] of pairs) {
          const key = hi === 0 && lo === 0 ? '0:1' : `${hi}:${lo}`; // (0, 0) is stored as (0, 1)
          expect(set.add({ hi, lo })).toBe(!oracle.has(key));
          oracle.add(key);
        }
        expect(set.size).toBe(oracle.size);
      }),
      { numRuns: 50 },
    );
  });
});

describe('slotsFor (sizing a visited set from a hint)', () => {
  it.each([
    [undefined, 16, 16],
    [0, 16, 16],
    [-5, 16, 16],
    [Number.NaN, 16, 16],
    [3, 16, 16],
    // 100 worlds at under half load: 256 slots.
    [100, 16, 256],
    // Exactly half of 256 would grow at once: 512.
    [128, 16, 512],
    [10_340_352, 2 ** 20, 2 ** 25],
    // Capped.
    [1e12, 16, 2 ** 29],
  ])('%s worlds expected, at least %i slots: %i', (expected, least, slots) => {
    expect(slotsFor(expected, least, 2 ** 29)).toBe(slots);
  });

  it('a set sized for n worlds holds them without growing, and one sized too small grows and finds the same', () => {
    const n = 5000;
    const sized = new FingerprintSet(slotsFor(n, 16));
    const small = new FingerprintSet(slotsFor(1, 16));
    const bytes = sized.bytes;
    for (let k = 0; k < 2 * n; k++) {
      // Each fingerprint twice (k and k + n stand for the same world).
      const h = { hi: Math.imul(k % n, 0x9e3779b1) >>> 0, lo: k % n };
      expect(sized.add(h)).toBe(k < n);
      expect(small.add(h)).toBe(k < n);
    }
    expect([sized.size, small.size]).toEqual([n, n]);
    expect(sized.bytes).toBe(bytes);
    expect(small.bytes).toBeGreaterThan(16 * 8);
  });
});

describe('SharedFingerprintSet', () => {
  it('agrees with a Set of "hi:lo" strings, across moves at polls (one thread searching) and at settle (none yet)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: 60 }), fc.nat({ max: 60 })), { maxLength: 3000 }), fc.boolean(), (pairs, settling) => {
        const set = new SharedFingerprintSet(SharedFingerprintSet.allocate(16, 2 ** 16, 1));
        const oracle = new Set<string>();
        pairs.forEach(([hi, lo], i) => {
          // 0 is stored as 1 in each lane.
          const key = `${hi || 1}:${lo || 1}`;
          expect(set.add({ hi, lo })).toBe(!oracle.has(key));
          oracle.add(key);
          // A batch of at most 4 adds between two polls keeps the table under 3/4 full.
          if (i % 4 === 3) settling ? set.settle() : set.poll();
        });
        settling ? set.settle() : set.poll();
        expect(set.size).toBe(oracle.size);
        expect(set.capacity).toBeGreaterThanOrEqual(Math.max(16, oracle.size * 2));
        for (const key of oracle) {
          const [hi, lo] = key.split(':').map(Number);
          expect(set.add({ hi, lo })).toBe(false);
        }
      }),
      { numRuns: 50 },
    );
  });

  it("each thread's cache of recent fingerprints answers only for what the shared table holds", () => {
    // Room for every world added: the table does not grow (a move would wait for both threads).
    const buffers = SharedFingerprintSet.allocate(256, 256, 2);
    // Caches of 4 slots: most of these fingerprints evict one another there.
    const one = new SharedFingerprintSet(buffers, undefined, 4);
    const two = new SharedFingerprintSet(buffers, undefined, 4);
    for (let k = 0; k < 40; k++) {
      expect(one.add({ hi: k, lo: 7 * k + 3 })).toBe(true);
      expect(one.add({ hi: k, lo: 7 * k + 3 })).toBe(false);
      // The other thread never saw it, and finds it in the table.
      expect(two.add({ hi: k, lo: 7 * k + 3 })).toBe(false);
      // Same cache slot (hi), another world: not taken for the cached one.
      expect(one.add({ hi: k, lo: 7 * k + 4 })).toBe(true);
    }
    for (let k = 0; k < 40; k++) expect(two.add({ hi: k, lo: 7 * k + 4 })).toBe(false);
    one.poll();
    two.poll();
    expect(one.size).toBe(80);
  });
});

describe('world fingerprint', () => {
  it('hashInts separates sequences that differ in one place or in length', () => {
    const a = hashInts([1, 2, 3]);
    expect(hashInts([1, 2, 3])).toEqual(a);
    expect(hashInts([1, 2, 4])).not.toEqual(a);
    expect(hashInts([1, 2, 3, 0])).not.toEqual(a);
  });

  it('with symmetry, a world and its renaming share a fingerprint; without, they do not', () => {
    for (const symmetry of [true, false]) {
      const sim = new Simulator(election, election.variants[0], createModel(election, { symmetry }).config);
      const world = sim.initial().world;
      // Node 1 times out and asks for pre-votes, against node 2 doing the same.
      const timeout = (w: typeof world, node: number) => sim.step(w, sim.enabled(w).find((c) => c.kind === 'timer' && c.node === node)!).world;
      const one = timeout(world, 1);
      const two = timeout(world, 2);
      const same = sim.fingerprint(one).hi === sim.fingerprint(two).hi && sim.fingerprint(one).lo === sim.fingerprint(two).lo;
      expect(same).toBe(symmetry);
    }
  });
});
