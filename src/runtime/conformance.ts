/**
 * Conformance of a real run to the model: each node's trace is replayed through the pure machine
 * (`initialTransition` / `transition`, no host) and every record must match what the machine
 * does with the same event: the state and context after, the messages sent, the notes, the
 * timers armed and cancelled. Beyond one node: a timer may only fire while the model has it
 * pending, a restarted node must resume from exactly the durable part of its last traced context,
 * and every message a node received must have been sent to it, once, by the node it names
 * (TCP neither invents nor duplicates). A host that sends, changes, persists or times anything
 * on its own is caught here.
 *
 * The host traces a step, then persists it, then sends. Its log commits in groups, so a kill
 * before a flush leaves the last traced steps of that incarnation unpersisted: the node restarts
 * from the state of an earlier step (the newest whose durable state is the one restored). That is
 * legal only if none of those steps' messages left, so they are reported as `unpersisted`, their
 * sends count as never sent (a receipt of one is a divergence: the host sent before persisting),
 * and the property check ignores them. The exception is a step whose every message and note is of
 * a type the variant lets leave before the flush (Variant.beforeFlush): its sends count as sent,
 * and it stays in the property check, as the model's crash before a flush keeps it.
 */
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { Protocol, Variant } from '../protocol.js';
import { canonical } from '../canonical.js';
import { allEarly, earlyTypes } from '../before-flush.js';
import { effectsOf, flattenValue, type Effect } from '../machine-effects.js';
import type { NodeRecord, TraceRecord } from './trace-log.js';

export interface Divergence {
  node: number;
  seq: number;
  what: string;
}

const stripFrom = (event: Record<string, unknown>) => {
  const { from: _from, ...msg } = event;
  return msg;
};

/** A traced step whose durable state was never written (the process was killed in between). */
export interface Unpersisted {
  node: number;
  seq: number;
  /**
   * What it let leave may have left before its flush: every message and note of it is of a type
   * the variant lets leave early (Variant.beforeFlush). Its sends count as sent, and the step as
   * taken: the model's crash before a flush keeps what left.
   */
  left?: true;
}

export interface NodeReplay {
  divergence: Divergence | null;
  unpersisted: Unpersisted[];
}

/** Replays one node's records (in `seq` order); returns its first divergence, if any. */
export function replayNode(protocol: Protocol, variant: Variant, n: number, records: readonly NodeRecord[]): NodeReplay {
  let snapshot: AnyMachineSnapshot | null = null;
  let lastContext: unknown = undefined;
  let lastRecord: NodeRecord | null = null;
  /** The records since the last start, with their durable states, and the state that start restored. */
  let trail: { record: NodeRecord; durable: string }[] = [];
  let startedFrom = canonical(null);
  let pending = new Map<string, string>();
  const unpersisted: Unpersisted[] = [];
  const others = (self: number) => Array.from({ length: n }, (_, i) => i + 1).filter((v) => v !== self);
  const durableOf = (context: unknown) => canonical(context === undefined ? null : variant.durable(context));
  const fail = (r: NodeRecord, what: string): NodeReplay => ({ divergence: { node: r.node, seq: r.seq, what }, unpersisted });
  for (const r of records) {
    let result: [AnyMachineSnapshot, readonly unknown[]];
    if (r.kind === 'init') {
      const restored = canonical(r.restored ?? null);
      if (restored !== durableOf(lastContext)) {
        let kept = trail.length;
        while (kept > 0 && trail[kept - 1].durable !== restored) kept--;
        if (lastRecord === null || (kept === 0 && restored !== startedFrom)) {
          return fail(r, `restarted from ${restored}, but its last traced durable state was ${durableOf(lastContext)}`);
        }
        for (const t of trail.slice(kept)) unpersisted.push({ node: t.record.node, seq: t.record.seq, ...(leavesEarly(variant, t.record) ? { left: true as const } : {}) });
      }
      trail = [];
      startedFrom = restored;
      result = initialTransition(variant.machine, { id: r.node, n, restored: r.restored ?? undefined }) as never;
      pending = new Map();
    } else {
      if (!snapshot) return fail(r, `${r.kind} event before the node started`);
      if (!r.event) return fail(r, `${r.kind} record without an event`);
      if (r.before !== flattenValue(snapshot.value)) return fail(r, `record says the state before was ${r.before}, the model is in ${flattenValue(snapshot.value)}`);
      if (r.kind === 'timer') {
        const armed = pending.get(r.timer ?? '');
        if (armed === undefined) return fail(r, `timer ${r.timer} fired but the model has no such timer pending`);
        if (armed !== canonical(r.event)) return fail(r, `timer ${r.timer} fired ${canonical(r.event)}, the model armed ${armed}`);
        pending.delete(r.timer!);
      }
      result = transition(variant.machine, snapshot, r.event as never) as never;
    }
    const [next, actions] = result;
    if (next.status === 'error') return fail(r, `the machine fails on this event: ${String(next.error)}`);
    const after = flattenValue(next.value);
    if (after !== r.after) return fail(r, `host went to ${r.after}, the model to ${after}`);
    if (canonical(next.context) !== canonical(r.context)) return fail(r, `host context ${canonical(r.context)} differs from the model's ${canonical(next.context)}`);
    const effects: Effect[] = effectsOf(actions);
    const sends: string[] = [];
    const notes: string[] = [];
    const timers: string[] = [];
    const cancels: string[] = [];
    for (const e of effects) {
      if (e.kind === 'send') for (const to of e.to === 'others' ? others(r.node) : [e.to]) sends.push(canonical({ to, msg: e.msg }));
      else if (e.kind === 'note') notes.push(canonical(e.note));
      else if (e.kind === 'timer') timers.push(canonical({ id: e.id, event: e.event, delayMs: e.delayMs }));
      else cancels.push(e.id);
    }
    const hostSends = r.sends.map((s) => canonical({ to: s.to, msg: s.msg }));
    if (canonical(hostSends.slice().sort()) !== canonical(sends.slice().sort())) return fail(r, `host sent ${hostSends.join(' ') || 'nothing'}, the model sends ${sends.join(' ') || 'nothing'}`);
    const hostNotes = r.notes.map((x) => canonical(x));
    if (canonical(hostNotes) !== canonical(notes)) return fail(r, `host noted ${hostNotes.join(' ') || 'nothing'}, the model notes ${notes.join(' ') || 'nothing'}`);
    const hostTimers = r.timers.map((t) => canonical({ id: t.id, event: t.event, delayMs: t.delayMs }));
    if (canonical(hostTimers) !== canonical(timers)) return fail(r, `host armed ${hostTimers.join(' ') || 'nothing'}, the model arms ${timers.join(' ') || 'nothing'}`);
    if (canonical(r.cancels) !== canonical(cancels)) return fail(r, `host cancelled ${r.cancels.join(',') || 'nothing'}, the model cancels ${cancels.join(',') || 'nothing'}`);
    for (const t of r.timers) {
      const factor = protocol.timerJitter?.[t.id] ?? 1;
      if (t.firesInMs < t.delayMs - 1 || t.firesInMs > t.delayMs * factor + 1) return fail(r, `timer ${t.id} set to fire in ${t.firesInMs} ms, outside [${t.delayMs}, ${t.delayMs * factor}]`);
    }
    for (const e of effects) {
      if (e.kind === 'timer') pending.set(e.id, canonical(e.event));
      else if (e.kind === 'cancel') pending.delete(e.id);
    }
    snapshot = next;
    lastContext = next.context;
    lastRecord = r;
    trail.push({ record: r, durable: durableOf(next.context) });
  }
  return { divergence: null, unpersisted };
}

const recordKey = (u: Unpersisted) => `${u.node}/${u.seq}`;

/** The step let something leave, all of it of types the variant lets leave before the flush (as the host decides). */
const leavesEarly = (variant: Variant, r: NodeRecord): boolean =>
  (r.sends.length > 0 || r.notes.length > 0) && allEarly(earlyTypes(variant), r.sends.map((x) => x.msg), r.notes);

/**
 * Every received message was sent by the node it names to this node, and received at most once per
 * send: on each channel, a message is received no more often than its sender's trace sends it.
 * Counted over the whole traces, not in stamp order: stamps of different processes agree only as
 * closely as their clocks were anchored (trace-clock.ts), which on a loaded machine can be less
 * closely than a send and its receipt are apart, and an honest run must not diverge for that.
 */
export function checkChannels(merged: readonly TraceRecord[], unpersisted: readonly Unpersisted[] = []): Divergence | null {
  const sent = new Map<string, number>();
  const neverLeft = new Set(unpersisted.filter((u) => !u.left).map(recordKey));
  for (const r of merged) {
    if (r.kind === 'fault' || neverLeft.has(recordKey(r))) continue;
    for (const s of r.sends) {
      if (s.lost) continue;
      const key = `${r.node}>${s.to}:${canonical(s.msg)}`;
      sent.set(key, (sent.get(key) ?? 0) + 1);
    }
  }
  for (const r of merged) {
    if (r.kind !== 'peer' || !r.event) continue;
    const from = Number(r.event.from);
    const key = `${from}>${r.node}:${canonical(stripFrom(r.event))}`;
    const count = sent.get(key) ?? 0;
    if (count === 0) return { node: r.node, seq: r.seq, what: `received ${canonical(stripFrom(r.event))} from node ${from}, which never sent it (or it was received twice)` };
    sent.set(key, count - 1);
  }
  return null;
}

export interface Conformance {
  /** At most one per node (its first), plus the first channel divergence. */
  divergences: Divergence[];
  unpersisted: Unpersisted[];
}

/** Replays every node and checks the channels. */
export function checkConformance(protocol: Protocol, variant: Variant, n: number, merged: readonly TraceRecord[]): Conformance {
  const divergences: Divergence[] = [];
  const unpersisted: Unpersisted[] = [];
  for (let id = 1; id <= n; id++) {
    const own = merged.filter((r): r is NodeRecord => r.kind !== 'fault' && r.node === id).sort((a, b) => a.seq - b.seq);
    const replay = replayNode(protocol, variant, n, own);
    if (replay.divergence) divergences.push(replay.divergence);
    unpersisted.push(...replay.unpersisted);
  }
  const c = checkChannels(merged, unpersisted);
  if (c) divergences.push(c);
  return { divergences, unpersisted };
}

/**
 * The merged trace without the steps that were never persisted and let nothing leave (they did
 * not happen); a step whose messages left before its flush stays, as in the model.
 */
export function withoutUnpersisted(merged: readonly TraceRecord[], unpersisted: readonly Unpersisted[]): TraceRecord[] {
  const drop = new Set(unpersisted.filter((u) => !u.left).map(recordKey));
  return merged.filter((r) => r.kind === 'fault' || !drop.has(recordKey(r)));
}
