/**
 * Election behaviour the seed draws (Diagram 2), on the pure simulator under a fair schedule:
 * only the majority side of a partition elects; with PreVote the healed minority accepts the
 * existing leader and syncs, without PreVote it forces an extra election. Also: durability of
 * term and vote across restarts, and @xstate/graph's shortest paths as unit tests of one node.
 */
import { transition, initialTransition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { election } from '../machines/election/index.js';
import type { ElectionContext } from '../machines/election/machine.js';
import { fairChoice } from '../src/check/liveness.js';
import { createModel } from '../src/check/model.js';
import { shortestPathsToStates } from '../src/check/coverage.js';
import type { Choice } from '../src/sim/choice.js';
import { flattenValue } from '../src/sim/node-step.js';
import { Simulator, type StepRecord } from '../src/sim/simulator.js';
import type { World } from '../src/sim/world.js';

/** Drives a simulator with a fair schedule, with faults injected by hand. */
function driver(variant: string, nodes = 5) {
  const model = createModel(election, { variant, nodes });
  const sim = new Simulator(model.protocol, model.variant, model.config);
  let world: World = sim.initial().world;
  const due = new Map<string, number>();
  let now = 0;
  const log: StepRecord[] = [];
  const apply = (choice: Choice) => {
    const r = sim.step(world, choice);
    world = r.world;
    log.push(r.record);
    for (const e of r.record.effects) if (e.kind === 'timer') due.delete(`${r.record.node}/${e.id}`);
  };
  return {
    sim,
    log,
    apply,
    /** Runs the fair schedule for `ms` of virtual time. */
    runFor(ms: number) {
      const end = now + ms;
      for (;;) {
        const next = fairChoice(sim, sim.enabled(world), due, now);
        if (!next || next.now > end) break;
        now = next.now;
        apply(next.choice);
      }
      now = end;
    },
    view: () => sim.view(world),
    leaders: () => sim.view(world).nodes.filter((n) => n.up && n.state === 'leader').map((n) => ({ id: n.id, term: (n.context as ElectionContext).currentTerm })),
    elections: () => log.flatMap((r) => r.notes.filter((x: any) => x.type === 'elected').map((x: any) => ({ node: r.node, term: x.term }))),
  };
}

function partitionScenario(variant: string) {
  const d = driver(variant);
  d.runFor(400);
  const [first] = d.leaders();
  expect(first, 'a leader is elected before the partition').toBeDefined();
  // The leader and two followers on side A, the other two on side B.
  const others = [1, 2, 3, 4, 5].filter((id) => id !== first.id);
  const sideA = [first.id, others[0], others[1]];
  const minority = [others[2], others[3]];
  d.apply({ kind: 'partition', sideA: sideA.reduce((m, id) => m | (1 << (id - 1)), 0) });
  d.apply({ kind: 'client', node: first.id, event: { type: 'client.set', value: 'scale_up' } });
  d.runFor(400);
  const duringPartition = d.leaders();
  const minorityTerms = minority.map((id) => (d.view().nodes[id - 1].context as ElectionContext).currentTerm);
  const electionsBefore = d.elections().length;
  d.apply({ kind: 'heal' });
  d.runFor(400);
  return { d, first, sideA, minority, duringPartition, minorityTerms, electionsBefore };
}

describe('election under partition (seed Diagram 2)', () => {
  it('with PreVote: the minority elects nobody and keeps its term; after the heal it follows the leader and syncs', () => {
    const { d, first, minority, duringPartition, minorityTerms, electionsBefore } = partitionScenario('prevote');
    expect(duringPartition).toEqual([first]);
    expect(minorityTerms).toEqual([first.term, first.term]);
    expect(d.elections().length).toBe(electionsBefore); // no election after the heal
    const nodes = d.view().nodes.map((n) => n.context as ElectionContext);
    expect(d.leaders()).toEqual([first]);
    for (const id of minority) {
      expect(nodes[id - 1].leader).toBe(first.id);
      expect(nodes[id - 1].data).toEqual({ version: 1, value: 'scale_up' });
    }
    const notes = d.log.flatMap((r) => r.notes.map((x: any) => `${r.node}:${x.type}`));
    for (const id of minority) {
      expect(notes).toContain(`${id}:accept_leader`);
      expect(notes).toContain(`${id}:synced`);
    }
  });

  it('without PreVote: the minority inflates its term and the heal forces an extra election (safe, but disruptive)', () => {
    const { d, first, duringPartition, minorityTerms, electionsBefore } = partitionScenario('no-prevote');
    expect(duringPartition).toEqual([first]);
    expect(Math.min(...minorityTerms)).toBeGreaterThan(first.term);
    expect(d.elections().length).toBeGreaterThan(electionsBefore);
    const [now] = d.leaders();
    expect(now.term).toBeGreaterThan(first.term);
    const view = d.view();
    for (const p of election.properties.filter((x) => x.kind === 'always')) expect(p.holds(view), p.name).toBe(true);
  });
});

describe('election: durable state', () => {
  it('a restarted node resumes its term and vote, and forgets its volatile leader', () => {
    const d = driver('prevote', 3);
    d.runFor(400);
    const follower = d.view().nodes.find((n) => n.state === 'follower')!;
    const before = follower.context as ElectionContext;
    d.apply({ kind: 'crash', node: follower.id });
    d.apply({ kind: 'restart', node: follower.id });
    const after = d.view().nodes[follower.id - 1].context as ElectionContext;
    expect({ term: after.currentTerm, vote: after.votedFor }).toEqual({ term: before.currentTerm, vote: before.votedFor });
    expect(before.leader).not.toBeNull();
    expect(after.leader).toBeNull();
  });
});

describe('election: @xstate/graph shortest paths to every node state, as unit tests', () => {
  const model = createModel(election);
  const machine = model.variant.machine;
  const paths = shortestPathsToStates(election, machine, model.config);

  it('reaches follower, precandidate, candidate and leader', () => {
    expect(paths.map((p) => p.state).sort()).toEqual(['candidate', 'follower', 'leader', 'precandidate']);
  });

  it.each(paths.map((p) => [p.state, p]))('the path to %s replays through transition() and respects the node-local rules', (_, path) => {
    let [snapshot] = initialTransition(machine, { id: 1, n: model.config.nodes });
    let term = 0;
    for (const event of path.events) {
      [snapshot] = transition(machine, snapshot, event as never);
      const c = snapshot.context as ElectionContext;
      expect(c.currentTerm).toBeGreaterThanOrEqual(term); // terms never go back
      term = c.currentTerm;
      if (flattenValue(snapshot.value) === 'leader') expect(new Set(c.votes).size).toBeGreaterThanOrEqual(2); // a majority of 3
    }
    expect(flattenValue(snapshot.value)).toBe(path.state);
  });
});
