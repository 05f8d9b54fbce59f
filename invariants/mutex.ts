/**
 * Lamport mutex properties. Mutual exclusion and grant order speak of the nodes' current states;
 * fencing tokens speak of every grant ever made (the ghost history of `enter` notes); crash
 * recovery of the nodes that restart.
 */
import type { GhostNote, NodeView, Property, WorldView } from '../src/protocol.js';
import type { MutexContext } from '../machines/mutex/machine.js';
import type { MutexMessage, MutexNote } from '../machines/mutex/messages.js';

type View = WorldView<MutexContext, MutexNote>;

const holders = (w: View) => w.nodes.filter((v) => v.up && v.state === 'critical');
const waiters = (w: View) => w.nodes.filter((v) => v.up && v.state === 'waiting');
const grants = (w: View) => w.history.filter((h): h is GhostNote<Extract<MutexNote, { type: 'enter' }>> => h.note.type === 'enter');
/** The holder's own grant, as opposed to every other grant in the history. */
const isOwn = (h: NodeView<MutexContext>, g: GhostNote<{ ts: number }>) => g.node === h.id && g.note.ts === h.context.myTs;

/** The holder's request comes after that of every other grant, in (timestamp, id) order. */
const comesAfterEveryGrant = (granted: ReturnType<typeof grants>, h: NodeView<MutexContext>) =>
  granted.every((g) => isOwn(h, g) || g.note.ts < h.context.myTs! || (g.note.ts === h.context.myTs && g.node < h.id));

/** At most one node is in its critical section. */
export const mutualExclusion: Property<View> = {
  name: 'mutual exclusion',
  kind: 'always',
  holds: (w) => holders(w).length <= 1,
};

/**
 * Critical sections are entered in the (timestamp, id) order of their requests, Lamport's total
 * order: the holder's request comes after the request of every grant made before it.
 */
export const grantsFollowTimestampOrder: Property<View> = {
  name: 'grants follow timestamp order',
  kind: 'always',
  holds: (w) => holders(w).every((h) => comesAfterEveryGrant(grants(w), h)),
};

/**
 * The holder fences with a token, and it is higher than that of every other grant ever made (so
 * the resource, which keeps the highest token it saw, accepts the holder and nobody before it).
 */
export const fencingTokensIncrease: Property<View> = {
  name: 'fencing tokens increase',
  kind: 'always',
  holds: (w) => holders(w).every((h) => typeof h.context.token === 'number' && grants(w).every((g) => isOwn(h, g) || g.note.token < h.context.token!)),
};

/**
 * A grant is what the client waits for: the holder's `enter` note (with the token it fences
 * with) is in the history. A node that enters without it holds a lock nobody knows is taken.
 * Judged for a holder that comes after every other grant: the ghost summary (`latestGrants`)
 * keeps the last grant in (timestamp, id) order, so such a holder's own grant is kept if it was
 * ever noted. A holder that does not come after every grant breaks *grants follow timestamp
 * order* in the same world, which reports the run; judged here too, it would be reported as
 * untold only because the summary dropped its grant.
 */
export const holderWasToldOfItsGrant: Property<View> = {
  name: 'a holder was told of its grant',
  kind: 'always',
  holds: (w) => {
    const granted = grants(w);
    return holders(w).every((h) => !comesAfterEveryGrant(granted, h) || granted.some((g) => isOwn(h, g)));
  },
};

/**
 * What the properties above need of the grant history. A holder must come after every other
 * grant in (timestamp, id) order, so after the largest; its own grant, then the largest, must be
 * there. It must hold a larger token than every
 * grant but its own, so than the largest token among the others: the grants with the largest
 * token and, when one grant alone has it (it may be the holder's own), the grants with the
 * next largest (several, when tokens repeat, as the `local-token` bug makes them). The holder's
 * token is what its context says, not what its grant noted: a machine that notes one token and
 * keeps another is compared with the grant before its own. Every property gives the same verdict
 * on these grants as on all of them, now and after any later grant; the search then treats runs
 * that differ only in older grants as one world. With ordered tokens this is the last two grants.
 */
export function latestGrants(history: GhostNote[]): GhostNote[] {
  const entered = history.filter((h): h is Grant => h.note.type === 'enter');
  if (entered.length <= 2) return entered;
  const last = entered.reduce((a, b) => (b.note.ts > a.note.ts || (b.note.ts === a.note.ts && b.node > a.node) ? b : a));
  const tokens = [...new Set(entered.map((g) => g.note.token))].sort((a, b) => b - a);
  const top = entered.filter((g) => g.note.token === tokens[0]);
  const kept = top.length === 1 && tokens.length > 1 ? tokens.slice(0, 2) : tokens.slice(0, 1);
  return entered.filter((g) => g === last || kept.includes(g.note.token));
}

type Grant = GhostNote<Extract<MutexNote, { type: 'enter' }>>;

export const aCriticalSectionIsEntered: Property<View> = {
  name: 'a critical section is entered',
  kind: 'sometimes',
  holds: (w) => holders(w).length > 0,
};

/**
 * Lamport's clock condition C1 (a later event of a process has a larger timestamp) across a
 * crash: two different messages a node has in flight to one peer never carry the same timestamp,
 * and an up node's clock is at least every timestamp it has in flight, so whatever it stamps
 * next is later than all of them. A node that restarts below a timestamp it sent before its
 * crash stamps messages with that timestamp again (a request that repeats an earlier one's, a
 * fencing token handed out twice). Judged on the messages in flight: the shortest run that
 * reuses a timestamp has its earlier message still on the wire. A duplicate (the same message
 * twice, a network fault) is one message.
 */
export const timestampsNeverRepeat: Property<View> = {
  name: 'timestamps never repeat',
  kind: 'always',
  holds: (w) => {
    const stamped = new Map<string, string>();
    for (const { from, to, msg } of w.inFlight as { from: number; to: number; msg: MutexMessage }[]) {
      const sender = w.nodes.find((v) => v.id === from);
      if (sender?.up && msg.ts > sender.context.clock) return false;
      const where = `${from}>${to}@${msg.ts}`;
      const what = msg.type === 'rejoin_ack' ? `${msg.type}/${msg.pending}` : msg.type;
      if ((stamped.get(where) ?? what) !== what) return false;
      stamped.set(where, what);
    }
    return true;
  },
};

/**
 * No deadlock: in a quiescent world where every node is up, a node still waiting is only
 * waiting for a holder to finish its critical work. A waiting node with nobody holding the lock
 * and nothing in flight waits forever. Lamport's algorithm waits for every node, so while a node
 * is down the others wait for it (a liveness loss the algorithm accepts, not a deadlock: a
 * restart is always possible). Once it is back, its rejoin must clear the way: a restarted node
 * that leaves a dead request at the head of the queues, or a request unanswered, deadlocks here.
 */
export const everyRequestIsGranted: Property<View> = {
  name: 'every request is granted',
  kind: 'eventually',
  holds: (w) => w.nodes.some((v) => !v.up) || waiters(w).length === 0 || holders(w).length > 0,
};

/**
 * Crash recovery: a restarted node hears from every peer (each drops the dead incarnation's
 * request and reports its own) and then takes requests again. While a peer is down the rejoin
 * waits for it, as every request does; once every node is up, a node still recovering never
 * will, and the client that asks it for the lock waits forever.
 */
export const restartedNodesRecover: Property<View> = {
  name: 'a restarted node recovers',
  kind: 'eventually',
  holds: (w) => w.nodes.some((v) => !v.up) || w.nodes.every((v) => v.state !== 'recovering'),
};

export const mutexProperties = [
  mutualExclusion,
  grantsFollowTimestampOrder,
  fencingTokensIncrease,
  holderWasToldOfItsGrant,
  timestampsNeverRepeat,
  aCriticalSectionIsEntered,
  everyRequestIsGranted,
  restartedNodesRecover,
] as Property[];
