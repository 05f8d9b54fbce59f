/**
 * The shards of a split exploration together judge every world the unsharded search judges, in
 * both search orders. A probe property, never satisfied, records each world it is asked about.
 */
import { describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { canonical } from '../src/canonical.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { exploreShard } from '../src/check/shard-explore.js';
import type { CheckConfig, Protocol, WorldView } from '../src/protocol.js';

let seen = new Set<string>();

/** `protocol` with a `sometimes` property that records the worlds judged. */
function probed(protocol: Protocol): Protocol {
  // Worlds with the same fingerprint may list their notes and (unordered) messages in another
  // order: sorted, every such world has one key.
  // A view may be a class with getters: name its fields rather than spread it.
  const key = (v: WorldView) => canonical({ n: v.n, nodes: v.nodes, quiescent: v.quiescent, history: v.history.map(canonical).sort(), inFlight: v.inFlight.map(canonical).sort() });
  const probe = { name: 'probe', kind: 'sometimes' as const, holds: (v: WorldView) => (seen.add(key(v)), false) };
  return { ...protocol, properties: [...protocol.properties, probe] };
}

function judged(run: () => unknown): Promise<Set<string>> {
  seen = new Set();
  return Promise.resolve(run()).then(() => seen);
}

const CASES: [string, Partial<CheckConfig>][] = [
  ['consensus', { nodes: 2, symmetry: false }],
  ['mutex', { nodes: 2, params: { requests: 2 }, symmetry: false }],
  ['barrier', { params: { generations: 1 }, symmetry: false }],
];

describe('sharded exploration covers the space', () => {
  it.each(CASES)('%s: three shards judge every world the whole search does', async (name, overrides) => {
    const model = createModel(probed(protocols.find((p) => p.name === name)!), overrides);
    for (const search of ['bfs', 'dfs'] as const) {
      const whole = await judged(() => explore(model, { search, all: true }));
      for (const count of [3]) {
        const union = new Set<string>();
        let split = false;
        for (let index = 1; index <= count; index++) {
          // Split at depth 3 so that even small spaces are dealt out.
          const mine = await judged(() => exploreShard(model, { index, count, depth: 3 }, { search, workers: 1 }).then((r) => (split ||= r.prefix.depth === 3)));
          expect(mine.size, `shard ${index}/${count} judged every world`).toBeLessThan(whole.size);
          mine.forEach((w) => union.add(w));
        }
        expect(split, 'split at depth 3').toBe(true);
        expect(union.size, `${search}, ${count} shards`).toBe(whole.size);
        expect([...whole].filter((w) => !union.has(w))).toEqual([]);
      }
    }
  });
});
