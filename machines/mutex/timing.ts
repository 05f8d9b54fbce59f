/**
 * The seed's Diagram 3 timeline (5 nodes: Node1..Node3 contend, Node4 and Node5 observe), for
 * timed simulation. Milliseconds on a virtual clock; the machine itself has no timers.
 */
import type { NodeId } from '../../src/protocol.js';

/**
 * Client sessions' leases, in ms: a lock whose session sent nothing for this long is released.
 * 10 s by default: a crashed client blocks the others for seconds, and a client paused for a
 * garbage collection or a slow disk keeps its lock. At least 100 ms, so a renewal can cross a
 * busy network in time; at most 5 minutes, so a vanished client cannot block everyone for
 * long. The acquire request's schema repeats the range.
 */
export const LEASE_MS = { default: 10_000, min: 100, max: 300_000 };

export interface MutexSeedTiming {
  nodes: number;
  /** When each contending node's client asks for the lock. */
  requestAtMs: Record<NodeId, number>;
  /** How long each holder works in its critical section before releasing. */
  criticalWorkMs: Record<NodeId, number>;
  /** The seed's total: three sequential critical sections. */
  totalCriticalWorkMs: number;
}

export const MUTEX_SEED_TIMING: MutexSeedTiming = {
  nodes: 5,
  requestAtMs: { 1: 0, 2: 10, 3: 25 },
  criticalWorkMs: { 1: 100, 2: 80, 3: 60 },
  totalCriticalWorkMs: 240,
};
