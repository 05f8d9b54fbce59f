/** The leader election primitive: machine, variants, properties and model defaults. */
import { assign, emit, enqueueActions } from 'xstate';
import { isCounter } from '../../src/bounds.js';
import { lazyVariants } from '../../src/lazy-variants.js';
import type { Protocol, Variant } from '../../src/protocol.js';
import { electionProperties } from '../../invariants/election.js';
import { electionDurable, electionMachine, type ElectionContext } from './machine.js';
import type { ElectionEvent, ElectionMessage, ElectionNote } from './messages.js';

const correct = { preVote: true, checkVotedFor: true, dedupeVotes: true };
const DISRUPTS = 'a rejoining minority does not disrupt the leader';
const FAULT_TOLERANCE = 'a leader despite a minority down';
/** The smallest model in which a leader takes a write: one write, terms <= 1. */
const ONE_WRITE = { params: { writes: 1 }, maxRound: 1 };

/**
 * The verified machine with one named action done wrong (xstate's `provide`): a bug at one
 * place, as a mutant is, without an option in the machine for it.
 */
const withAction = (name: string, action: unknown) =>
  electionMachine(correct).provide({ actions: { [name]: action } } as Parameters<ReturnType<typeof electionMachine>['provide']>[0]);
const setValue = (event: ElectionEvent) => (event.type === 'client.set' ? event.value : null);
/** An action that updates the context, notes facts and asks every other node one message, each made from the context. */
const askOthers = (make: (c: ElectionContext) => { set: Partial<ElectionContext>; notes?: ElectionNote[]; msg: ElectionMessage }) =>
  enqueueActions(({ context, enqueue }) => {
    const { set, notes = [], msg } = make(context as ElectionContext);
    enqueue.assign(set);
    for (const note of notes) enqueue.emit({ type: 'note', note } as never);
    enqueue.emit({ type: 'send', to: 'others', msg } as never);
  });
/** The verified machine with one named guard done wrong. */
const withGuard = (name: string, guard: (args: { context: ElectionContext; event: ElectionEvent }) => boolean) =>
  electionMachine(correct).provide({ guards: { [name]: guard } } as Parameters<ReturnType<typeof electionMachine>['provide']>[0]);
/** Every counter the event carries is within the wire's bounds (the machine's own `inBound`). */
const countersInBound = (e: ElectionEvent) =>
  (!('term' in e) || isCounter(e.term)) && (!('version' in e) || isCounter(e.version)) && (e.type !== 'state_sync' || isCounter(e.data.version));

export const electionVariants: Variant[] = lazyVariants([
  {
    name: 'prevote',
    description: 'Raft election with PreVote: the verified default.',
    machine: () => electionMachine(correct),
    durable: electionDurable,
  },
  {
    name: 'no-prevote',
    description: 'Plain Raft election: safe, but a healed minority with an inflated term disrupts the leader.',
    breaks: DISRUPTS,
    machine: () => electionMachine({ ...correct, preVote: false }),
    durable: electionDurable,
  },
  {
    name: 'timeout-to-candidate',
    description: 'A follower that times out campaigns at once, skipping the pre-vote: a node cut off inflates its term.',
    breaks: DISRUPTS,
    machine: () => electionMachine({ ...correct, followerPreVotes: false }),
    durable: electionDurable,
  },
  {
    name: 'prevote-ignores-granted',
    description: 'A refused pre-vote counts as granted: a node cut off campaigns as soon as it hears back.',
    breaks: DISRUPTS,
    machine: () => electionMachine({ ...correct, preVoteNeedsGrant: false }),
    durable: electionDurable,
  },
  {
    name: 'prevote-despite-leader',
    description: 'Grants pre-votes while following a live leader: a returning node wins a pre-vote and deposes it.',
    breaks: DISRUPTS,
    machine: () => electionMachine({ ...correct, preVoteNeedsNoLeader: false }),
    durable: electionDurable,
  },
  {
    name: 'prevote-refusal-termless',
    description:
      'A refused pre-vote names the term asked for, not the responder\'s: a node behind in term but ahead in version and a node ahead in term but behind in version refuse each other for ever.',
    // And so, under every fault with a write (test/election-liveness.test.ts), no leader again.
    breaks: 'a pre-vote request changes nothing and is granted only for a later term to a node as up to date',
    machine: () => electionMachine({ ...correct, preVoteRefusalTerm: false }),
    durable: electionDurable,
  },
  {
    name: 'quorum-above-majority',
    description: 'Wins only with more votes than a majority (every node, of 3 or 4): one node down for good stops every election.',
    breaks: FAULT_TOLERANCE,
    machine: () => electionMachine({ ...correct, quorum: 'above-majority' }),
    durable: electionDurable,
  },
  {
    name: 'keep-old-leader',
    description: 'A precandidate keeps the leader it followed, so it refuses every pre-vote: once that leader is gone for good, nobody is elected.',
    breaks: FAULT_TOLERANCE,
    machine: () => electionMachine({ ...correct, precandidateForgetsLeader: false }),
    durable: electionDurable,
  },
  {
    name: 'write-keeps-version',
    description: 'A write replaces the value under the same version: every follower looks up to date and never gets it.',
    breaks: 'all nodes synced',
    reveal: ONE_WRITE,
    machine: () => withAction('write', enqueueActions(({ context, event, enqueue }) => {
      const { data, currentTerm } = context as ElectionContext;
      enqueue.assign({ data: { version: data.version, value: setValue(event as ElectionEvent) } });
      enqueue.emit({ type: 'note', note: { type: 'written', term: currentTerm, version: data.version } } as never);
    })),
    durable: electionDurable,
  },
  {
    name: 'write-not-applied',
    description: 'The leader acknowledges a write (`written`) and never applies it.',
    breaks: 'a leader keeps its writes',
    reveal: ONE_WRITE,
    machine: () => withAction('write', emit(({ context }: { context: ElectionContext }) =>
      ({ type: 'note', note: { type: 'written', term: context.currentTerm, version: context.data.version + 1 } }))),
    durable: electionDurable,
  },
  {
    name: 'leader-refuses-writes',
    description: 'The leader answers a write as a follower does, with `not_leader` naming itself.',
    breaks: 'only a node that does not lead refuses a write',
    reveal: ONE_WRITE,
    machine: () => withAction('write', emit(({ context }: { context: ElectionContext }) =>
      ({ type: 'note', note: { type: 'not_leader', term: context.currentTerm, leader: context.leader } }))),
    durable: electionDurable,
  },
  {
    name: 'silent-sync',
    description: "Takes the leader's newer value without noting it: nobody can tell where its version came from.",
    breaks: 'every version a node holds is noted',
    reveal: ONE_WRITE,
    machine: () => withAction('applySync', assign(({ context, event }: { context: ElectionContext; event: ElectionEvent }) =>
      (event.type === 'state_sync' && event.data.version > context.data.version ? { data: event.data } : {}))),
    durable: electionDurable,
  },
  {
    name: 'silent-term',
    description: 'Adopts a higher term without noting it: the history the term and vote properties read misses it.',
    breaks: 'every term a node holds is noted',
    machine: () => withAction('adoptTerm', assign(({ event }: { event: ElectionEvent }) =>
      ({ currentTerm: 'term' in event ? event.term : -1, votedFor: null, leader: null, votes: [] }))),
    durable: electionDurable,
  },
  {
    name: 'silent-election',
    description: 'Takes the lead without noting its election: one leader per term and the majority check never see it.',
    breaks: 'every leader noted its election',
    machine: () => withAction('becomeLeader', assign(({ context }: { context: ElectionContext }) => ({ leader: context.id }))),
    durable: electionDurable,
  },
  {
    name: 'refusal-term-ignored',
    description: 'A vote of a higher term (a refusal) sends a node back to follower without adopting that term: it learns the term late (Raft §5.1).',
    breaks: 'a node that sees a higher term adopts it and follows',
    machine: () => withAction('adoptTerm', enqueueActions(({ event, enqueue }) => {
      const e = event as ElectionEvent;
      if (e.type === 'vote' || !('term' in e)) return;
      enqueue.assign({ currentTerm: e.term, votedFor: null, leader: null, votes: [] });
      enqueue.emit({ type: 'note', note: { type: 'term', term: e.term } } as never);
    })),
    durable: electionDurable,
  },
  {
    name: 'no-same-term-vote',
    description: 'Answers only a vote request of a higher term: a node that learned the term from another message never votes in it (Raft §5.2).',
    breaks: 'a node votes for the first up-to-date candidate that asks',
    machine: () => withGuard('inBound', ({ event }) => event.type !== 'vote_request' && countersInBound(event)),
    durable: electionDurable,
  },
  {
    name: 'stale-leader-followed',
    description: "Follows a heartbeat of any term not above its own, an older one too: a node takes a deposed leader for the current one (Raft §5.2).",
    breaks: 'a heartbeat no older than a node makes it follow its sender',
    machine: () => withGuard('fromCurrentLeaderTerm', ({ context, event }) => 'term' in event && event.term <= context.currentTerm),
    durable: electionDurable,
  },
  {
    name: 'campaign-skips-term',
    description: 'A candidate campaigns two terms on from its own, not the next one its pre-vote asked for (Raft §5.2).',
    breaks: "a campaign is one term on, with the node's own vote, asking every other node",
    machine: () => withAction('startElection', askOthers(({ currentTerm, id, data }) => {
      const term = currentTerm + 2;
      return { set: { currentTerm: term, votedFor: id, votes: [id], leader: null }, notes: [{ type: 'term', term }, { type: 'voted', term, for: id }], msg: { type: 'vote_request', term, version: data.version } };
    })),
    durable: electionDurable,
  },
  {
    name: 'prevote-forgets-vote',
    description: 'A precandidate forgets the vote it cast in its term: asked again in that term, it votes a second time (thesis §9.6: a pre-vote changes nothing).',
    breaks: "a pre-vote asks every other node for the next term, the node's term and vote unchanged",
    machine: () => withAction('startPreVote', askOthers(({ currentTerm, id, data }) =>
      ({ set: { votes: [id], leader: null, votedFor: null }, msg: { type: 'pre_vote_request', term: currentTerm + 1, version: data.version } }))),
    durable: electionDurable,
  },
  {
    name: 'prevote-same-term',
    description: 'Grants a pre-vote for a term no later than its own: a node that missed an election is told it could win the term already held (thesis §9.6).',
    breaks: 'a pre-vote request changes nothing and is granted only for a later term to a node as up to date',
    machine: () => withAction('answerPreVote', emit(({ context, event }: { context: ElectionContext; event: ElectionEvent }) => {
      const e = event as Extract<ElectionEvent, { type: 'pre_vote_request' }>;
      const granted = e.term >= context.currentTerm && e.version >= context.data.version && context.leader === null;
      return { type: 'send', to: e.from, msg: { type: 'pre_vote', term: e.term, granted } } as never;
    })),
    durable: electionDurable,
  },
  {
    name: 'refused-vote-counted',
    description: 'A candidate counts a refused vote of its term as a voter: past 3 nodes, its tally reaches a majority early (Raft §5.2).',
    breaks: 'a candidate counts granted votes of its term, once each, and leads only on a majority',
    // Two candidates of one term refuse each other. A refused pre-vote teaches its requester the
    // refuser's term, so both get to campaign in term 1 only with 5 messages in flight.
    reveal: { maxRound: 1, maxInFlight: 5, maxDepth: 12 },
    machine: () => withGuard('voteCounts', ({ context, event }) => event.type === 'vote' && event.term === context.currentTerm),
    durable: electionDurable,
  },
  {
    name: 'vote-twice',
    description: 'Grants a vote without checking votedFor.',
    breaks: 'one vote per node per term',
    // Two candidates of term 1 (see refused-vote-counted): 5 messages in flight.
    reveal: { maxRound: 1, maxInFlight: 5, maxDepth: 12 },
    machine: () => electionMachine({ ...correct, checkVotedFor: false }),
    durable: electionDurable,
  },
  {
    name: 'volatile-vote',
    description: 'votedFor is not durable: after a restart the node votes again in the same term.',
    breaks: 'one vote per node per term',
    reveal: { faults: ['crash'], maxDepth: 0 },
    machine: () => electionMachine(correct),
    durable: (c: ElectionContext) => ({ currentTerm: c.currentTerm, data: c.data }),
  },
  {
    name: 'count-duplicates',
    description: 'Counts a duplicated vote message twice.',
    breaks: 'leader had a majority',
    // With 3 nodes, self plus one vote is already a majority: a duplicate changes nothing.
    reveal: { faults: ['dup'], nodes: 4, maxRound: 1, maxInFlight: 4, maxDepth: 0 },
    machine: () => electionMachine({ ...correct, dedupeVotes: false }),
    durable: electionDurable,
  },
]);

export const election: Protocol = {
  name: 'election',
  description: 'Leader election with terms and PreVote under partitions (Raft §5.2, §9.6).',
  variants: electionVariants,
  defaultVariant: 'prevote',
  properties: electionProperties,
  defaults: { nodes: 3, maxRound: 2, maxInFlight: 3, network: 'unordered', faults: [], params: { writes: 0 } },
  // A candidate's broadcast puts n - 1 messages in flight; past 3 nodes, one more lets replies start.
  defaultsFor: (n) => ({ maxInFlight: n <= 3 ? 3 : n + 1 }),
  params: { writes: { type: 'int', min: 0, max: 10, description: 'client writes the leader takes' } },
  faultBounds: { maxDepth: 11 },
  // Vote counting bites only past 3 nodes, where self plus one vote is no longer a majority.
  alsoCheck: [{ why: '4 nodes, terms ≤ 1, ≤ 4 in flight: self plus one vote is no longer a majority', config: { nodes: 4, maxRound: 1, maxInFlight: 4 } }],
  ghost: ['term', 'voted', 'elected', 'written', 'synced', 'not_leader'],
  symmetry: { idFields: ['id', 'votedFor', 'leader', 'votes', 'for'] },
  round: (c: ElectionContext) => c.currentTerm,
  refusals: ['not_leader'],
  timerJitter: { election: 2 },
  clients: (node, used, config) =>
    node.state === 'leader' && used < Number(config.params.writes ?? 0) ? [{ type: 'client.set', value: `v${used + 1}` }] : [],
  sampleEvents: (config) => {
    const events = [{ type: 'election_timeout' }, { type: 'heartbeat' }, { type: 'client.set', value: 'v1' }] as { type: string }[];
    for (let from = 2; from <= config.nodes; from++) {
      for (let term = 0; term <= 2; term++) {
        events.push({ type: 'pre_vote_request', term, version: 0, from } as never, { type: 'vote_request', term, version: 0, from } as never);
        events.push({ type: 'leader_announce', term, version: 0, from } as never, { type: 'leader_ack', term, version: 0, from } as never);
        events.push({ type: 'state_sync', term, data: { version: 1, value: 'v1' }, from } as never);
        for (const granted of [true, false]) events.push({ type: 'pre_vote', term, granted, from } as never, { type: 'vote', term, granted, from } as never);
      }
    }
    return events;
  },
  types: { file: 'machines/election/messages.ts', message: 'ElectionMessage', client: 'ElectionClient', note: 'ElectionNote' },
};
