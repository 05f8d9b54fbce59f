/**
 * History properties over the notes a harness observed: notes of different nodes arrive over
 * different connections, so a leader's `elected` can arrive before a voter's `voted`. Such an
 * order is no violation; a vote that never arrives is.
 */
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import { checkHistoryProperties } from '../src/runtime/trace-properties.js';

const voted = (node: number, term: number, to: number) => ({ node, note: { type: 'voted', term, for: to } });
const elected = (node: number, term: number, votes: number[]) => ({ node, note: { type: 'elected', term, votes } });
const failed = (notes: Parameters<typeof checkHistoryProperties>[2]) => checkHistoryProperties(election, 3, notes).violations.map((v) => [v.property, v.index]);

describe('history properties over observed notes', () => {
  it("an 'elected' that arrives before the votes it counts is no violation", () => {
    expect(failed([voted(2, 1, 2), elected(2, 1, [1, 2]), voted(1, 1, 2)])).toEqual([]);
  });

  it('a vote that never arrives is, from the note after which the property failed for good', () => {
    expect(failed([voted(2, 1, 2), elected(2, 1, [1, 2])])).toEqual([['leader had a majority', 1]]);
    expect(failed([voted(2, 1, 2), elected(2, 1, [1, 2]), voted(1, 1, 2), elected(3, 2, [1, 3]), voted(3, 2, 3)])).toEqual([['leader had a majority', 3]]);
  });

  it('two votes of one node in one term stay a violation whatever arrives later', () => {
    expect(failed([voted(1, 1, 2), voted(1, 1, 3), voted(2, 1, 2)])).toEqual([['one vote per node per term', 1]]);
  });
});
