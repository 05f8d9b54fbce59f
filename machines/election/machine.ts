/**
 * Leader election, one machine per node: Raft's election (Ongaro & Ousterhout 2014, §5.2) with
 * PreVote (Ongaro's thesis §9.6) and a small replicated value.
 *
 * - follower → (election timeout) → precandidate: asks for pre-votes for term+1 without changing
 *   its term. Only with a majority of pre-votes does it become a candidate, bump its term and ask
 *   for real votes. So a node cut off in a minority keeps its term, and when the partition heals
 *   it accepts the existing leader (`accept_leader`, the seed's step_down) instead of forcing a
 *   new election.
 * - A node grants at most one vote per term (`votedFor`, durable), only to a candidate whose
 *   value is at least as new as its own, and grants pre-votes only while it follows no leader.
 * - Any vote or heartbeat message with a higher term makes a node adopt it and follow (§5.1).
 * - The leader heartbeats (`leader_announce`); followers answer `leader_ack` with their version,
 *   and the leader sends `state_sync` to a follower behind it (the seed's `sync_recovery`).
 *
 * - Counters are bounded (src/bounds.ts): a message carrying a term or version outside
 *   [0, MAX_COUNTER] is ignored (`inBound`), whatever the transport let through. A node that
 *   adopted a term of 2^53 could never campaign again (2^53 + 1 === 2^53 in a JavaScript
 *   number), and every node that heard of that term would follow it: one frame would leave the
 *   cluster leaderless for good.
 *
 * `currentTerm`, `votedFor` and the replicated value are durable; the rest is volatile.
 * Options build the named variants, correct and buggy (see variants.ts).
 */
import { isCounter } from '../../src/bounds.js';
import { majority } from '../../src/quorum.js';
import { assign, cancel, emit, enqueueActions, raise, setup } from 'xstate';
import type { NodeId, NodeInput } from '../../src/protocol.js';
import type { ElectionData, ElectionEvent, ElectionMessage, ElectionNote } from './messages.js';

export const ELECTION_TIMEOUT_MS = 150;
export const HEARTBEAT_MS = 50;

export interface ElectionContext {
  id: NodeId;
  n: number;
  currentTerm: number;
  votedFor: NodeId | null;
  data: ElectionData;
  /** The leader this node follows in currentTerm, if any. */
  leader: NodeId | null;
  /** Pre-votes or votes received in the current campaign, sorted. */
  votes: NodeId[];
}

export interface ElectionDurable {
  currentTerm: number;
  votedFor?: NodeId | null;
  data: ElectionData;
}

export interface ElectionOptions {
  /** Campaign with PreVote first (§9.6). */
  preVote: boolean;
  /** Refuse a second vote in the same term. Off: the `vote-twice` bug. */
  checkVotedFor: boolean;
  /** Count each voter once. Off: the `count-duplicates` bug. */
  dedupeVotes: boolean;
  /** Votes that win an election: a majority, or more than a majority (the `quorum-above-majority` bug). */
  quorum?: 'majority' | 'above-majority';
  /** A precandidate forgets the leader it followed. Off: the `keep-old-leader` bug. */
  precandidateForgetsLeader?: boolean;
  /** Only a granted pre-vote counts. Off: the `prevote-ignores-granted` bug. */
  preVoteNeedsGrant?: boolean;
  /** A pre-vote is granted only while following no leader. Off: the `prevote-despite-leader` bug. */
  preVoteNeedsNoLeader?: boolean;
  /** A follower's timeout starts a pre-vote (with `preVote`). Off: the `timeout-to-candidate` bug. */
  followerPreVotes?: boolean;
  /**
   * A refused pre-vote names the responder's term, and a requester behind it adopts that term.
   * Off: the `prevote-refusal-termless` bug, where two nodes can refuse each other for ever.
   */
  preVoteRefusalTerm?: boolean;
}

export type ElectionEmitted = { type: 'send'; to: NodeId | 'others'; msg: ElectionMessage } | { type: 'note'; note: ElectionNote };

const send = (to: NodeId | 'others', msg: ElectionMessage): ElectionEmitted => ({ type: 'send', to, msg });
const note = (fact: ElectionNote): ElectionEmitted => ({ type: 'note', note: fact });

/** A message's term, or -1 for events without one. */
const termOf = (event: ElectionEvent) => ('term' in event ? event.term : -1);
const fromOf = (event: ElectionEvent) => ('from' in event ? event.from : 0);
/** Every term and version the event carries is a counter a node may adopt (src/bounds.ts). */
const inBound = (event: ElectionEvent) =>
  (!('term' in event) || isCounter(event.term)) &&
  (!('version' in event) || isCounter(event.version)) &&
  (event.type !== 'state_sync' || isCounter(event.data.version));

export function electionMachine(options: ElectionOptions, machineId = 'election') {
  const addVote = (votes: NodeId[], from: NodeId) =>
    options.dedupeVotes && votes.includes(from) ? votes : [...votes, from].sort((a, b) => a - b);
  const wins = (votes: number, n: number) => (options.quorum === 'above-majority' ? votes > majority(n) : votes >= majority(n));
  /**
   * A pre-vote for the term this node would campaign in: granted for that term. (The
   * `prevote-ignores-granted` bug also counts a refusal from a node no further in term, the
   * refusals a node cut off gets back from a majority that follows a leader.)
   */
  const preVoteFor = (context: ElectionContext, event: ElectionEvent) =>
    event.type === 'pre_vote' &&
    (event.granted ? event.term === context.currentTerm + 1 : options.preVoteNeedsGrant === false && event.term <= context.currentTerm);

  return setup({
    types: {
      context: {} as ElectionContext,
      events: {} as ElectionEvent,
      input: {} as NodeInput<ElectionDurable>,
      emitted: {} as ElectionEmitted,
    },
    guards: {
      /** §5.1: a higher term in a vote or heartbeat message (pre-vote terms are prospective). */
      higherTerm: ({ context, event }) => inBound(event) && termOf(event) > context.currentTerm,
      /** The message's counters are within the wire's bounds; a message outside them is ignored. */
      inBound: ({ event }) => inBound(event),
      /** A heartbeat of this node's own term: its sender is the term's leader. */
      fromCurrentLeaderTerm: ({ context, event }) => termOf(event) === context.currentTerm,
      /** A granted pre-vote for the term this node would campaign in, which with those already counted makes a majority. */
      preVoteMajority: ({ context, event }) => preVoteFor(context, event) && wins(addVote(context.votes, fromOf(event)).length, context.n),
      /** A granted pre-vote for the term this node would campaign in (not yet a majority). */
      preVoteCounts: ({ context, event }) => preVoteFor(context, event),
      /**
       * A refused pre-vote carrying the responder's term, higher than this node's (§5.1 as etcd
       * applies it to PreVote): a node whose pre-votes are refused for a term it never saw would
       * otherwise never learn it, and ask for that same term forever.
       */
      refusalHigherTerm: ({ context, event }) =>
        event.type === 'pre_vote' && inBound(event) && !event.granted && event.term > context.currentTerm,
      /** A granted vote in this node's term, which with those already counted (its own included) makes a majority. */
      voteMajority: ({ context, event }) =>
        event.type === 'vote' && event.granted && event.term === context.currentTerm &&
        wins(addVote(context.votes, event.from).length, context.n),
      /** A granted vote in this node's term (not yet a majority). */
      voteCounts: ({ context, event }) => event.type === 'vote' && event.granted && event.term === context.currentTerm,
      /** A follower's ack of this term shows a version older than the leader's. */
      followerBehind: ({ context, event }) =>
        event.type === 'leader_ack' && event.term === context.currentTerm && event.version < context.data.version,
      /** A state sync from a term no older than this node's (within bounds). */
      syncNotStale: ({ context, event }) => event.type === 'state_sync' && inBound(event) && event.term >= context.currentTerm,
    },
    actions: {
      /** Arms (or re-arms) the election timeout. */
      armElectionTimer: raise({ type: 'election_timeout' }, { delay: ELECTION_TIMEOUT_MS, id: 'election' }),
      /** The leader needs no election timeout. */
      cancelElectionTimer: cancel('election'),
      /** Arms the next heartbeat. */
      armHeartbeat: raise({ type: 'heartbeat' }, { delay: HEARTBEAT_MS, id: 'heartbeat' }),
      /** A node that stops leading stops heartbeating. */
      cancelHeartbeat: cancel('heartbeat'),
      /** Adopts the message's higher term: no vote cast in it, no leader known, no votes counted. */
      adoptTerm: enqueueActions(({ event, enqueue }) => {
        enqueue.assign({ currentTerm: termOf(event), votedFor: null, leader: null, votes: [] });
        enqueue.emit(note({ type: 'term', term: termOf(event) }));
      }),
      /** RequestVote handler (§5.2, §5.4.1): one vote per term, to an up-to-date candidate. */
      answerVote: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'vote_request') return;
        const free = !options.checkVotedFor || context.votedFor === null || context.votedFor === event.from;
        const granted = event.term === context.currentTerm && free && event.version >= context.data.version;
        if (granted) {
          enqueue.assign({ votedFor: event.from });
          enqueue.emit(note({ type: 'voted', term: context.currentTerm, for: event.from }));
          enqueue.raise({ type: 'election_timeout' }, { delay: ELECTION_TIMEOUT_MS, id: 'election' });
        }
        enqueue.emit(send(event.from, { type: 'vote', term: context.currentTerm, granted }));
      }),
      /**
       * PreVote handler (§9.6): no state changes; refuse while following a live leader. A grant
       * names the term asked for; a refusal names this node's own term, so a requester behind it
       * learns the term.
       */
      answerPreVote: emit(({ context, event }) => {
        const e = event as Extract<ElectionEvent, { type: 'pre_vote_request' }>;
        const granted = e.term > context.currentTerm && e.version >= context.data.version && (context.leader === null || options.preVoteNeedsNoLeader === false);
        const term = granted || options.preVoteRefusalTerm === false ? e.term : context.currentTerm;
        return send(e.from, { type: 'pre_vote', term, granted });
      }),
      /** Follows the heartbeat's sender as leader of the current term (noted when it is new). */
      follow: enqueueActions(({ context, event, enqueue }) => {
        if (context.leader === fromOf(event)) return;
        enqueue.assign({ leader: fromOf(event) });
        enqueue.emit(note({ type: 'accept_leader', term: context.currentTerm, leader: fromOf(event) }));
      }),
      /** Answers a heartbeat with this node's term and version, so a stale leader steps down and a leader sees who is behind. */
      ack: emit(({ context, event }) => send(fromOf(event), { type: 'leader_ack', term: context.currentTerm, version: context.data.version })),
      /** Takes the leader's value when it is newer than this node's. */
      applySync: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'state_sync' || event.data.version <= context.data.version) return;
        enqueue.assign({ data: event.data });
        enqueue.emit(note({ type: 'synced', term: context.currentTerm, version: event.data.version }));
      }),
      /** Asks the others for pre-votes for term + 1, counting its own, without changing its term. */
      startPreVote: enqueueActions(({ context, enqueue }) => {
        enqueue.assign({ votes: [context.id], leader: options.precandidateForgetsLeader === false ? context.leader : null });
        enqueue.emit(send('others', { type: 'pre_vote_request', term: context.currentTerm + 1, version: context.data.version }));
      }),
      /** Campaigns: bumps its term, votes for itself and asks the others for votes. */
      startElection: enqueueActions(({ context, enqueue }) => {
        const term = context.currentTerm + 1;
        enqueue.assign({ currentTerm: term, votedFor: context.id, votes: [context.id], leader: null });
        enqueue.emit(note({ type: 'term', term }));
        enqueue.emit(note({ type: 'voted', term, for: context.id }));
        enqueue.emit(send('others', { type: 'vote_request', term, version: context.data.version }));
      }),
      /** Forgets the votes of an earlier campaign. */
      forgetVotes: assign({ votes: [] }),
      /** Counts the sender's (pre-)vote, once per voter. */
      countVote: assign({ votes: ({ context, event }) => addVote(context.votes, fromOf(event)) }),
      /** Leads the term it won, noting the voters. */
      becomeLeader: enqueueActions(({ context, enqueue }) => {
        enqueue.assign({ leader: context.id });
        enqueue.emit(note({ type: 'elected', term: context.currentTerm, votes: context.votes }));
      }),
      /** Heartbeats every other node with its term and version. */
      announce: emit(({ context }) => send('others', { type: 'leader_announce', term: context.currentTerm, version: context.data.version })),
      /** Sends its value to the follower behind it. */
      sync: emit(({ context, event }) => send(fromOf(event), { type: 'state_sync', term: context.currentTerm, data: context.data })),
      /** A write at a node that is not the leader: refused, naming the leader it follows. */
      redirect: emit(({ context }) => note({ type: 'not_leader', term: context.currentTerm, leader: context.leader })),
      /** A read, at any node: the value as this node holds it. */
      report: emit(({ context }) => note({ type: 'value', term: context.currentTerm, version: context.data.version, value: context.data.value, leader: context.leader })),
      /** Writes the client's value as the next version. */
      write: enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'client.set') return;
        const data = { version: context.data.version + 1, value: event.value };
        enqueue.assign({ data });
        enqueue.emit(note({ type: 'written', term: context.currentTerm, version: data.version }));
      }),
    },
  }).createMachine({
    id: machineId,
    context: ({ input }) => ({
      id: input.id,
      n: input.n,
      currentTerm: input.restored?.currentTerm ?? 0,
      votedFor: input.restored?.votedFor ?? null,
      data: input.restored?.data ?? { version: 0, value: null },
      leader: null,
      votes: [],
    }),
    initial: 'follower',
    on: {
      vote_request: [
        { guard: 'higherTerm', target: '.follower', reenter: true, actions: ['adoptTerm', 'answerVote'] },
        { guard: 'inBound', actions: 'answerVote' },
      ],
      pre_vote_request: { guard: 'inBound', actions: 'answerPreVote' },
      ...(options.preVoteRefusalTerm === false ? {} : { pre_vote: { guard: 'refusalHigherTerm', target: '.follower', reenter: true, actions: 'adoptTerm' } }),
      vote: { guard: 'higherTerm', target: '.follower', reenter: true, actions: 'adoptTerm' },
      leader_ack: { guard: 'higherTerm', target: '.follower', reenter: true, actions: 'adoptTerm' },
      leader_announce: [
        { guard: 'higherTerm', target: '.follower', reenter: true, actions: ['adoptTerm', 'follow', 'ack'] },
        { guard: 'fromCurrentLeaderTerm', target: '.follower', reenter: true, actions: ['follow', 'ack'] },
        // A stale leader learns our higher term from the ack and steps down.
        { actions: 'ack' },
      ],
      state_sync: { guard: 'syncNotStale', actions: 'applySync' },
      // Only the leader writes (its own handler takes precedence); everyone else says whom to ask.
      'client.set': { actions: 'redirect' },
      'client.get': { actions: 'report' },
    },
    states: {
      follower: {
        entry: ['armElectionTimer', 'forgetVotes'],
        on: { election_timeout: options.preVote && options.followerPreVotes !== false ? 'precandidate' : 'candidate' },
      },
      precandidate: {
        entry: ['armElectionTimer', 'startPreVote'],
        on: {
          pre_vote: [
            { guard: 'preVoteMajority', target: 'candidate' },
            { guard: 'preVoteCounts', actions: 'countVote' },
          ],
          election_timeout: { target: 'precandidate', reenter: true },
        },
      },
      candidate: {
        entry: ['armElectionTimer', 'startElection'],
        on: {
          vote: [
            { guard: 'higherTerm', target: 'follower', actions: 'adoptTerm' },
            { guard: 'voteMajority', target: 'leader', actions: 'countVote' },
            { guard: 'voteCounts', actions: 'countVote' },
          ],
          election_timeout: options.preVote ? 'precandidate' : { target: 'candidate', reenter: true },
        },
      },
      leader: {
        entry: ['cancelElectionTimer', 'becomeLeader', 'announce', 'armHeartbeat'],
        exit: 'cancelHeartbeat',
        on: {
          heartbeat: { actions: ['announce', 'armHeartbeat'] },
          leader_ack: [
            { guard: 'higherTerm', target: 'follower', actions: 'adoptTerm' },
            { guard: 'followerBehind', actions: 'sync' },
          ],
          'client.set': { actions: ['write', 'announce'] },
        },
      },
    },
  });
}

/** The durable part of a context: what a restarted node resumes from. */
export function electionDurable(context: ElectionContext): ElectionDurable {
  return { currentTerm: context.currentTerm, votedFor: context.votedFor, data: context.data };
}
