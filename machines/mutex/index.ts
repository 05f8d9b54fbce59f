/** The Lamport mutex primitive: machine, variants, properties and model defaults. */
import { lazyVariants, type LazyVariant } from '../../src/lazy-variants.js';
import type { Protocol, Variant } from '../../src/protocol.js';
import { latestGrants, mutexProperties } from '../../invariants/mutex.js';
import { CLOCK_LEASE, mutexDurable, mutexMachine, type MutexContext, type MutexOptions } from './machine.js';

import { LEASE_MS } from './timing.js';

export { LEASE_MS, MUTEX_SEED_TIMING } from './timing.js';

const correct: MutexOptions = { waitForLater: true, tieById: true, advanceOnReceive: true, orderToken: true, keepToken: true, dropOnRejoin: true, replyOnRejoinAck: true, acksFromOthers: true, noteGrant: true, leaseClock: true };
const crashes: Variant['reveal'] = { nodes: 2, faults: ['crash'] };
const variant = (name: string, description: string, options: Partial<MutexOptions> = {}, breaks?: string, reveal?: Variant['reveal']): LazyVariant => ({
  name,
  description,
  breaks,
  ...(reveal ? { reveal } : {}),
  machine: () => mutexMachine({ ...correct, ...options }),
  durable: mutexDurable,
});

export const mutexVariants: Variant[] = lazyVariants([
  variant('lamport', "Lamport's algorithm (1978): the verified default, on FIFO channels."),
  variant('no-reply-wait', 'Enters when its request heads its queue, without waiting for a later-timestamped message from every other node.', { waitForLater: false }, 'mutual exclusion'),
  variant('tie-by-arrival', 'Orders requests with equal timestamps by arrival instead of node id, so queues disagree.', { tieById: false }, 'mutual exclusion'),
  variant('clock-not-advanced', 'Does not advance its clock on receive (no IR2): replies can be stamped no later than the request they answer.', { advanceOnReceive: false }, 'every request is granted'),
  variant('local-token', "Hands out the node's own grant count as fencing token, which other nodes' grants repeat.", { orderToken: false }, 'fencing tokens increase'),
  variant('silent-grant', 'Enters without noting the grant, so its client is never told it holds the lock, nor the token to fence with.', { noteGrant: false }, 'a holder was told of its grant'),
  variant('token-not-kept', 'Notes the fencing token of a grant but never sets it on the holder, which then fences with no token.', { keepToken: false }, 'fencing tokens increase'),
  // A crash and a restart reveal these; two nodes are enough.
  variant('rejoin-keeps-request', "Answers a restarted node's rejoin without dropping the request of its previous life, which then heads every queue.", { dropOnRejoin: false }, 'every request is granted', crashes),
  variant('rejoin-waits-for-self', 'Counts itself among the nodes that must answer its rejoin, so a restarted node never recovers and never takes a request again.', { acksFromOthers: false }, 'a restarted node recovers', crashes),
  variant('clock-not-leased', 'Never raises the durable bound on its clock, so a restarted node resumes below timestamps it sent before its crash and stamps messages with them again.', { leaseClock: false }, 'timestamps never repeat', crashes),
  variant('silent-rejoin-ack', 'Queues the request a rejoin ack reports but never answers it, so the requester waits for a later message that never comes.', { replyOnRejoinAck: false }, 'every request is granted', crashes),
]);

/** The clock bound of a check: four lives of the clock (see the defaults below) and 64 timestamps more. */
const ROUND_BOUND = 4 * CLOCK_LEASE + 64;

/** Acquires issued so far: each acquire is followed by one release. */
const acquires = (used: number) => Math.ceil(used / 2);

/*
 * Defaults: 3 nodes on FIFO channels, one request each, is exhaustive in a few seconds (76,296
 * worlds). Each node requests a bounded number of times, so the space is finite without any
 * bound; the round (clock) bound only guards large `requests` values, and a check says when it
 * cut anything. It is 64 past four lives of the clock: a restarted node resumes from its durable
 * bound, a multiple of CLOCK_LEASE. Two requests each needs the depth-first search (`--search dfs`): its
 * widest breadth-first level does not fit in memory.
 */
export const mutex: Protocol = {
  name: 'mutex',
  description: "Lamport's distributed mutual exclusion with fencing tokens (Lamport 1978); needs FIFO channels.",
  variants: mutexVariants,
  defaultVariant: 'lamport',
  properties: mutexProperties,
  defaults: { nodes: 3, network: 'fifo', faults: [], maxRound: ROUND_BOUND, maxInFlight: 64, params: { requests: 1 } },
  // Every node's request and the replies to it in flight at once; clocks grow with the cluster.
  defaultsFor: (n) => ({ maxInFlight: Math.max(64, 2 * n * (n - 1)), maxRound: ROUND_BOUND - 64 + Math.max(64, 16 * n) }),
  params: { requests: { type: 'int', min: 1, max: 10, description: 'times each node asks for the lock' } },
  // With crashes, 3 nodes pass 700,000 worlds by depth 14 and keep growing: a depth bound keeps
  // `--faults crash` to seconds (the check says it was bounded; --max-depth 0 lifts it, and 2
  // nodes are then exhaustive in 1,076 worlds).
  faultBounds: { maxDepth: 12 },
  // Crash recovery bites only after a crash and a restart; on 2 nodes with two requests each the
  // whole space (23,981 worlds) is searched in seconds, a re-request after the rejoin included.
  alsoCheck: [{ why: '2 nodes, a crash and a restart, two requests each: what a rejoin must recover', config: { nodes: 2, faults: ['crash'], maxDepth: 0, params: { requests: 2 } } }],
  ghost: ['enter'],
  ghostSummary: latestGrants,
  round: (c: MutexContext) => c.clock,
  clients: (node, used, config) => {
    if (node.state === 'critical') return [{ type: 'client.release' }];
    if (node.state === 'idle' && acquires(used) < Number(config.params.requests ?? 1)) return [{ type: 'client.acquire' }];
    return [];
  },
  sampleEvents: (config) => {
    const events: { type: string }[] = [{ type: 'client.acquire' }, { type: 'client.release' }];
    for (let from = 2; from <= config.nodes; from++) {
      events.push({ type: 'request', ts: 1, from } as { type: string }, { type: 'reply', ts: 4, from } as { type: string }, { type: 'release', ts: 4, from } as { type: string });
    }
    return events;
  },
  // A lock belongs to the client session that acquired it; the grant (`enter`) carries its fencing token.
  sessions: { acquire: 'client.acquire', release: 'client.release', granted: 'enter', released: 'exit', leaseMs: LEASE_MS },
  types: { file: 'machines/mutex/messages.ts', message: 'MutexMessage', client: 'MutexClient', note: 'MutexNote' },
};
