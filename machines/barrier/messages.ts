/**
 * Barrier wire types. Every message names the barrier and the generation it belongs to, so a
 * late or duplicated message of one generation is recognized in the next. The transport stamps
 * `from`.
 */
import type { Counter } from '../../src/bounds.js';
import type { NodeId, NodeIdList } from '../../src/protocol.js';

/** The seed's Phase 1: a participant registers with the coordinator of barrier `barrier`. */
export interface BarrierRegister {
  type: 'register';
  barrier: string;
}

/** The coordinator's answer: registered, and the generation to work on. */
export interface BarrierRegistered {
  type: 'registered';
  barrier: string;
  generation: Counter;
}

/** A participant finished its work for `generation` and waits at the barrier. */
export interface BarrierArrive {
  type: 'arrive';
  barrier: string;
  generation: Counter;
}

/** The coordinator lets everyone through `generation`; `stragglers` had not arrived (timeout barrier). */
export interface BarrierRelease {
  type: 'release';
  barrier: string;
  generation: Counter;
  arrived: NodeIdList;
  stragglers: NodeIdList;
}

export type BarrierMessage = BarrierRegister | BarrierRegistered | BarrierArrive | BarrierRelease;

/** The application finished its work and reaches the barrier. */
export type BarrierClient = { type: 'client.arrive' };

/** The timeout barrier's deadline for a generation, raised by the coordinator to itself. */
export type BarrierTimer = { type: 'deadline'; generation: Counter };

/** Observable facts: ghost history, traces and client answers. */
export type BarrierNote =
  | { type: 'registered'; barrier: string; generation: Counter }
  | { type: 'arrive'; generation: Counter }
  | { type: 'release'; generation: Counter; seq: Counter; arrived: NodeIdList; stragglers: NodeIdList; deadline: boolean }
  | { type: 'released'; generation: Counter }
  | { type: 'straggler'; generation: Counter };

export type Inbound<M> = M & { from: NodeId };
export type BarrierEvent = Inbound<BarrierMessage> | BarrierClient | BarrierTimer;
