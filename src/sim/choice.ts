/** The environment's and clients' moves, as data with plain names (Stateright's Deliver/Drop/Timeout/Crash/Recover). */
import type { NodeId } from '../protocol.js';
import type { MsgRef, TimerRef } from './world.js';
import { describeMessage } from '../describe-message.js';

export type Choice =
  | { kind: 'deliver'; from: NodeId; to: NodeId; msg: MsgRef }
  | { kind: 'drop'; from: NodeId; to: NodeId; msg: MsgRef }
  | { kind: 'duplicate'; from: NodeId; to: NodeId; msg: MsgRef }
  | { kind: 'timer'; node: NodeId; timer: TimerRef }
  /** `spontaneous`: offered by the protocol's `spontaneous` moves, not counted as a client request. */
  | { kind: 'client'; node: NodeId; event: { type: string }; spontaneous?: true }
  /** `lost`: before the flush of the node's newest state, which its disk does not hold yet. */
  | { kind: 'crash'; node: NodeId; lost?: true }
  | { kind: 'restart'; node: NodeId }
  | { kind: 'partition'; sideA: number }
  | { kind: 'heal' };

export type ChoiceKind = Choice['kind'];

/** How a crash before the flush of a node's newest state reads. */
export const LOST_WRITE = ' before its last write reached the disk';

export function sideNodes(mask: number, n: number): NodeId[] {
  const out: NodeId[] = [];
  for (let i = 1; i <= n; i++) if ((mask >> (i - 1)) & 1) out.push(i);
  return out;
}

export function describePartition(mask: number, n: number): string {
  const all = (1 << n) - 1;
  return `{${sideNodes(mask, n).join(',')}}|{${sideNodes(all & ~mask, n).join(',')}}`;
}

/** One line per choice, e.g. `deliver 1->2 vote term=1`, `crash 3`, `partition {1,2,3}|{4,5}`. */
export function describeChoice(c: Choice, n: number): string {
  switch (c.kind) {
    case 'deliver':
    case 'drop':
    case 'duplicate':
      return `${c.kind} ${c.from}->${c.to} ${describeMessage(c.msg.msg)}`;
    case 'timer':
      return `timer ${c.node} ${c.timer.name}`;
    case 'client':
      return `client ${c.node} ${describeMessage(c.event)}`;
    case 'crash':
      return `crash ${c.node}${c.lost ? LOST_WRITE : ''}`;
    case 'restart':
      return `restart ${c.node}`;
    case 'partition':
      return `partition ${describePartition(c.sideA, n)}`;
    case 'heal':
      return 'heal';
  }
}

export { describeMessage };
