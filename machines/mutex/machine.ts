/**
 * Distributed mutual exclusion, one machine per node: Lamport, "Time, Clocks, and the Ordering
 * of Events in a Distributed System" (CACM 21(7), 1978), the algorithm of its section on
 * mutual exclusion.
 *
 * - Logical clock (IR1, IR2): the clock ticks before every send, and a received timestamp
 *   pushes it forward (`clock = max(clock, ts)`), so anything sent after receiving a message
 *   carries a larger timestamp than that message.
 * - Rule 1, request: tick, put `(ts, me)` on the own queue, broadcast `request(ts)`.
 * - Rule 2, receive a request: put it on the queue, answer with a timestamped `reply`.
 * - Rule 3, release: drop the own request, broadcast `release`.
 * - Rule 4, receive a release: drop every request of the sender from the queue.
 * - Rule 5, enter: the own request heads the queue, ordered by (timestamp, node id), and a
 *   message timestamped later than it has been received from every other node.
 *
 * Rule 5 is only sound on FIFO channels: "later message from Pj" must imply "Pj's earlier
 * request already arrived". On an unordered network a reply can overtake the request it
 * follows, and two nodes enter together; the checker shows it.
 *
 * Fencing token: a node learns nothing global when it enters, but it knows its request's
 * (timestamp, node id), and grants follow exactly that total order. Packed into one integer,
 * `ts * n + (id - 1)`, it is strictly increasing across grants: every node that later requests
 * has first replied to (or otherwise sent a later message than) this request, so its own
 * timestamp is larger. A protected resource keeps the highest token it saw and rejects lower
 * ones, which still protects it when the lock itself is broken (unordered channels).
 *
 * Timestamps are bounded (src/bounds.ts): a message carrying a timestamp outside
 * [0, MAX_COUNTER] is ignored (`inBound`), whatever the transport let through. A clock pushed to
 * 2^53 would stop ticking (2^53 + 1 === 2^53 in a JavaScript number): requests would repeat
 * timestamps and fencing tokens would stop increasing. Within the bound a token, at most
 * MAX_COUNTER * n + n - 1, stays an exact integer for every cluster of up to MAX_NODES nodes.
 *
 * Crashes are outside Lamport's model, and a crash loses the messages in flight to the node,
 * which breaks the reliable-channel assumption. Only the clock is durable (timestamps never
 * repeat), and only as a bound: a node stamps messages up to `clockBound`, which is on disk
 * before any of them leaves, and a restarted node resumes its clock from it. The bound is raised
 * a whole CLOCK_LEASE at a time, when a timestamp the node is about to send would pass it, so
 * the durable part of the context changes once every CLOCK_LEASE timestamps and the steps in
 * between wait for no disk. A received timestamp that pushes the clock forward does not move the
 * bound: nothing is stamped with it until the node ticks, and a restarted node takes its queue
 * and its peers' clocks from their rejoin acks before it requests again. While a node is down, every request waits for its reply or release: a liveness
 * loss, never a second holder. A restarted node first recovers (`rejoin`): each peer drops the
 * dead incarnation's request and answers `rejoin_ack` with its own outstanding request, which
 * the restarted node queues and answers as if it had just arrived. Only then may it request.
 */
import { enqueueActions, setup } from 'xstate';
import { isCounter } from '../../src/bounds.js';
import type { NodeId, NodeInput } from '../../src/protocol.js';
import type { MutexEvent, MutexMessage, MutexNote, QueuedRequest } from './messages.js';

export interface MutexContext {
  id: NodeId;
  n: number;
  /** Lamport clock. */
  clock: number;
  /** Every timestamp this node has sent is at most this; the durable part, where a restart resumes the clock. */
  clockBound: number;
  /** Pending requests (own included), in the order they will be granted. */
  queue: QueuedRequest[];
  /** Timestamp of the own request while waiting or holding; null when idle. */
  myTs: number | null;
  /** Nodes from which a message timestamped later than `myTs` has arrived, sorted. */
  later: NodeId[];
  /** Grants this node has had (what the buggy `local-token` hands out). */
  grants: number;
  /** Fencing token of the current grant; null outside the critical section. */
  token: number | null;
  /** Peers heard from since the node started: all of them on a first boot; after a restart, those that answered `rejoin`. Sorted. */
  rejoined: NodeId[];
}

export interface MutexDurable {
  /** The bound on every timestamp the node sent, where a restarted node resumes its clock. */
  clockBound: number;
}

/** What a log written before the bound holds: the clock itself, which bounds every timestamp sent as well. */
interface LegacyDurable {
  clock?: number;
}

/**
 * How far the durable bound on the clock runs ahead of it: raised to the next multiple of this
 * when a timestamp would pass it. A power of two, so the largest bound, 2^48, is still exact; a
 * restart skips at most this many timestamps of the 2^48 (MAX_COUNTER).
 */
export const CLOCK_LEASE = 1024;

export interface MutexOptions {
  /** Rule 5(ii): wait for a later-timestamped message from every other node. Off: `no-reply-wait`. */
  waitForLater: boolean;
  /** Break equal timestamps by node id. Off: by arrival order, the `tie-by-arrival` bug. */
  tieById: boolean;
  /** IR2: a received timestamp advances the clock. Off: `clock-not-advanced`. */
  advanceOnReceive: boolean;
  /** Token from the request's (ts, id). Off: a per-node grant count, the `local-token` bug. */
  orderToken: boolean;
  /** The holder keeps its grant's token. Off: the token is noted but never set, the `token-not-kept` bug. */
  keepToken: boolean;
  /** A rejoin drops the dead incarnation's request. Off: the `rejoin-keeps-request` bug. */
  dropOnRejoin: boolean;
  /** Answer the request a rejoin ack reports. Off: the `silent-rejoin-ack` bug. */
  replyOnRejoinAck: boolean;
  /** A restarted node waits for a rejoin ack from every other node. Off: from every node, itself included, the `rejoin-waits-for-self` bug. */
  acksFromOthers: boolean;
  /** Note the grant, the fact a client waits for. Off: the `silent-grant` bug. */
  noteGrant: boolean;
  /** Raise the durable clock bound before a timestamp passes it. Off: the bound stays where it started, the `clock-not-leased` bug. */
  leaseClock: boolean;
}

export type MutexEmitted = { type: 'send'; to: NodeId | 'others'; msg: MutexMessage } | { type: 'note'; note: MutexNote };

const send = (to: NodeId | 'others', msg: MutexMessage): MutexEmitted => ({ type: 'send', to, msg });
const note = (fact: MutexNote): MutexEmitted => ({ type: 'note', note: fact });

/** Every timestamp the event carries is a counter a node may adopt. */
const inBound = (event: MutexEvent) =>
  (!('ts' in event) || isCounter(event.ts)) && (event.type !== 'rejoin_ack' || event.pending === null || isCounter(event.pending));

/** The fencing token of a request: its (timestamp, node id) packed into one increasing integer. */
export const fencingToken = (ts: number, id: NodeId, n: number) => ts * n + (id - 1);

export function mutexMachine(options: MutexOptions, machineId = 'mutex') {
  /**
   * Inserts a request where it will be granted: after every request ordered before it. A node
   * has at most one request outstanding, so a newer one replaces the sender's older entry.
   */
  const enqueue = (all: QueuedRequest[], r: QueuedRequest): QueuedRequest[] => {
    const queue = all.filter((q) => q.node !== r.node);
    const before = (q: QueuedRequest) => q.ts < r.ts || (q.ts === r.ts && (options.tieById ? q.node < r.node : true));
    const at = queue.findIndex((q) => !before(q));
    return at < 0 ? [...queue, r] : [...queue.slice(0, at), r, ...queue.slice(at)];
  };
  /** The durable bound once this node stamps a message with `ts`: raised to the next multiple of CLOCK_LEASE when `ts` passes it. */
  const leased = (context: MutexContext, ts: number) =>
    ts <= context.clockBound || !options.leaseClock ? context.clockBound : Math.ceil(ts / CLOCK_LEASE) * CLOCK_LEASE;
  const received = (context: MutexContext, ts: number) => (options.advanceOnReceive ? Math.max(context.clock, ts) : context.clock);
  const addLater = (context: MutexContext, from: NodeId, ts: number) =>
    context.myTs !== null && ts > context.myTs && !context.later.includes(from) ? [...context.later, from].sort((a, b) => a - b) : context.later;

  return setup({
    types: {
      context: {} as MutexContext,
      events: {} as MutexEvent,
      input: {} as NodeInput<MutexDurable>,
      emitted: {} as MutexEmitted,
    },
    guards: {
      /** Every other node answered this restarted node's rejoin. */
      recovered: ({ context }) => context.rejoined.length === (options.acksFromOthers ? context.n - 1 : context.n),
      /** Some node has not yet answered this restarted node's rejoin. */
      restarted: ({ context }) => context.rejoined.length < context.n - 1,
      /** The message's timestamps are within the wire's bounds; a message outside them is ignored. */
      inBound: ({ event }) => inBound(event),
      /** Rule 5: this node's request is first in its queue and every other node has sent something timestamped later. */
      canEnter: ({ context }) => {
        const head = context.queue[0];
        if (!head || head.node !== context.id || head.ts !== context.myTs) return false;
        return !options.waitForLater || context.later.length === context.n - 1;
      },
    },
    actions: {
      /** Rule 1: to ask for the lock, queue this node's request with a fresh timestamp and send it to every other node. */
      request: enqueueActions(({ context, enqueue: q }) => {
        const ts = context.clock + 1;
        q.assign({ clock: ts, clockBound: leased(context, ts), myTs: ts, later: [], queue: enqueue(context.queue, { ts, node: context.id }) });
        q.emit(note({ type: 'request', ts }));
        q.emit(send('others', { type: 'request', ts }));
      }),
      /** Rule 2: queue a peer's request and answer it with a timestamped reply. */
      answerRequest: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'request') return;
        const ts = received(context, event.ts) + 1;
        q.assign({ clock: ts, clockBound: leased(context, ts), later: addLater(context, event.from, event.ts), queue: enqueue(context.queue, { ts: event.ts, node: event.from }) });
        q.emit(send(event.from, { type: 'reply', ts }));
      }),
      /** Advances the clock past the reply and records that the sender replied later than this request. */
      receiveReply: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'reply') return;
        q.assign({ clock: received(context, event.ts), later: addLater(context, event.from, event.ts) });
      }),
      /** Rule 4: a peer released: drop its request from the queue. */
      receiveRelease: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'release') return;
        q.assign({
          clock: received(context, event.ts),
          later: addLater(context, event.from, event.ts),
          queue: context.queue.filter((r) => r.node !== event.from),
        });
      }),
      /** A restarted node asks every other node for its pending request, with a fresh timestamp. */
      rejoin: enqueueActions(({ context, enqueue: q }) => {
        const ts = context.clock + 1;
        q.assign({ clock: ts, clockBound: leased(context, ts) });
        q.emit(send('others', { type: 'rejoin', ts }));
      }),
      /** A peer restarted: its old request died with it; tell it what we are waiting for. */
      answerRejoin: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'rejoin') return;
        const ts = received(context, event.ts) + 1;
        q.assign({
          clock: ts, clockBound: leased(context, ts),
          later: addLater(context, event.from, event.ts),
          queue: options.dropOnRejoin ? context.queue.filter((r) => r.node !== event.from) : context.queue,
          rejoined: context.rejoined.includes(event.from) ? context.rejoined : [...context.rejoined, event.from].sort((a, b) => a - b),
        });
        q.emit(send(event.from, { type: 'rejoin_ack', ts, pending: context.myTs }));
      }),
      /** A peer's outstanding request, lost while we were down: queue it and reply (rule 2). */
      receiveRejoinAck: enqueueActions(({ context, event, enqueue: q }) => {
        if (event.type !== 'rejoin_ack') return;
        const rejoined = context.rejoined.includes(event.from) ? context.rejoined : [...context.rejoined, event.from].sort((a, b) => a - b);
        if (event.pending === null) {
          q.assign({ clock: received(context, event.ts), rejoined });
          return;
        }
        const ts = received(context, event.ts) + 1;
        q.assign({ clock: ts, clockBound: leased(context, ts), rejoined, queue: enqueue(context.queue, { ts: event.pending, node: event.from }) });
        if (options.replyOnRejoinAck) q.emit(send(event.from, { type: 'reply', ts }));
      }),
      /** Enters the critical section: notes the grant with its fencing token. */
      enter: enqueueActions(({ context, enqueue: q }) => {
        const ts = context.myTs!;
        const token = options.orderToken ? fencingToken(ts, context.id, context.n) : context.grants + 1;
        q.assign({ grants: context.grants + 1, token: options.keepToken ? token : null });
        if (options.noteGrant) q.emit(note({ type: 'enter', ts, token }));
      }),
      /** Rule 3: to release, drop this node's request from its queue and send a timestamped release to every other node. */
      release: enqueueActions(({ context, enqueue: q }) => {
        const ts = context.clock + 1;
        q.assign({ clock: ts, clockBound: leased(context, ts), myTs: null, later: [], token: null, queue: context.queue.filter((r) => r.node !== context.id) });
        q.emit(note({ type: 'exit', ts: context.myTs!, token: context.token! }));
        q.emit(send('others', { type: 'release', ts }));
      }),
    },
  }).createMachine({
    id: machineId,
    context: ({ input }) => ({
      id: input.id,
      n: input.n,
      clock: resumedClock(input.restored),
      clockBound: resumedClock(input.restored),
      queue: [],
      myTs: null,
      later: [],
      grants: 0,
      token: null,
      // A first boot has nobody to recover from; a restart must hear from every peer.
      rejoined: input.restored ? [] : Array.from({ length: input.n - 1 }, (_, i) => (i + 1 < input.id ? i + 1 : i + 2)),
    }),
    initial: 'boot',
    on: {
      rejoin: { guard: 'inBound', actions: 'answerRejoin' },
      rejoin_ack: { guard: 'inBound', actions: 'receiveRejoinAck' },
      request: { guard: 'inBound', actions: 'answerRequest' },
      reply: { guard: 'inBound', actions: 'receiveReply' },
      release: { guard: 'inBound', actions: 'receiveRelease' },
    },
    states: {
      boot: {
        always: [{ guard: 'restarted', target: 'recovering', actions: 'rejoin' }, { target: 'idle' }],
      },
      recovering: {
        always: { guard: 'recovered', target: 'idle' },
      },
      idle: {
        on: { 'client.acquire': { target: 'waiting', actions: 'request' } },
      },
      waiting: {
        always: { guard: 'canEnter', target: 'critical', actions: 'enter' },
      },
      critical: {
        on: { 'client.release': { target: 'idle', actions: 'release' } },
      },
    },
  });
}

/** The durable part of a context: the bound on the clock, so a restarted node never reuses a timestamp. */
export function mutexDurable(context: MutexContext): MutexDurable {
  return { clockBound: context.clockBound };
}

/** Where a node's clock starts: 0 on a first boot, the stored bound (or a log's older clock) after a restart. */
function resumedClock(restored: (Partial<MutexDurable> & LegacyDurable) | undefined): number {
  return restored?.clockBound ?? restored?.clock ?? 0;
}
