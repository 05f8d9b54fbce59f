/**
 * Election properties beyond one leader per term: a write reaches every node as the leader
 * holds it, an acknowledged write is kept, only a node that does not lead refuses writes, the
 * history the safety properties read is complete, and each step obeys Raft's rules for servers
 * (a higher term is adopted at once, §5.1; votes are first come, first served, §5.2; a heartbeat
 * no older than the node makes it follow, and every heartbeat is answered, §5.1–5.2; a campaign
 * is one term on, §5.2, and a pre-vote asks for the next term, thesis §9.6; a pre-vote is granted
 * only for a later term, §9.6; a candidate counts granted votes of its term, §5.2). Each is shown to catch its buggy variant
 * (a one-action change of the verified machine) by exploration and by walk.
 */
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

const cases: [string, string][] = [
  ['write-keeps-version', 'all nodes synced'],
  ['write-not-applied', 'a leader keeps its writes'],
  ['leader-refuses-writes', 'only a node that does not lead refuses a write'],
  ['silent-sync', 'every version a node holds is noted'],
  ['silent-term', 'every term a node holds is noted'],
  ['silent-election', 'every leader noted its election'],
  // Step properties (Raft's rules for servers), judged on every node step.
  ['refusal-term-ignored', 'a node that sees a higher term adopts it and follows'],
  ['no-same-term-vote', 'a node votes for the first up-to-date candidate that asks'],
  ['stale-leader-followed', 'a heartbeat no older than a node makes it follow its sender'],
  ['campaign-skips-term', "a campaign is one term on, with the node's own vote, asking every other node"],
  ['prevote-forgets-vote', "a pre-vote asks every other node for the next term, the node's term and vote unchanged"],
  ['prevote-same-term', 'a pre-vote request changes nothing and is granted only for a later term to a node as up to date'],
  ['refused-vote-counted', 'a candidate counts granted votes of its term, once each, and leads only on a majority'],
  ['prevote-refusal-termless', 'a pre-vote request changes nothing and is granted only for a later term to a node as up to date'],
];

describe('election: buggy variants of the stronger specification are caught', () => {
  for (const [variant, breaks] of cases) {
    it(`${variant}: '${breaks}', by explore and by walk`, () => {
      const model = createModel(election, { variant });
      expect(model.variant.breaks).toBe(breaks);
      const explored = explore(model);
      expect(explored.violations[0]?.invariant).toBe(breaks);
      const walked = walk(model, { runs: 1000, seed: 7, all: true, until: breaks });
      const found = walked.violations.find((v) => v.invariant === breaks);
      expect(found, `walk should break '${breaks}'`).toBeDefined();
      // The printed seed and path replay it.
      const again = walk(model, { seed: found!.seed, path: found!.counterexamplePath });
      expect(again.violations.map((v) => v.invariant)).toContain(breaks);
    }, 300_000);
  }
});

describe('election: the verified variant keeps them', () => {
  it('with one write at the leader (terms <= 1), by explore and by walk', () => {
    const model = createModel(election, { params: { writes: 1 }, maxRound: 1 });
    expect(explore(model).violations).toEqual([]);
    expect(walk(model, { runs: 300, seed: 7 }).violations).toEqual([]);
  }, 300_000);
});
