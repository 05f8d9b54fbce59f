/**
 * Consensus properties on hand-built worlds: each holds on a good history and fails on the
 * history it exists to reject (validity and integrity have no buggy variant of their own).
 */
import { describe, expect, it } from 'vitest';
import { agreement, aValueIsDecided, clientIsToldTheDecidedValue, commitFollowsPromises, decideAppliesTheDecision, decidedStaysChosen, everyNodeLearns, everyProposerDecides, everyRequestIsAnswered, integrity, termNeverDecreases, validity } from '../invariants/consensus.js';
import type { ConsensusContext } from '../machines/consensus/machine.js';
import type { ConsensusNote } from '../machines/consensus/messages.js';
import type { GhostNote, NodeView, WorldView } from '../src/protocol.js';

type View = WorldView<ConsensusContext, ConsensusNote>;

const node = (id: number, context: Partial<ConsensusContext> = {}, up = true): NodeView<ConsensusContext> => ({
  id,
  state: 'idle',
  up,
  context: { id, n: 3, promised: 0, accepted: [], log: [], proposal: null, term: 0, slot: 0, value: null, promises: [], highest: [], acks: [], ...context },
});

const world = (history: GhostNote<ConsensusNote>[], nodes = [node(1), node(2), node(3)]): View => ({ n: 3, nodes, history, inFlight: [], quiescent: true });

const proposed = (node: number, value: string, slot = 1): GhostNote<ConsensusNote> => ({ node, note: { type: 'proposed', slot, value } });
const applied = (node: number, term: number, value: string, slot = 1): GhostNote<ConsensusNote> => ({ node, note: { type: 'applied', slot, term, value } });
const decided = (node: number, term: number, value: string, slot = 1): GhostNote<ConsensusNote> => ({ node, note: { type: 'decided', slot, term, value } });
const held = (value: string, term: number, slot = 1) => [{ slot, term, value }];
const mine = (value: string, slot = 1) => ({ slot, value });
const promisedNote = (node: number, term: number): GhostNote<ConsensusNote> => ({ node, note: { type: 'promised', term } });

describe('consensus properties', () => {
  const good = [proposed(1, 'a'), proposed(2, 'b'), decided(1, 1, 'a'), applied(1, 1, 'a'), applied(3, 1, 'a')];

  it('hold on a history in which one proposed value is decided and applied once per node', () => {
    for (const p of [agreement, validity, integrity, aValueIsDecided]) expect(p.holds(world(good)), p.name).toBe(true);
  });

  it('agreement fails when two nodes apply different values for one slot, not for two slots', () => {
    expect(agreement.holds(world([...good, applied(2, 2, 'b')]))).toBe(false);
    expect(agreement.holds(world([...good, proposed(2, 'b', 2), applied(2, 2, 'b', 2), decided(2, 2, 'b', 2)]))).toBe(true);
    expect(agreement.holds(world([...good, proposed(2, 'b', 2), applied(2, 2, 'b', 2), applied(3, 5, 'c', 2)]))).toBe(false);
  });

  it('validity fails when a value nobody proposed for its slot is applied there', () => {
    expect(validity.holds(world([...good, applied(2, 1, 'c')]))).toBe(false);
    // 'b' was proposed for slot 1, not slot 2.
    expect(validity.holds(world([...good, applied(2, 2, 'b', 2)]))).toBe(false);
  });

  it('integrity fails when a node applies twice for one slot, even the same value in another term', () => {
    expect(integrity.holds(world([...good, applied(3, 4, 'a')]))).toBe(false);
    expect(integrity.holds(world([...good, decided(1, 4, 'a')]))).toBe(false);
    expect(integrity.holds(world([...good, proposed(1, 'c', 2), decided(1, 1, 'c', 2), applied(1, 1, 'c', 2)]))).toBe(true);
  });

  it('a node that decides applies that decision fails when a node that learned decides again', () => {
    expect(decideAppliesTheDecision.holds(world(good))).toBe(true);
    // Node 3 applied the value of term 1 from a decided, then ran term 3 of its own.
    expect(decideAppliesTheDecision.holds(world([...good, decided(3, 3, 'a')]))).toBe(false);
  });

  it('every client request is answered fails when a node that received a request noted no answer', () => {
    const told = (node: number, value: string | null, proposal: string): GhostNote<ConsensusNote> => ({ node, note: { type: 'decision', slot: 1, value, proposal } });
    // Nodes 1 and 2 took their proposals; node 3 was asked once the decision was known.
    const asked = [{ ...node(1), requests: 1 }, { ...node(2), requests: 1 }, { ...node(3), requests: 1 }];
    expect(everyRequestIsAnswered.holds(world([...good, told(3, 'a', 'c')], asked))).toBe(true);
    expect(everyRequestIsAnswered.holds(world(good, asked))).toBe(false);
    // Two proposals at node 1, one answered: the answers name the values they answer.
    const twice = [{ ...node(1), requests: 2 }, node(2), node(3)];
    expect(everyRequestIsAnswered.holds(world([...good, told(1, 'a', 'a')], twice))).toBe(false);
    expect(everyRequestIsAnswered.holds(world([...good, proposed(1, 'a-2', 2)], twice))).toBe(true);
    // A read is answered by the log.
    const read = [node(1), node(2), { ...node(3), requests: 1 }];
    expect(everyRequestIsAnswered.holds(world([...good, { node: 3, note: { type: 'log', decided: ['a'] } }], read))).toBe(true);
    // Where requests are not counted (a real trace), nothing is judged.
    expect(everyRequestIsAnswered.holds(world([]))).toBe(true);
  });

  it('a client is told the decided value fails when it is told a value nobody decided for the slot', () => {
    const told = (value: string | null, slot = 1): GhostNote<ConsensusNote> => ({ node: 2, note: { type: 'decision', slot, value, proposal: 'b' } });
    const log = (decided: (string | null)[]): GhostNote<ConsensusNote> => ({ node: 3, note: { type: 'log', decided } });
    expect(clientIsToldTheDecidedValue.holds(world([...good, told('a'), told(null), log(['a', null])]))).toBe(true);
    expect(clientIsToldTheDecidedValue.holds(world([...good, told('b')]))).toBe(false);
    // 'a' is decided for slot 1, not slot 2.
    expect(clientIsToldTheDecidedValue.holds(world([...good, told('a', 2)]))).toBe(false);
    expect(clientIsToldTheDecidedValue.holds(world([...good, log([null, 'a'])]))).toBe(false);
  });

  it('term never decreases fails when a node, up or restarted, holds a lower promise than it noted', () => {
    const promised = [{ node: 2, note: { type: 'promised', term: 2 } } as GhostNote<ConsensusNote>];
    expect(termNeverDecreases.holds(world(promised, [node(1), node(2, { promised: 2 }), node(3)]))).toBe(true);
    expect(termNeverDecreases.holds(world(promised, [node(1), node(2, { promised: 1 }), node(3)]))).toBe(false);
    // A down node is seen through its durable context: a promise missing from it counts as 0.
    expect(termNeverDecreases.holds(world(promised, [node(1), { ...node(2), up: false, context: { accepted: [] } as never }, node(3)]))).toBe(false);
  });

  it('every proposer decides fails while an up proposer holds no value for its slot, and ignores down nodes', () => {
    expect(everyProposerDecides.holds(world([], [node(1, { proposal: mine('a') }), node(2), node(3)]))).toBe(false);
    expect(everyProposerDecides.holds(world([applied(1, 1, 'a')], [node(1, { proposal: mine('a'), log: ['a'] }), node(2), node(3)]))).toBe(true);
    // Slot 1 is known, but the proposal is for slot 2.
    expect(everyProposerDecides.holds(world([applied(1, 1, 'a')], [node(1, { proposal: mine('b', 2), log: ['a'] }), node(2), node(3)]))).toBe(false);
    expect(everyProposerDecides.holds(world([], [node(1, { proposal: mine('a') }, false), node(2), node(3)]))).toBe(true);
  });

  it('a node learns by holding the value and applying it: a value held but never applied is not learned', () => {
    const learned = [node(1, { proposal: mine('a'), log: ['a'] }), node(2, { log: ['a'] }), node(3, { log: ['a'] })];
    expect(everyProposerDecides.holds(world([], learned))).toBe(false);
    expect(everyNodeLearns.holds(world([applied(1, 1, 'a'), applied(2, 1, 'a')], learned))).toBe(false);
    expect(everyNodeLearns.holds(world([applied(1, 1, 'a'), applied(2, 1, 'a'), applied(3, 1, 'a')], learned))).toBe(true);
  });

  it('every node learns, slot by slot: a slot some proposer decided is learned by every up node', () => {
    const history = [applied(1, 1, 'a'), applied(2, 1, 'a'), applied(3, 1, 'a'), decided(1, 1, 'b', 2), applied(1, 1, 'b', 2)];
    const nodes = [node(1, { log: ['a', 'b'] }), node(2, { log: ['a'] }), node(3, { log: ['a'] })];
    expect(everyNodeLearns.holds(world(history, nodes))).toBe(false);
    const all = [...history, applied(2, 1, 'b', 2), applied(3, 1, 'b', 2)];
    expect(everyNodeLearns.holds(world(all, [node(1, { log: ['a', 'b'] }), node(2, { log: ['a', 'b'] }), node(3, { log: ['a', 'b'] })]))).toBe(true);
  });

  it('a decided value stays chosen: a majority holds it accepted in its term or later, or applied it', () => {
    const history = [decided(1, 4, 'a')];
    const holding = (a: number, b: number) => [node(1, { accepted: held('a', a) }), node(2, { accepted: held('a', b) }), node(3, { accepted: held('b', 5) })];
    expect(decidedStaysChosen.holds(world(history, holding(4, 7)))).toBe(true);
    // Accepted in an earlier term than the decision: not chosen in it.
    expect(decidedStaysChosen.holds(world(history, holding(4, 1)))).toBe(false);
    // A later proposer overrode it on one of the two.
    expect(decidedStaysChosen.holds(world(history, [node(1, { accepted: held('a', 4) }), node(2, { accepted: held('b', 5) }), node(3)]))).toBe(false);
    // Held for another slot is not held for the decided one.
    expect(decidedStaysChosen.holds(world(history, [node(1, { accepted: held('a', 4) }), node(2, { accepted: held('a', 4, 2) }), node(3)]))).toBe(false);
    // Applied (the seed's flow applies on commit) counts as holding it.
    expect(decidedStaysChosen.holds(world(history, [node(1, { log: ['a'] }), node(2, { log: ['a'] }), node(3)]))).toBe(true);
  });

  it("a commit follows a majority's promises: a value accepted in a term that fewer than a majority promised fails", () => {
    const accepting = [node(1, { accepted: held('a', 4) }), node(2, { accepted: held('a', 4) }), node(3)];
    expect(commitFollowsPromises.holds(world([promisedNote(1, 4), promisedNote(2, 4)], accepting))).toBe(true);
    // Promises of another term, or of the term by one node alone, do not make a majority.
    expect(commitFollowsPromises.holds(world([promisedNote(1, 4), promisedNote(2, 1), promisedNote(3, 7)], accepting))).toBe(false);
    // Nothing is promised in term 0: a commit of term 0 follows no promise.
    expect(commitFollowsPromises.holds(world([], [node(1), node(2), node(3, { accepted: held('b', 0) })]))).toBe(false);
    // Every slot's acceptance is judged: one of term 7, promised by nobody, fails.
    expect(commitFollowsPromises.holds(world([promisedNote(1, 4), promisedNote(2, 4)], [node(1, { accepted: [...held('a', 4), ...held('c', 7, 2)] }), node(2, { accepted: held('a', 4) }), node(3)]))).toBe(false);
    // A down node is seen through its durable context.
    expect(commitFollowsPromises.holds(world([promisedNote(1, 4)], [node(1), node(2), { ...node(3), up: false, context: { accepted: held('a', 4) } as never }]))).toBe(false);
  });

  it('a value is decided fails on a history without a decision', () => {
    expect(aValueIsDecided.holds(world([proposed(1, 'a'), applied(2, 1, 'a')]))).toBe(false);
  });
});
