/**
 * Consensus node machine under @xstate/graph: shortest event paths to every state (path-based
 * unit tests), and the share of the machine's declared transitions the default check takes.
 */
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { shortestPathsToStates } from '../src/check/coverage.js';
import { createModel } from '../src/check/model.js';
import { runChecks } from '../src/check/run-checks.js';

const model = createModel(consensus);

describe('consensus: node machine paths', () => {
  const paths = Object.fromEntries(shortestPathsToStates(consensus, model.variant.machine, model.config).map((p) => [p.state, p.events]));

  it('reaches every state of one node by its shortest event sequence', () => {
    expect(Object.keys(paths).sort()).toEqual(['committing', 'decided', 'idle', 'learned', 'proposing']);
  });

  it('decides after a client request, one promise and one ack (3 nodes: a majority with itself)', () => {
    expect(paths.decided).toEqual([
      { type: 'client.propose', value: 'scale_up' },
      { type: 'promise', term: 1, slot: 1, accepted: [], from: 2 },
      { type: 'ack', term: 1, slot: 1, from: 2 },
    ]);
  });

  it('learns from a decided notification without proposing', () => {
    expect(paths.learned).toEqual([{ type: 'decided', term: 1, slot: 1, value: 'scale_up', from: 2 }]);
  });
});

describe('consensus: coverage of the default check (exhaustive, then walks that may retry)', () => {
  const report = runChecks(model, { mode: 'both', seed: 1 });

  it('reaches every state and takes every declared transition but the read and those of a second slot', () => {
    expect(report.violations).toEqual([]);
    expect(report.coverage.measured).toBe(true);
    expect(report.coverage.unreachedStates).toEqual([]);
    // The model's clients never read: `client.get` changes nothing, so it only answers over TCP
    // (test/client-semantics.test.ts), and the coverage says so rather than hide it. One slot
    // has no next proposal and no decision of another slot: the two-slot check takes those.
    expect(report.coverage.unreachedTransitions).toEqual([
      '(any state)|client.get|(any state)',
      '(any state)|decided|(any state) #2',
      'decided|client.propose|committing #1',
      'decided|client.propose|proposing #2',
      'learned|client.propose|proposing',
    ]);
  });
});

describe('consensus: coverage of the two-slot check', () => {
  const two = createModel(consensus, consensus.alsoCheck!.find((c) => c.why.startsWith('two slots'))!.config);
  const report = runChecks(two, { mode: 'explore' });

  it('takes the next proposal of a leader (phase 2 only), of a node that stepped back, and a decision of another slot', () => {
    expect(report.violations).toEqual([]);
    expect(report.coverage.unreachedTransitions).toEqual(['(any state)|client.get|(any state)']);
  });
});
