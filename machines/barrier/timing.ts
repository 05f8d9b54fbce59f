/**
 * The seed's Diagram 4 numbers (5 nodes, barrier `#ref123`), for timed simulation: each node's
 * work before it arrives, and what the strict barrier costs in waiting.
 */
import type { NodeId } from '../../src/protocol.js';

export const BARRIER_ID = '#ref123';

/** Node 1 coordinates the barrier and is also a participant (the seed's Node1, Work1). */
export const COORDINATOR: NodeId = 1;

/** The timeout barrier releases this long after the first arrival of a generation. */
export const DEADLINE_MS = 100;

export interface BarrierSeedTiming {
  nodes: number;
  /** Work each node does before arriving: ML training 50, data processing 75, ... */
  workMs: Record<NodeId, number>;
  /** Sum over nodes of (slowest work - own work): 150 + 125 + 20 + 140 + 0. */
  totalWaitMs: number;
}

export const BARRIER_SEED_TIMING: BarrierSeedTiming = {
  nodes: 5,
  workMs: { 1: 50, 2: 75, 3: 180, 4: 60, 5: 200 },
  totalWaitMs: 435,
};
