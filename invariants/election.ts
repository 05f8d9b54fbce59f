/**
 * Leader election properties. Safety speaks of the ghost history (every vote, election and term
 * a node ever noted), as TLA+ history variables do, not only of the current states.
 */
import { isCounter } from '../src/bounds.js';
import { majority, minority } from '../src/quorum.js';
import { notesOf } from '../src/notes-of.js';
import type { NodeView, Property, StepOutput, WorldView } from '../src/protocol.js';
import { stepProperty } from '../src/step-property.js';
import type { ElectionNote } from '../machines/election/messages.js';
import type { ElectionContext } from '../machines/election/machine.js';

type View = WorldView<ElectionContext, ElectionNote>;
const notes = <T extends ElectionNote['type']>(w: View, type: T) => notesOf<ElectionNote, T>(w, type);

/** Raft's Election Safety (Figure 3): at most one leader is ever elected in a term. */
export const oneLeaderPerTerm: Property<View> = {
  name: 'one leader per term',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const leaders = new Map<number, number>();
    for (const { node, note } of notes(w, 'elected')) {
      if ((leaders.get(note.term) ?? node) !== node) return false;
      leaders.set(note.term, node);
    }
    return true;
  },
};

export const oneVotePerNodePerTerm: Property<View> = {
  name: 'one vote per node per term',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const seen = new Set<string>();
    for (const { node, note } of notes(w, 'voted')) {
      const key = `${node}/${note.term}`;
      if (seen.has(key)) return false; // the history is a set: a second entry is a different vote
      seen.add(key);
    }
    return true;
  },
};

/** The highest term each node ever noted, per history (histories are shared between worlds). */
const highestTerms = new WeakMap<object, Map<number, number>>();
function highestTerm(w: View): Map<number, number> {
  let highest = highestTerms.get(w.history);
  if (!highest) {
    highest = new Map();
    for (const { node, note } of notes(w, 'term')) highest.set(node, Math.max(highest.get(node) ?? 0, note.term));
    highestTerms.set(w.history, highest);
  }
  return highest;
}

/** A node's term, including one restored after a crash, is never below a term it held before. */
export const termNeverDecreases: Property<View> = {
  name: 'term never decreases',
  kind: 'always',
  holds: (w) => {
    const highest = highestTerm(w);
    return w.nodes.every((v) => v.context.currentTerm >= (highest.get(v.id) ?? 0));
  },
};

/**
 * The history the safety properties read is complete: a node's term is the highest it noted
 * (entering a term, by campaign or by adopting it, is noted), and a leader noted its election.
 * A node that changed term or took the lead silently would make them vacuous.
 */
export const everyTermNoted: Property<View> = {
  name: 'every term a node holds is noted',
  kind: 'always',
  holds: (w) => {
    const highest = highestTerm(w);
    return w.nodes.every((v) => !v.up || v.context.currentTerm === (highest.get(v.id) ?? 0));
  },
};

const electedKeys = new WeakMap<object, Set<string>>();
export const everyLeaderNoted: Property<View> = {
  name: 'every leader noted its election',
  kind: 'always',
  holds: (w) => {
    let keys = electedKeys.get(w.history);
    if (!keys) electedKeys.set(w.history, (keys = new Set(notes(w, 'elected').map(({ node, note }) => `${node}/${note.term}`))));
    return w.nodes.every((v) => !v.up || v.state !== 'leader' || keys.has(`${v.id}/${v.context.currentTerm}`));
  },
};

/** Every election was won with votes from a majority of distinct nodes, each of which really voted for the winner. */
export const leaderHadMajority: Property<View> = {
  name: 'leader had a majority',
  kind: 'always',
  reads: 'history',
  holds: (w) => {
    const voted = new Set(notes(w, 'voted').map(({ node, note }) => `${node}/${note.term}/${note.for}`));
    return notes(w, 'elected').every(({ node, note }) => {
      const voters = new Set(note.votes.filter((v) => voted.has(`${v}/${note.term}/${node}`)));
      return voters.size >= majority(w.n);
    });
  },
};

/** A message as a step sees it: the fields the step properties read. */
type Received = { type: string; term?: number; version?: number; from?: number };
/**
 * Messages that carry their sender's current term: a pre-vote request's term is the one it would
 * campaign in (§9.6), and so is a granted pre-vote's; a refused pre-vote carries the refuser's.
 */
const CARRIES_TERM = new Set(['vote_request', 'vote', 'leader_announce', 'leader_ack']);
const carriesTerm = (e: Received & { granted?: boolean }) => CARRIES_TERM.has(e.type) || (e.type === 'pre_vote' && e.granted === false);
/** Every counter the message carries is within the wire's bounds (the machine ignores one that is not). */
const inBound = (e: Received) => isCounter(e.term) && (e.version === undefined || isCounter(e.version));

/**
 * Raft §5.1 (Figure 2, rules for all servers): "If RPC request or response contains term T >
 * currentTerm: set currentTerm = T, convert to follower". A node that receives a vote request,
 * a vote, a heartbeat, an ack or a refused pre-vote of a higher term is, after that step, a
 * follower in that term (etcd answers a refused pre-vote with the refuser's term for this: a
 * requester behind in term and ahead in version would otherwise ask for that term for ever).
 */
export const adoptsHigherTerm = stepProperty<ElectionContext, Received & { granted?: boolean }>('a node that sees a higher term adopts it and follows', (before, e, after) =>
  !carriesTerm(e) || !inBound(e) || e.term! <= before.context.currentTerm ||
  (after.context.currentTerm === e.term && after.state === 'follower'));

/**
 * Raft §5.2, Figure 2 (RequestVote, receiver): "If votedFor is null or candidateId, and
 * candidate's log is at least as up-to-date as receiver's log, grant vote" — first come, first
 * served. A node that has not voted in the request's term (a higher term it adopts, or its own
 * with no vote cast) or voted for this candidate, asked by a candidate whose value is at least
 * as new as its own, votes for it.
 */
export const votesFirstComeFirstServed = stepProperty<ElectionContext, Received>('a node votes for the first up-to-date candidate that asks', (before, e, after) => {
  const c = before.context;
  if (e.type !== 'vote_request' || !inBound(e) || e.term! < c.currentTerm) return true;
  const free = e.term! > c.currentTerm || c.votedFor === null || c.votedFor === e.from;
  return !free || e.version! < c.data.version || (after.context.currentTerm === e.term && after.context.votedFor === e.from);
});

/**
 * Raft §5.2: "If the leader's term is at least as large as the candidate's current term, then
 * the candidate recognizes the leader as legitimate and returns to follower state. If the term in
 * the RPC is smaller than the candidate's current term, then the candidate rejects the RPC", and
 * §5.1: current terms are exchanged whenever servers communicate. A heartbeat of a term no older
 * than the node's makes it a follower of its sender in that term (noting `accept_leader`, the
 * seed's step_down, when the leader or term is new to it); an older one changes nothing; every
 * heartbeat is answered with the node's term and version, so a stale leader steps down and a
 * leader sees who is behind.
 */
export const followsHeartbeatsOfItsTerm = stepProperty<ElectionContext, Received>('a heartbeat no older than a node makes it follow its sender', (before, e, after, out) => {
  if (e.type !== 'leader_announce' || !inBound(e)) return true;
  const b = before.context;
  const a = after.context;
  const answered = out.sends.some(({ to, msg }) => to === e.from && msg.type === 'leader_ack' && msg.term === a.currentTerm && msg.version === a.data.version);
  if (e.term! < b.currentTerm) return answered && after.state === before.state && a.leader === b.leader && a.currentTerm === b.currentTerm;
  const noted = (b.leader === e.from && b.currentTerm === e.term) ||
    out.notes.some((n: ElectionNote) => n.type === 'accept_leader' && n.term === e.term && n.leader === e.from);
  return answered && noted && after.state === 'follower' && a.leader === e.from && a.currentTerm === e.term;
});

/** The step asked every other node for `type` with this term and the node's version. */
const askedOthers = (out: StepOutput, type: string, term: number, version: number) =>
  out.sends.some(({ to, msg }) => to === 'others' && msg.type === type && msg.term === term && msg.version === version);

/**
 * Raft §5.2: "To begin an election, a follower increments its current term and transitions to
 * candidate state. It then votes for itself and issues RequestVote RPCs in parallel to each of
 * the other servers." A node that becomes a candidate (or, timing out as one, campaigns again) is
 * one term further, has voted for itself, counts its own vote only, and asks every other node.
 */
export const campaignsInTheNextTerm = stepProperty<ElectionContext, Received>('a campaign is one term on, with the node\'s own vote, asking every other node', (before, e, after, out) => {
  if (after.state !== 'candidate' || (before.state === 'candidate' && e.type !== 'election_timeout')) return true;
  const b = before.context;
  const a = after.context;
  return a.currentTerm === b.currentTerm + 1 && a.votedFor === a.id && a.votes.length === 1 && a.votes[0] === a.id && a.leader === null &&
    askedOthers(out, 'vote_request', a.currentTerm, a.data.version) &&
    out.notes.some((n: ElectionNote) => n.type === 'voted' && n.term === a.currentTerm && n.for === a.id);
});

/**
 * PreVote (Ongaro's thesis §9.6): a node whose election timer fires first asks every other node
 * whether it would vote for it in the next term, without changing its term. A precandidate
 * counts its own pre-vote only.
 */
export const preVotesForTheNextTerm = stepProperty<ElectionContext, Received>('a pre-vote asks every other node for the next term, the node\'s term and vote unchanged', (before, e, after, out) => {
  if (after.state !== 'precandidate' || (before.state === 'precandidate' && e.type !== 'election_timeout')) return true;
  const b = before.context;
  const a = after.context;
  return a.currentTerm === b.currentTerm && a.votedFor === b.votedFor && a.votes.length === 1 && a.votes[0] === a.id &&
    askedOthers(out, 'pre_vote_request', a.currentTerm + 1, a.data.version);
});

/** The node's term, vote, leader, votes and value are as they were. */
const unchanged = (b: ElectionContext, a: ElectionContext) =>
  a.currentTerm === b.currentTerm && a.votedFor === b.votedFor && a.leader === b.leader && a.data === b.data && a.votes.join() === b.votes.join();

/**
 * PreVote (thesis §9.6): a pre-vote request changes nothing at the node asked (the term in it is
 * only the one the sender would campaign in). A grant names that term, a refusal the node's own,
 * so that a requester behind it learns it. A pre-vote is granted only for a term above the node's
 * own, to a node whose value is at least as new (the conditions of a real vote, §5.2, §5.4.1).
 */
export const answersPreVotes = stepProperty<ElectionContext, Received & { granted?: boolean }>('a pre-vote request changes nothing and is granted only for a later term to a node as up to date', (before, e, after, out) => {
  if (e.type !== 'pre_vote_request' || !inBound(e)) return true;
  const b = before.context;
  const answers = out.sends.filter(({ to, msg }) => to === e.from && msg.type === 'pre_vote');
  const mayGrant = e.term! > b.currentTerm && e.version! >= b.data.version;
  const answer = answers[0]?.msg as { term: number; granted: boolean } | undefined;
  const named = answer?.granted ? answer.term === e.term && mayGrant : answer?.term === b.currentTerm;
  return after.state === before.state && unchanged(b, after.context) && answers.length === 1 && named;
});

/**
 * Raft §5.2: "A candidate wins an election if it receives votes from a majority of the servers
 * in the full cluster for the same term." A candidate counts a granted vote of its term, each
 * voter once, and leads (noting its election with those votes) only once they are a majority; a
 * refused vote or one of an older term changes nothing. (That a majority does make it lead is a
 * liveness matter: `quorum-above-majority` waits for more, and breaks fault tolerance.)
 */
export const countsVotesOfItsTerm = stepProperty<ElectionContext, Received & { granted?: boolean }>('a candidate counts granted votes of its term, once each, and leads only on a majority', (before, e, after, out) => {
  const b = before.context;
  if (before.state !== 'candidate' || e.type !== 'vote' || !inBound(e) || e.term! > b.currentTerm) return true;
  const counted = e.granted && e.term === b.currentTerm ? [...new Set([...b.votes, e.from!])].sort((x, y) => x - y) : b.votes;
  const a = after.context;
  if (after.state !== 'leader') return after.state === 'candidate' && a.votes.join() === counted.join() && a.currentTerm === b.currentTerm;
  return counted.length >= majority(b.n) && a.leader === a.id && out.notes.some((n: ElectionNote) => n.type === 'elected' && n.term === b.currentTerm && n.votes.join() === counted.join());
});

export const aLeaderIsElected: Property<View> = {
  name: 'a leader is elected',
  kind: 'sometimes',
  holds: (w) => w.nodes.some((v) => v.state === 'leader'),
};

/** Every up node follows the same leader in the same term, and that leader is up and leading. */
export const allAgreeOnLeader: Property<View> = {
  name: 'all nodes agree on leader and term',
  kind: 'eventually',
  holds: (w) => {
    const up = w.nodes.filter((v) => v.up);
    const leader = up.find((v) => v.state === 'leader');
    if (!leader) return false;
    return up.every((v) => v.context.leader === leader.id && v.context.currentTerm === leader.context.currentTerm);
  },
};

/** The seed's sync_recovery: every up node holds the leader's value, version and value alike. */
export const allNodesSynced: Property<View> = {
  name: 'all nodes synced',
  kind: 'eventually',
  holds: (w) => {
    const up = w.nodes.filter((v) => v.up);
    const leader = up.find((v) => v.state === 'leader');
    const { version, value } = leader?.context.data ?? {};
    return !!leader && up.every((v) => v.context.data.version === version && v.context.data.value === value);
  },
};

/**
 * A write the leader acknowledged (`written`) is in the value it holds for as long as it leads
 * that term: the state it syncs to the others is the one its clients were told about.
 */
export const leaderKeepsItsWrites: Property<View> = {
  name: 'a leader keeps its writes',
  kind: 'always',
  holds: (w) =>
    notes(w, 'written').every(({ node, note }) => {
      const v = w.nodes[node - 1];
      return !v.up || v.state !== 'leader' || v.context.currentTerm !== note.term || v.context.data.version >= note.version;
    }),
};

/**
 * Every version a node holds came to it by a write it noted or a sync it noted: no value from
 * nowhere, and the client whose write made it was told (`written`).
 */
export const everyVersionNoted: Property<View> = {
  name: 'every version a node holds is noted',
  kind: 'always',
  holds: (w) => {
    const noted = new Set([...notes(w, 'written'), ...notes(w, 'synced')].map(({ node, note }) => `${node}/${note.version}`));
    return w.nodes.every((v) => !v.up || v.context.data.version === 0 || noted.has(`${v.id}/${v.context.data.version}`));
  },
};

/** Only a node that does not lead refuses a write (`not_leader` names the leader it follows, never itself). */
export const onlyFollowersRefuseWrites: Property<View> = {
  name: 'only a node that does not lead refuses a write',
  kind: 'always',
  reads: 'history',
  holds: (w) => notes(w, 'not_leader').every(({ node, note }) => note.leader !== node),
};

/**
 * Raft's availability (§5, "available as long as any majority of the servers are operational
 * and can communicate"): with a minority of nodes down for good, crashed or cut off, the others
 * still elect a leader they all follow.
 */
export const leaderDespiteMinorityDown: Property<View> = {
  name: 'a leader despite a minority down',
  kind: 'eventually',
  tolerates: minority,
  holds: allAgreeOnLeader.holds,
};

/** The leader a majority of nodes follows in its term, if any. */
function stableLeader(w: View): NodeView<ElectionContext> | undefined {
  const leader = w.nodes.find((v) => v.up && v.state === 'leader');
  if (!leader) return undefined;
  const term = leader.context.currentTerm;
  const followers = w.nodes.filter((v) => v.up && v.context.leader === leader.id && v.context.currentTerm === term);
  return followers.length >= majority(w.n) ? leader : undefined;
}

/**
 * What PreVote is for (Ongaro's thesis §9.6; the seed's partition story): nodes cut off in a
 * minority, back after the others settled on a leader, do not depose it. The leader the majority
 * followed when the partition healed still leads, in the same term, and every node follows it.
 * A node whose campaign had begun before the cut, in a higher term or with (pre-)votes from the
 * other side already counted, may still win (it was not the cut that made it disrupt), so such a
 * rejoin proves nothing either way.
 */
export const rejoinDoesNotDisrupt: Property<View> = {
  name: 'a rejoining minority does not disrupt the leader',
  kind: 'eventually',
  tolerates: minority,
  rejoin: true,
  holds: (w, rejoin) => {
    const before = rejoin && stableLeader(rejoin.heal);
    if (!before) return true;
    const term = before.context.currentTerm;
    // Set in motion before the cut: a higher term, or (pre-)votes from the other side counted.
    const startedBeforeCut = (id: number) => {
      const c = rejoin.cut.nodes[id - 1].context;
      return c.currentTerm > term || c.votes.some((v) => !rejoin.nodes.includes(v));
    };
    if (rejoin.nodes.some(startedBeforeCut)) return true;
    const now = w.nodes[before.id - 1];
    return now.up && now.state === 'leader' && now.context.currentTerm === term &&
      w.nodes.every((v) => !v.up || (v.context.leader === before.id && v.context.currentTerm === term));
  },
};

export const electionProperties = [
  oneLeaderPerTerm,
  oneVotePerNodePerTerm,
  termNeverDecreases,
  everyTermNoted,
  everyLeaderNoted,
  leaderHadMajority,
  adoptsHigherTerm,
  votesFirstComeFirstServed,
  followsHeartbeatsOfItsTerm,
  campaignsInTheNextTerm,
  preVotesForTheNextTerm,
  answersPreVotes,
  countsVotesOfItsTerm,
  aLeaderIsElected,
  allAgreeOnLeader,
  allNodesSynced,
  leaderKeepsItsWrites,
  everyVersionNoted,
  onlyFollowersRefuseWrites,
  leaderDespiteMinorityDown,
  rejoinDoesNotDisrupt,
] as Property[];
