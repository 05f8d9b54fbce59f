/**
 * The bounds on every number a frame carries. JavaScript numbers are exact integers only up to
 * 2^53 (`Number.MAX_SAFE_INTEGER`): past it `t + 1 === t`, so a node that adopted a term of 2^53
 * could never campaign in a higher term again, and a cluster that heard of it once stayed
 * leaderless for good. So every counter on the wire (term, timestamp, version, generation, seq,
 * request id) is an integer in [0, MAX_COUNTER], and every node id is in [1, MAX_NODES]; the
 * generated schemas say so (the `@maximum` annotations on the message types repeat these
 * literals, and a test holds them equal), and the machines refuse to adopt a counter outside the
 * range even from a frame that got past validation.
 *
 * Why 2^48 - 1: it leaves room below 2^53 for what a machine derives from a counter. A fencing
 * token packs a timestamp and a node id into `ts * n + (id - 1)`; with ts <= MAX_COUNTER and
 * n <= MAX_NODES that is at most (2^48 - 1) * 32 + 31 = 2^53 - 1 (MAX_TOKEN), still exact.
 * And it is large enough never to run out in practice: a Lamport clock ticking a million times
 * a second takes almost nine years to reach it (2^31 would last half an hour at that rate).
 * A node's own increments past the bound are not prevented: a counter can only get there after
 * MAX_COUNTER steps, and its frames would then be refused by every peer's validation (the
 * counter space is exhausted, a liveness loss, never a wrong number).
 *
 * Pure: machines import this module.
 */

/** The largest counter (term, timestamp, version, generation, seq, request id) on the wire. */
export const MAX_COUNTER = 2 ** 48 - 1;

/**
 * A counter, bounded (MAX_COUNTER) so that adding 1 stays exact.
 * @TJS-type integer
 * @minimum 0
 * @maximum 281474976710655
 */
export type Counter = number;

/**
 * A fencing token: larger for every later grant, at most MAX_TOKEN.
 * @TJS-type integer
 * @minimum 0
 * @maximum 9007199254740991
 */
export type Token = number;

/** The largest node id, hence the largest cluster. */
export const MAX_NODES = 32;

/** The largest fencing token: `MAX_COUNTER * MAX_NODES + MAX_NODES - 1`, which is 2^53 - 1. */
export const MAX_TOKEN = MAX_COUNTER * MAX_NODES + MAX_NODES - 1;

/** A value a machine may adopt as a counter: an integer in [0, MAX_COUNTER]. */
export const isCounter = (value: unknown): value is number =>
  typeof value === 'number' && value % 1 === 0 && value >= 0 && value <= MAX_COUNTER;
