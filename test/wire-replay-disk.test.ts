/**
 * The wire replay's restarts when the disk may lag behind the state: a step whose messages the
 * variant lets leave before its flush (a consensus leader's commit), or a step that let nothing
 * leave, may be lost to a kill -9, and the node restarts from the state before it. A warm leader
 * whose commit for slot 2 left before the kill restarts without that proposal; a node that
 * learned a decision while nobody listened restarts with or without it. What it never held is
 * not explained.
 */
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { replayWire } from '../src/harness/wire-replay.js';
import type { WireRecord } from '../src/harness/wire-record.js';

const paxos = consensus.variants.find((v) => v.name === 'paxos')!;

/** Node 1 learns slot 1 = 'w', is killed, restarts, and answers a read in `state` with `decided`. */
function run(state: string, decided: (string | null)[]): WireRecord[] {
  let time = 0;
  const at = () => (time += 10);
  return [
    { time: at(), kind: 'start', node: 1, pid: 100 },
    { time: at(), kind: 'link', node: 1, to: 2, up: true },
    { time: at(), kind: 'deliver', node: 1, from: 2, msg: { type: 'decided', slot: 1, term: 2, value: 'w' } },
    { time: at(), kind: 'kill', node: 1 },
    { time: at(), kind: 'start', node: 1, pid: 101 },
    { time: at(), kind: 'observe', node: 1 },
    { time: at(), kind: 'request', node: 1, request: { type: 'client.get' } },
    { time: at(), kind: 'answer', node: 1, state, notes: [{ type: 'log', decided }] },
  ];
}

/**
 * Node 1 decides slot 1 = 'a' as leader, takes 'b' for slot 2 and sends its commit before the
 * flush (the verified variant lets it), is killed, restarts, and answers a read in `state`.
 */
function warmLeader(state: string): WireRecord[] {
  let time = 0;
  const at = () => (time += 10);
  const both = (msg: Record<string, unknown>): WireRecord[] => [2, 3].map((to) => ({ time: at(), kind: 'send', node: 1, to, msg, fate: 'delivered' }) as WireRecord);
  const note = (n: Record<string, unknown>): WireRecord => ({ time: at(), kind: 'note', node: 1, note: n });
  return [
    { time: at(), kind: 'start', node: 1, pid: 100 },
    { time: at(), kind: 'link', node: 1, to: 2, up: true },
    { time: at(), kind: 'link', node: 1, to: 3, up: true },
    { time: at(), kind: 'observe', node: 1 },
    { time: at(), kind: 'request', node: 1, request: { type: 'client.propose', value: 'a' } },
    note({ type: 'proposed', slot: 1, value: 'a' }),
    note({ type: 'promised', term: 1 }),
    ...both({ type: 'propose', term: 1, slot: 1, value: 'a' }),
    { time: at(), kind: 'answer', node: 1, state: 'proposing', notes: [{ type: 'proposed', slot: 1, value: 'a' }, { type: 'promised', term: 1 }] },
    { time: at(), kind: 'deliver', node: 1, from: 2, msg: { type: 'promise', term: 1, slot: 1, accepted: [] } },
    note({ type: 'accepted', slot: 1, term: 1, value: 'a' }),
    ...both({ type: 'commit', term: 1, slot: 1, value: 'a' }),
    { time: at(), kind: 'deliver', node: 1, from: 2, msg: { type: 'ack', term: 1, slot: 1 } },
    note({ type: 'decided', slot: 1, term: 1, value: 'a' }),
    note({ type: 'decision', slot: 1, value: 'a', proposal: 'a' }),
    note({ type: 'applied', slot: 1, term: 1, value: 'a' }),
    ...both({ type: 'decided', slot: 1, term: 1, value: 'a' }),
    { time: at(), kind: 'request', node: 1, request: { type: 'client.propose', value: 'b' } },
    note({ type: 'proposed', slot: 2, value: 'b' }),
    note({ type: 'accepted', slot: 2, term: 1, value: 'b' }),
    ...both({ type: 'commit', term: 1, slot: 2, value: 'b' }),
    { time: at(), kind: 'kill', node: 1 },
    { time: at(), kind: 'start', node: 1, pid: 101 },
    { time: at(), kind: 'observe', node: 1 },
    { time: at(), kind: 'request', node: 1, request: { type: 'client.get' } },
    { time: at(), kind: 'answer', node: 1, state, notes: [{ type: 'log', decided: ['a'] }] },
  ];
}

describe('wire replay: a restart from what the disk held', () => {
  it("explains a leader that restarted without the proposal whose commit left before the flush", () => {
    // On disk before the flush: slot 1 decided, no proposal pending (state learned).
    expect(replayWire(consensus, paxos, 3, warmLeader('learned')).divergences).toEqual([]);
  });

  it('explains a node that restarted without a decision it learned quietly, and one that kept it', () => {
    expect(replayWire(consensus, paxos, 3, run('idle', [])).divergences).toEqual([]);
    expect(replayWire(consensus, paxos, 3, run('learned', ['w'])).divergences).toEqual([]);
  });

  it('does not explain a log the node never held (the check above is not vacuous)', () => {
    expect(replayWire(consensus, paxos, 3, run('learned', ['x'])).divergences).not.toEqual([]);
    expect(replayWire(consensus, paxos, 3, warmLeader('idle')).divergences).not.toEqual([]);
  });
});
