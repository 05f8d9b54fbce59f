/**
 * Liveness with explicit fairness: fault tolerance with a minority down for good, PreVote's
 * non-disruption of a stable leader by a rejoining minority, and every node learning the
 * decision. Each property is shown to catch its buggy variants by exploration and by walk, the
 * verified variants keep passing, and a check keeps looking past a first violation.
 */
import { spawnSync } from 'node:child_process';
import { assign } from 'xstate';
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { election } from '../machines/election/index.js';
import { electionDurable, electionMachine } from '../machines/election/machine.js';
import { explore } from '../src/check/explore.js';
import { fairnessChoices, livenessPhase } from '../src/check/liveness.js';
import { createModel } from '../src/check/model.js';
import { runChecks } from '../src/check/run-checks.js';
import { walk } from '../src/check/walk.js';
import type { Protocol } from '../src/protocol.js';
import { Simulator } from '../src/sim/simulator.js';

const FAULT_TOLERANCE = 'a leader despite a minority down';
const DISRUPTS = 'a rejoining minority does not disrupt the leader';
const DECIDED = 'a value is decided despite a minority down';
const LEARNS = 'every node learns';

const cases: [Protocol, string, string][] = [
  [election, 'quorum-above-majority', FAULT_TOLERANCE],
  [election, 'keep-old-leader', FAULT_TOLERANCE],
  [election, 'no-prevote', DISRUPTS],
  [election, 'timeout-to-candidate', DISRUPTS],
  [election, 'prevote-ignores-granted', DISRUPTS],
  [election, 'prevote-despite-leader', DISRUPTS],
  [consensus, 'own-vote-uncounted', DECIDED],
  [consensus, 'ack-quorum-above-majority', DECIDED],
  [consensus, 'no-decided-broadcast', LEARNS],
  [consensus, 'ignore-decided', LEARNS],
];

describe('buggy variants of the liveness families are caught', () => {
  for (const [protocol, variant, breaks] of cases) {
    it(`${protocol.name} ${variant}: '${breaks}', by explore and by walk`, () => {
      const model = createModel(protocol, { variant });
      expect(model.variant.breaks).toBe(breaks);
      const explored = explore(model);
      // The fair phase that shows it may leave another liveness property unmet too.
      expect(explored.violations[0].invariant).toBe(breaks);
      expect(explored.violations.every((v) => v.kind === 'eventually')).toBe(true);
      // The run ends with the fair phase that shows the liveness loss.
      expect(explored.violations[0].steps.length).toBeGreaterThan(explored.violations[0].path.length);
      const walked = walk(model, { runs: 1000, seed: 7 });
      expect(walked.violations.map((v) => v.invariant)).toEqual([breaks]);
      // The printed seed and path replay it, fair phase and fairness included.
      const [v] = walked.violations;
      const again = walk(model, { seed: v.seed, path: v.counterexamplePath });
      expect(again.violations.map((x) => [x.invariant, x.steps.length, x.fairness])).toEqual([[breaks, v.steps.length, v.fairness]]);
    }, 120_000);
  }
});

describe('verified variants satisfy the new properties', () => {
  for (const [protocol, nodes] of [[election, 3], [election, 4], [consensus, 3]] as const) {
    it(`${protocol.name} at ${nodes} nodes: walks with a minority crashed or cut off for good find nothing`, () => {
      const model = createModel(protocol, { nodes });
      const walked = walk(model, { runs: protocol === consensus ? 300 : nodes === 3 ? 150 : 50, seed: 11 });
      expect(walked.violations).toEqual([]);
    }, 120_000);
  }

  it('election at 3 nodes: every world with nothing in flight, under every fairness', () => {
    const e = explore(createModel(election));
    expect(e.violations).toEqual([]);
    expect(e.fair!.starts).toBeGreaterThan(10);
    // 3 nodes tolerate 1 down: each node crashed, cut off, or cut off then rejoining, and none.
    expect(fairnessChoices(election, 3)).toHaveLength(9);
    expect(e.fair!.quiescent).toBe(0);
  }, 120_000);
});

describe('fair phases keep the nodes they are told to keep down', () => {
  const model = createModel(election, { nodes: 3 });
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const start = sim.initial().world;

  it('crashed for good: never restarted, and the others elect a leader they all follow', () => {
    const live = livenessPhase(sim, start, 400, undefined, { down: [2], how: 'crash' });
    expect(live.unmet).toEqual([]);
    expect(live.world.nodes[1].local).toBeNull();
    expect(live.steps.some((s) => s.choice.kind === 'restart' && s.choice.node === 2)).toBe(false);
  });

  it('cut off for good: the partition never heals', () => {
    const live = livenessPhase(sim, start, 400, undefined, { down: [3], how: 'partition' });
    expect(live.unmet).toEqual([]);
    expect(live.world.partition).not.toBe(0);
    expect(live.steps.some((s) => s.choice.kind === 'heal')).toBe(false);
  });

  it('a property that assumes reliable links is not judged after a loss, nor with nodes cut off', () => {
    const c = createModel(consensus, { variant: 'no-decided-broadcast' });
    const csim = new Simulator(c.protocol, c.variant, c.config);
    const world = csim.initial().world;
    // Node 1 decides and tells nobody; node 2, which would have proposed and learned, is down.
    expect(livenessPhase(csim, world, 400, undefined, { down: [2], how: 'crash' }).unmet.map((p) => p.name)).toEqual([LEARNS]);
    expect(livenessPhase(csim, world, 400, undefined, { down: [2], how: 'partition' }).unmet).toEqual([]);
    const lossy = { ...world, used: { ...world.used, drops: 1 } };
    expect(livenessPhase(csim, lossy, 400).unmet).toEqual([]);
  });
});

describe('a check keeps looking past a first violation, per property', () => {
  // A node that adopts a term without noting it and a precandidate that keeps its old leader: a
  // safety bug and a liveness loss in one machine.
  const correct = { preVote: true, checkVotedFor: true, dedupeVotes: true };
  const silentAdopt = assign(({ event }: { event: { term?: number } }) => ({ currentTerm: event.term ?? -1, votedFor: null, leader: null, votes: [] }));
  const machine = electionMachine({ ...correct, precandidateForgetsLeader: false }).provide({ actions: { adoptTerm: silentAdopt } } as never);
  const both: Protocol = {
    ...election,
    variants: [{ name: 'both', description: 'two bugs', machine, durable: electionDurable }],
    defaultVariant: 'both',
  };
  const SILENT = 'every term a node holds is noted';

  it('explore and walk report each violated property; stopping at the first reports one', () => {
    const model = createModel(both, { maxRound: 1, maxInFlight: 3 });
    const explored = runChecks(model, { mode: 'explore' }).violations.map((v) => v.invariant);
    expect(explored).toEqual(expect.arrayContaining([FAULT_TOLERANCE, SILENT]));
    const walked = walk(model, { runs: 200, seed: 3, all: true }).violations.map((v) => v.invariant);
    expect(walked).toEqual(expect.arrayContaining([FAULT_TOLERANCE, SILENT]));
    expect(new Set(walked).size).toBe(walked.length);
    expect(runChecks(model, { mode: 'explore', all: false }).violations).toHaveLength(1);
  }, 300_000);
});

describe('defaults that reveal', () => {
  const check = (...args: string[]) => spawnSync(process.execPath, ['bin/coordkit.js', 'check', 'consensus', ...args, '--mode', 'walk', '--runs', '20', '--seed', '1', '--json'], { encoding: 'utf8', timeout: 120_000 });

  it('the verified variant\'s default check also runs the configurations the primitive names', () => {
    const r = check();
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.params.proposers).toEqual([1, 2]);
    expect(json.also.map((a: { faults: string[]; params: { proposers: number[] } }) => [a.faults, a.params.proposers])).toEqual([[[], [1, 2]], [[], [1, 2, 3]], [[], [1, 2]], [['dup'], [1]], [['crash'], [1, 2]], [['crash'], [1]]]);
    expect(json.also.map((a: { params: { slots?: number } }) => a.params.slots ?? 1)).toEqual([1, 1, 2, 3, 1, 2]);
  }, 150_000);

  it('an option that shapes the model, or a buggy variant, checks that model alone', () => {
    expect(JSON.parse(check('--nodes', '3').stdout).also).toBeUndefined();
    expect(JSON.parse(check('--variant', 'as-drawn').stdout).also).toBeUndefined();
  }, 150_000);
});
