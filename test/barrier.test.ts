/**
 * The coordinator barrier, strict and with a deadline, checked exhaustively; its properties
 * judged on hand-made histories; the straggler path of the timeout barrier step by step.
 */
import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { barrier, BARRIER_ID, BARRIER_SEED_TIMING } from '../machines/barrier/index.js';
import type { BarrierContext } from '../machines/barrier/machine.js';
import type { BarrierNote } from '../machines/barrier/messages.js';
import { noReleaseBeforeAllArrivedOrDeadline, releasedExactlyOncePerGeneration, generationsDoNotMix, movingOnIsNoted } from '../invariants/barrier.js';
import { coverage, machineGraph } from '../src/check/coverage.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import type { WorldView } from '../src/protocol.js';

const machineOf = (name: string) => barrier.variants.find((v) => v.name === name)!.machine;

describe('barrier: strict, at its defaults', () => {
  const model = createModel(barrier);
  const result = explore(model);

  it('holds every property exhaustively, with a pinned distinct-state count', () => {
    expect(model.config.nodes).toBe(4);
    expect(model.config.params.generations).toBe(2);
    expect(result.violations).toEqual([]);
    expect(result.complete).toBe(true);
    expect(result.states).toBe(10_094);
  });

  it('is exhaustive: no bound cut the search (looser bounds reach the same worlds)', () => {
    expect(explore(createModel(barrier, { maxRound: 100, maxInFlight: 1_000 })).states).toBe(result.states);
  });

  it('holds on an unordered network too', () => {
    expect(explore(createModel(barrier, { network: 'unordered' })).violations).toEqual([]);
  });

  it('reaches every state of the coordinator machine, as @xstate/graph sees it', () => {
    const graph = machineGraph(machineOf('strict'));
    expect(coverage(graph, result.reached).states).toBe(1);
  });
});

describe('barrier: timeout variant', () => {
  const model = createModel(barrier, { variant: 'timeout' });
  const result = explore(model);

  it('holds every property exhaustively at 3 nodes', () => {
    expect(model.config.nodes).toBe(3);
    expect(result.violations).toEqual([]);
    // Deadline releases happen: the sometimes property the strict barrier meets vacuously.
    expect(result.unsatisfied).toEqual([]);
    // Registrations are in the ghost history: a participant registers at whichever generation the deadline left open.
    expect(result.states).toBe(181_878);
  });

  it('is exhaustive: deadline releases advance generations, and the round bound still cuts nothing', () => {
    const loose = explore(createModel(barrier, { variant: 'timeout', maxRound: 1_000, maxInFlight: 1_000 }));
    expect(loose.states).toBe(result.states);
    const generations = result.sim.stepper.states.values.map((s) => (s.context as BarrierContext).generation);
    expect(Math.max(...generations)).toBeGreaterThan(2);
  });

  it('a release that overtakes the registration answer on an unordered network still moves the participant on', () => {
    const m = machineOf('timeout');
    let [s] = initialTransition(m, { id: 2, n: 3 });
    [s] = transition(m, s, { type: 'release', barrier: BARRIER_ID, generation: 0, arrived: [1], stragglers: [2, 3], from: 1 });
    [s] = transition(m, s, { type: 'registered', barrier: BARRIER_ID, generation: 0, from: 1 });
    expect(s.value).toBe('working');
    expect((s.context as BarrierContext).generation).toBe(1);
  });

  it('a later release that overtakes the one a waiting node expects ends its wait: the node notes itself a straggler of the later generation, which is noting its release', () => {
    const m = machineOf('timeout');
    let [s] = initialTransition(m, { id: 2, n: 3 });
    [s] = transition(m, s, { type: 'registered', barrier: BARRIER_ID, generation: 0, from: 1 });
    [s] = transition(m, s, { type: 'client.arrive' });
    const [after, actions] = transition(m, s, { type: 'release', barrier: BARRIER_ID, generation: 1, arrived: [1], stragglers: [2, 3], from: 1 });
    expect(after.value).toBe('working');
    expect(actions.filter((a: any) => a.type === 'xstate.emit').map((a: any) => a.params.event.note)).toEqual([{ type: 'straggler', generation: 1 }]);
    const node = (context: Partial<BarrierContext>) => ({ id: 2, state: 'working', up: true, context: { restarted: false, waitingFor: null, ...context } });
    const world = (history: { node: number; note: BarrierNote }[]) => ({ n: 3, nodes: [node({ generation: 0 }), node({ generation: 2 }), node({ generation: 0 })], history, inFlight: [], quiescent: true }) as unknown as WorldView;
    const arrived = { node: 2, note: { type: 'arrive' as const, generation: 0 } };
    expect(movingOnIsNoted.holds(world([arrived, { node: 2, note: { type: 'straggler', generation: 1 } }]))).toBe(true);
    expect(movingOnIsNoted.holds(world([arrived]))).toBe(false);
    // On an unordered network that overtaking happens; the timeout barrier still holds every property.
    const unordered = explore(createModel(barrier, { variant: 'timeout', network: 'unordered', params: { generations: 1 } }));
    expect(unordered.complete).toBe(true);
    expect(unordered.violations).toEqual([]);
  });

  it('releases at the deadline with stragglers, and a straggler arrives in a later generation', () => {
    const notes = result.sim.notes.values.map((g) => g.note as BarrierNote);
    expect(notes.some((x) => x.type === 'release' && x.deadline && x.stragglers.length > 0)).toBe(true);
    expect(notes.some((x) => x.type === 'straggler')).toBe(true);
  });

  it('a straggler still working when its generation is released joins the next one', () => {
    const m = machineOf('timeout');
    let [s] = initialTransition(m, { id: 3, n: 3 });
    [s] = transition(m, s, { type: 'registered', barrier: BARRIER_ID, generation: 0, from: 1 });
    const [late, lateActions] = transition(m, s, { type: 'release', barrier: BARRIER_ID, generation: 0, arrived: [1, 2], stragglers: [3], from: 1 });
    expect(late.value).toBe('working');
    expect((late.context as BarrierContext).generation).toBe(1);
    expect(lateActions.filter((a: any) => a.type === 'xstate.emit').map((a: any) => a.params.event.note)).toEqual([{ type: 'straggler', generation: 0 }]);
    const [, arriveActions] = transition(m, late, { type: 'client.arrive' });
    const sent = arriveActions.filter((a: any) => a.type === 'xstate.emit' && a.params.event.type === 'send').map((a: any) => a.params.event.msg);
    expect(sent).toEqual([{ type: 'arrive', barrier: BARRIER_ID, generation: 1 }]);
  });
});

describe('barrier properties on hand-made histories', () => {
  const view = (history: { node: number; note: BarrierNote }[]): WorldView =>
    ({ n: 3, nodes: [1, 2, 3].map((id) => ({ id, state: 'working', context: {}, up: true })), history, inFlight: [], quiescent: true }) as WorldView;
  const arrive = (node: number, generation: number) => ({ node, note: { type: 'arrive' as const, generation } });
  const release = (generation: number, seq: number, arrived: number[], stragglers: number[], deadline: boolean) =>
    ({ node: 1, note: { type: 'release' as const, generation, seq, arrived, stragglers, deadline } });

  it('a deadline release must name exactly the missing nodes as stragglers', () => {
    const ok = view([arrive(1, 0), arrive(2, 0), release(0, 1, [1, 2], [3], true)]);
    const wrong = view([arrive(1, 0), arrive(2, 0), release(0, 1, [1, 2], [], true)]);
    const early = view([arrive(1, 0), arrive(2, 0), release(0, 1, [1, 2], [3], false)]);
    expect(noReleaseBeforeAllArrivedOrDeadline.holds(ok)).toBe(true);
    expect(noReleaseBeforeAllArrivedOrDeadline.holds(wrong)).toBe(false);
    expect(noReleaseBeforeAllArrivedOrDeadline.holds(early)).toBe(false);
  });

  it('a generation released twice, or out of order, is caught', () => {
    const all = [arrive(1, 0), arrive(2, 0), arrive(3, 0)];
    expect(releasedExactlyOncePerGeneration.holds(view([...all, release(0, 1, [1, 2, 3], [], false)]))).toBe(true);
    expect(releasedExactlyOncePerGeneration.holds(view([...all, release(0, 1, [1, 2, 3], [], false), release(0, 2, [1, 2, 3], [], false)]))).toBe(false);
    expect(releasedExactlyOncePerGeneration.holds(view([...all, release(0, 2, [1, 2, 3], [], false)]))).toBe(false);
  });

  it('an arrival of another generation counted in a release is caught', () => {
    expect(generationsDoNotMix.holds(view([arrive(1, 1), arrive(2, 1), arrive(3, 0), release(1, 2, [1, 2, 3], [], false)]))).toBe(false);
  });

  it('keeps the seed numbers for timed simulation: 435 ms of waiting in all', () => {
    const work = Object.values(BARRIER_SEED_TIMING.workMs);
    const slowest = Math.max(...work);
    expect(work.reduce((sum, w) => sum + slowest - w, 0)).toBe(BARRIER_SEED_TIMING.totalWaitMs);
  });
});
