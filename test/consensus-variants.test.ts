/**
 * Consensus, buggy variants: each is caught by the explorer (with a shortest counterexample) and
 * by random walks, naming the invariant it breaks.
 */
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';
import type { CheckConfig } from '../src/protocol.js';

const model = (o: Partial<CheckConfig> = {}) => createModel(consensus, o);
/** Variants that break a safety property; the liveness ones are in test/liveness-properties.test.ts. */
const buggy = consensus.variants.filter((v) => consensus.properties.find((p) => p.name === v.breaks)?.kind === 'always');

describe('consensus: the variants', () => {
  it('are the verified flow and the named bugs', () => {
    expect(consensus.variants.map((v) => [v.name, v.breaks ?? null])).toEqual([
      ['paxos', null],
      ['ack-before-flush', 'a decided value stays chosen'],
      ['as-drawn', 'agreement'],
      ['forget-accepted', 'a decided value stays chosen'],
      ['volatile-acceptor', 'term never decreases'],
      ['own-vote-uncounted', 'a value is decided despite a minority down'],
      ['ack-quorum-above-majority', 'a value is decided despite a minority down'],
      ['no-decided-broadcast', 'every node learns'],
      ['ignore-decided', 'every node learns'],
      ['restart-idle', 'every proposer decides'],
      ['learner-proposes', 'a node that decides applies that decision'],
      ['silent-after-decision', 'every client request is answered'],
      ['tell-own-value', 'a client is told the decided value'],
      ['minority-commit', "a commit follows a majority's promises"],
      ['reuse-slot', 'agreement'],
      ['ack-any-slot', 'a decided value stays chosen'],
      ['leader-steps-back', 'a leader keeps its term while unsuperseded and proposes with phase 2 only'],
      ['past-max-slot', "a proposal is placed exactly when a slot up to the client's maxSlot is free"],
      ['unnoted-accept', 'a node notes each value it accepts and acks only what it holds'],
      ['skip-round', 'a campaign is in the next term of the node above its promise'],
      ['leader-ignores-decided', 'a proposer or leader that learns a decision from another gives up its term'],
    ]);
  });
});

describe.each(buggy.map((v) => [v.name, v.breaks!]))('consensus: buggy variant %s', (variant, invariant) => {
  it(`explore finds '${invariant}' violated, with a shortest counterexample`, () => {
    const m = model({ variant, nodes: 3 });
    const r = explore(m);
    const v = r.violations.find((x) => x.invariant === invariant);
    expect(v, `explore should break '${invariant}'`).toBeDefined();
    // Minimal: no run one step shorter breaks anything (a depth bound of 0 means none: a
    // one-step run is minimal, the initial world being checked like every other).
    if (v!.steps.length > 1) {
      const shorter = explore({ ...m, config: { ...m.config, maxDepth: v!.steps.length - 1 } });
      expect(shorter.violations.filter((x) => x.kind === 'always')).toEqual([]);
    }
  });

  it(`walk finds '${invariant}' violated`, () => {
    // Seed 1 finds each bug within a few hundred runs; a change to the walk may need another.
    const r = walk(model({ variant, nodes: 3 }), { runs: 5000, seed: 1, safetyOnly: true });
    expect(r.violations.map((x) => x.invariant)).toEqual([invariant]);
  });

  // Replays run in a fresh simulator: they must not depend on what an earlier run interned.
  it(`the printed seed and path replay the walk's '${invariant}' counterexample`, () => {
    const m = model({ variant, nodes: 3 });
    const v = walk(m, { runs: 5000, seed: 1, safetyOnly: true }).violations[0];
    const again = walk(m, { seed: v.seed, path: v.counterexamplePath, safetyOnly: true });
    expect(again.violations[0]?.invariant).toBe(invariant);
    expect(again.violations[0]?.steps.length).toBe(v.steps.length);
  });
});

describe.each(['minority-commit', 'forget-accepted'])('consensus: %s', (variant) => {
  it('breaks agreement too: two values are decided', () => {
    const r = explore(model({ variant, ...consensus.variants.find((v) => v.name === variant)!.reveal }), { all: true });
    expect(r.violations.map((v) => v.invariant)).toContain('agreement');
  });
});

describe('consensus: restart-idle, under crashes', () => {
  const revealed = () => model({ variant: 'restart-idle', ...consensus.variants.find((v) => v.name === 'restart-idle')!.reveal });
  const EVERY = 'every proposer decides';

  it(`explore finds '${EVERY}' unmet after a restart: the proposer crashed, the decision went by, it never retries`, () => {
    const r = explore(revealed(), { all: true });
    const v = r.violations.find((x) => x.invariant === EVERY);
    expect(v, `explore should break '${EVERY}'`).toBeDefined();
    expect(v!.steps.map((s) => s.choice.kind)).toContain('restart');
  }, 120_000);

  it(`walk finds '${EVERY}' unmet`, () => {
    const r = walk(revealed(), { runs: 1000, seed: 7, all: true });
    expect(r.violations.map((x) => x.invariant)).toContain(EVERY);
  }, 120_000);

  it('the verified machine resumes its durable proposal: no property fails with crashes', () => {
    const r = walk(model({ faults: ['crash'] }), { runs: 300, seed: 7 });
    expect(r.violations).toEqual([]);
  }, 120_000);
});

describe('consensus: volatile-acceptor', () => {
  it('breaks agreement too: a restarted node accepts a term it promised to refuse', () => {
    const r = explore(model({ variant: 'volatile-acceptor' }), { all: true });
    const v = r.violations.find((x) => x.invariant === 'agreement');
    expect(v, 'agreement should break').toBeDefined();
    const kinds = v!.steps.map((s) => s.choice.kind);
    expect(kinds).toContain('crash');
    expect(kinds).toContain('restart');
  });

  it('is safe with the same machine when the promise is durable', () => {
    const r = explore(model({ variant: 'paxos', faults: ['crash'] }));
    expect(r.complete).toBe(true);
    expect(r.violations).toEqual([]);
  });
});
