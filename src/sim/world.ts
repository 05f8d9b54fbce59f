/**
 * The world the checker explores: every node's interned machine state and pending timers,
 * the network (in-flight messages per directed channel), fault budgets and ghost history.
 * Worlds are immutable; a step copies only what it changes.
 */
import type { CheckConfig, NodeId, Protocol, Variant } from '../protocol.js';
import type { LocalState } from './node-step.js';

/** A message, interned: equal messages share one object and one id. */
export interface MsgRef {
  id: number;
  /** Canonical JSON: unordered channels sort by it, so replays do not depend on interning order. */
  key: string;
  msg: any;
}

/** A pending timer, interned by (timer id, event). */
export interface TimerRef {
  id: number;
  /** Canonical form: pending timers sort by it. */
  key: string;
  name: string;
  event: { type: string };
  delayMs: number;
}

/** A durable context (kept while a node is down, or on a disk behind its state), interned. */
export interface DurableRef {
  id: number;
  value: object;
}

export interface NodeSlot {
  /** The machine state while up; null while crashed. */
  local: LocalState | null;
  /**
   * While down: what survived the crash. While up: what the disk holds when the node's newest
   * state may not be on it yet (a step let something leave before its flush, see
   * Variant.beforeFlush), so a crash may find it; null when the disk holds the newest state.
   */
  durable: DurableRef | null;
  /** Pending timers, sorted by key. */
  timers: TimerRef[];
  /** Client requests this node has received so far. */
  clientUsed: number;
}

export interface World {
  nodes: NodeSlot[];
  /** channels[(from - 1) * n + (to - 1)]: messages from → to in flight, oldest first (fifo) or sorted by key. */
  channels: MsgRef[][];
  /** Ghost history: interned note ids, sorted (a set). */
  history: number[];
  /** Bitmask of the nodes on side A of the current partition (bit i-1 for node i); 0 when healed. */
  partition: number;
  used: { crashes: number; drops: number; duplicates: number; partitions: number };
  /**
   * The world's 64-bit fingerprint as two 32-bit lanes, kept up to date by every step: the sum
   * of a hash per part (each node, each non-empty channel, the rest), so a step rehashes only
   * the parts it changed (see Simulator.fingerprint).
   */
  hashHi: number;
  hashLo: number;
}

export function channelIndex(n: number, from: NodeId, to: NodeId): number {
  return (from - 1) * n + (to - 1);
}

export function isUp(world: World, id: NodeId): boolean {
  return world.nodes[id - 1].local !== null;
}

/** True when a message from → to can cross the current partition. */
export function connected(world: World, from: NodeId, to: NodeId): boolean {
  if (world.partition === 0) return true;
  return ((world.partition >> (from - 1)) & 1) === ((world.partition >> (to - 1)) & 1);
}

export function inFlightCount(world: World): number {
  let total = 0;
  for (const c of world.channels) total += c.length;
  return total;
}

export interface Model {
  protocol: Protocol;
  variant: Variant;
  config: CheckConfig;
}
