/**
 * Lamport mutex (Lamport 1978), checked exhaustively on FIFO channels: the verified machine
 * holds every property, with its distinct-state count pinned.
 */
import { initialTransition, transition } from 'xstate';
import { describe, expect, it } from 'vitest';
import { mutex, MUTEX_SEED_TIMING } from '../machines/mutex/index.js';
import { CLOCK_LEASE, fencingToken, type MutexContext } from '../machines/mutex/machine.js';
import { coverage, machineGraph } from '../src/check/coverage.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { walk } from '../src/check/walk.js';

const lamport = mutex.variants.find((v) => v.name === 'lamport')!.machine;

describe('mutex: the verified machine on FIFO channels', () => {
  const model = createModel(mutex);
  const result = explore(model);

  it('defaults to FIFO channels, 3 nodes, one request each', () => {
    expect(model.config.network).toBe('fifo');
    expect(model.config.nodes).toBe(3);
    expect(model.config.params.requests).toBe(1);
  });

  it('holds every property exhaustively, with a pinned distinct-state count', () => {
    expect(result.violations).toEqual([]);
    expect(result.complete).toBe(true);
    expect(result.states).toBe(76_296);
    expect(result.transitions).toBe(199_276);
    expect(result.bounded).toBe(0);
  });

  it('is exhaustive: no bound cut the search (looser bounds reach the same worlds)', () => {
    const loose = explore(createModel(mutex, { maxRound: 1_000, maxInFlight: 1_000 }));
    expect(loose.states).toBe(result.states);
  });

  it('holds exhaustively for 2 nodes each requesting three times', () => {
    const deep = explore(createModel(mutex, { nodes: 2, params: { requests: 3 } }));
    expect(deep.violations).toEqual([]);
    expect(deep.bounded).toBe(0);
    expect(deep.states).toBe(6_221);
  });

  it('holds on random runs of 3 nodes each requesting twice, liveness phase included', () => {
    const r = walk(createModel(mutex, { params: { requests: 2 } }), { seed: 42, runs: 200 });
    expect(r.violations).toEqual([]);
  });

  it('reaches every state of the node machine but the one only a restart enters, as @xstate/graph sees it', () => {
    const graph = machineGraph(lamport);
    expect([...graph.states.values()].sort()).toEqual(['boot', 'critical', 'idle', 'recovering', 'waiting']);
    expect(coverage(graph, result.reached).unreachedStates).toEqual(['recovering']);
  });
});

describe('mutex node machine (pure transitions)', () => {
  const start = (id: number) => initialTransition(lamport, { id, n: 3 })[0];

  it('advances its clock past a received request and replies later than it (IR2)', () => {
    const [next, actions] = transition(lamport, start(2), { type: 'request', ts: 5, from: 1 });
    expect((next.context as MutexContext).clock).toBe(6);
    const sent = actions.filter((a: any) => a.type === 'xstate.emit').map((a: any) => a.params.event);
    expect(sent).toEqual([{ type: 'send', to: 1, msg: { type: 'reply', ts: 6 } }]);
  });

  it('enters only with its request at the head and a later message from every other node', () => {
    const [s1] = transition(lamport, start(1), { type: 'client.acquire' });
    const [s2] = transition(lamport, s1, { type: 'reply', ts: 2, from: 2 });
    expect(s2.value).toBe('waiting');
    const [s3, actions] = transition(lamport, s2, { type: 'reply', ts: 2, from: 3 });
    expect(s3.value).toBe('critical');
    const notes = actions.filter((a: any) => a.type === 'xstate.emit').map((a: any) => a.params.event.note);
    expect(notes).toEqual([{ type: 'enter', ts: 1, token: fencingToken(1, 1, 3) }]);
  });

  it('makes its clock durable a lease at a time: the durable part changes only when a timestamp it sends passes the bound', () => {
    const durable = mutex.variants.find((v) => v.name === 'lamport')!.durable;
    let s = start(1);
    const stored: number[] = [];
    // Acquire, two replies, release: two timestamps of its own per cycle, and the replies' pushes.
    for (let cycle = 0; cycle < CLOCK_LEASE; cycle++) {
      const ts = (s.context as MutexContext).clock;
      for (const event of [{ type: 'client.acquire' }, { type: 'reply', ts: ts + 2, from: 2 }, { type: 'reply', ts: ts + 2, from: 3 }, { type: 'client.release' }]) {
        [s] = transition(lamport, s, event as never);
        const bound = (durable(s.context) as { clockBound: number }).clockBound;
        if (bound !== stored.at(-1)) stored.push(bound);
        expect((s.context as MutexContext).clock).toBeLessThanOrEqual(bound + 2);
      }
    }
    const clock = (s.context as MutexContext).clock;
    expect(clock).toBe(3 * CLOCK_LEASE);
    // One durable change per CLOCK_LEASE timestamps, each to a multiple of it.
    expect(stored).toEqual([CLOCK_LEASE, 2 * CLOCK_LEASE, 3 * CLOCK_LEASE]);
  });

  it('resumes its clock from the stored bound after a restart (or from the clock a log written before the bound kept)', () => {
    const restart = (restored: object) => initialTransition(lamport, { id: 1, n: 3, restored } as never);
    // Its rejoin is its first timestamp: past the bound, so the next lease is durable before it leaves.
    const [s, actions] = restart({ clockBound: 2 * CLOCK_LEASE });
    expect(s.context).toMatchObject({ clock: 2 * CLOCK_LEASE + 1, clockBound: 3 * CLOCK_LEASE });
    expect(actions.filter((a: any) => a.type === 'xstate.emit').map((a: any) => a.params.event.msg)).toEqual([{ type: 'rejoin', ts: 2 * CLOCK_LEASE + 1 }]);
    expect(restart({ clock: 57 })[0].context).toMatchObject({ clock: 58, clockBound: CLOCK_LEASE });
  });

  it('fencing tokens follow the (timestamp, id) order', () => {
    expect(fencingToken(1, 1, 3)).toBeLessThan(fencingToken(1, 3, 3));
    expect(fencingToken(1, 3, 3)).toBeLessThan(fencingToken(2, 1, 3));
  });

  it('keeps the seed timeline numbers for timed simulation', () => {
    expect(MUTEX_SEED_TIMING.criticalWorkMs).toEqual({ 1: 100, 2: 80, 3: 60 });
    expect(Object.values(MUTEX_SEED_TIMING.criticalWorkMs).reduce((a, b) => a + b, 0)).toBe(MUTEX_SEED_TIMING.totalCriticalWorkMs);
  });
});
