/**
 * Sends before the flush in the model (Variant.beforeFlush): after a step that lets only declared
 * messages and notes leave, the node's disk may still hold the state before it, and a crash may
 * land before the flush (`lost`), restarting the node from that state with what it sent already
 * in flight. Shown on consensus, whose verified variant sends a leader's commit while its own
 * acceptance is written, and whose `ack-before-flush` bug acks before the acceptance is on disk.
 */
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import type { Choice } from '../src/sim/choice.js';
import { describeChoice } from '../src/sim/choice.js';
import type { CheckConfig, Variant } from '../src/protocol.js';
import { Simulator } from '../src/sim/simulator.js';
import type { World } from '../src/sim/world.js';

const paxos = consensus.variants.find((v) => v.name === 'paxos')!;
const ackEarly = consensus.variants.find((v) => v.name === 'ack-before-flush')!;
/** The same variant with no declaration: every send waits for its flush. */
const undeclared = (v: Variant): Variant => ({ name: v.name, description: v.description, breaks: v.breaks, reveal: v.reveal, machine: v.machine, durable: v.durable });
const withVariant = (v: Variant) => ({ ...consensus, variants: [v], defaultVariant: v.name });
const config: Partial<CheckConfig> = { faults: ['crash'], params: { proposers: [1] } };

/** Node 1 leads term 1: its client proposes, both proposes and one promise are delivered (the last step is the commit). */
function toTheCommit(variant: Variant): { sim: Simulator; world: World } {
  const m = createModel(withVariant(variant), config);
  const sim = new Simulator(m.protocol, m.variant, m.config);
  let world = sim.initial().world;
  const take = (pick: (c: Choice) => boolean) => {
    const choice = sim.enabled(world).find(pick);
    if (!choice) throw new Error('not enabled');
    world = sim.step(world, choice).world;
  };
  take((c) => c.kind === 'client' && c.node === 1);
  take((c) => c.kind === 'deliver' && c.to === 2 && c.msg.msg.type === 'propose');
  take((c) => c.kind === 'deliver' && c.to === 1 && c.msg.msg.type === 'promise');
  return { sim, world };
}

const lostCrash = (sim: Simulator, world: World, node: number) => sim.enabled(world).find((c) => c.kind === 'crash' && c.node === node && c.lost);

describe('a crash before the flush', () => {
  it("is offered after a leader's commit, and restarts it from the state before, its commits still in flight", () => {
    const { sim, world } = toTheCommit(paxos);
    const leader = world.nodes[0].local!.context;
    expect(leader.accepted).toEqual([{ slot: 1, term: 1, value: 'scale_up' }]);
    const crash = lostCrash(sim, world, 1);
    expect(crash).toBeDefined();
    expect(describeChoice(crash!, 3)).toBe('crash 1 before its last write reached the disk');
    const down = sim.step(world, crash!).world;
    expect(down.nodes[0].durable!.value).toMatchObject({ promised: 1, accepted: [] });
    const restarted = sim.step(down, sim.enabled(down).find((c) => c.kind === 'restart')!).world;
    expect(restarted.nodes[0].local!.context.accepted).toEqual([]);
    const commits = (w: World) => w.channels.flat().filter((m) => m.msg.type === 'commit').length;
    expect(commits(restarted)).toBe(2);
    // The plain crash keeps the acceptance: the write reached the disk.
    const plain = sim.enabled(world).find((c) => c.kind === 'crash' && c.node === 1 && !c.lost)!;
    expect(sim.step(world, plain).world.nodes[0].durable!.value).toMatchObject({ accepted: [{ slot: 1, term: 1, value: 'scale_up' }] });
  });

  it('is not offered without the declaration, nor once the step that decides has flushed', () => {
    const { sim, world } = toTheCommit(undeclared(paxos));
    expect(lostCrash(sim, world, 1)).toBeUndefined();
    // The verified variant: node 2's ack decides, and the decision's notes wait for a flush covering the acceptance.
    const declared = toTheCommit(paxos);
    let w = declared.world;
    w = declared.sim.step(w, declared.sim.enabled(w).find((c) => c.kind === 'deliver' && c.to === 2 && c.msg.msg.type === 'commit')!).world;
    w = declared.sim.step(w, declared.sim.enabled(w).find((c) => c.kind === 'deliver' && c.to === 1 && c.msg.msg.type === 'ack')!).world;
    expect(w.nodes[0].local!.state).toBe('decided');
    expect(lostCrash(declared.sim, w, 1)).toBeUndefined();
  });

  it('is what finds ack-before-flush: the same machine with every ack waiting for its flush breaks nothing', () => {
    const found = explore(createModel(withVariant(ackEarly), { ...config, variant: ackEarly.name }));
    expect(found.violations.map((v) => v.invariant)).toContain('a decided value stays chosen');
    expect(found.violations.find((v) => v.invariant === 'a decided value stays chosen')!.steps.some((s) => s.choice.kind === 'crash' && s.choice.lost)).toBe(true);
    const waiting = undeclared(ackEarly);
    const safe = explore(createModel(withVariant(waiting), { ...config, variant: waiting.name }));
    expect(safe.violations).toEqual([]);
  });

  it('adds no world where no crash can tell: without the crash fault the declared and undeclared spaces are equal', () => {
    const count = (v: Variant) => explore(createModel(withVariant(v), { faults: [], params: { proposers: [1], slots: 2 }, variant: v.name })).states;
    expect(count(paxos)).toBe(count(undeclared(paxos)));
    // With crashes the declared space is larger: the worlds between a commit and its flush.
    const crashing = (v: Variant) => explore(createModel(withVariant(v), { ...config, params: { proposers: [1], slots: 2 }, variant: v.name })).states;
    expect(crashing(paxos)).toBeGreaterThan(crashing(undeclared(paxos)));
  });
});
