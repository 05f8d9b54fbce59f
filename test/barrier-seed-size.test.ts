/** The strict barrier at the seed's size: 5 nodes (coordinator included), two generations, exhaustively. */
import { describe, expect, it } from 'vitest';
import { barrier } from '../machines/barrier/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';

describe('barrier: strict at 5 nodes', () => {
  it('holds every property over every interleaving', () => {
    const r = explore(createModel(barrier, { nodes: 5 }));
    expect(r.violations).toEqual([]);
    expect(r.complete).toBe(true);
    expect(r.states).toBe(389_192);
  });
});
