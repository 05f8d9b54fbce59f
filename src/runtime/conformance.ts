/**
 * Conformance of a real run to the model: each node's trace is replayed through the pure machine
 * (`initialTransition` / `transition`, no host) and every record must match what the machine
 * does with the same event: the state and context after, the messages sent, the notes, the
 * timers armed and cancelled. Beyond one node: a timer may only fire while the model has it
 * pending, a restarted node must resume from exactly the durable part of its last traced context,
 * and every message a node received must have been sent to it, once, by the node it names
 * (TCP neither invents nor duplicates). A host that sends, changes, persists or times anything
 * on its own is caught here.
 */
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { Protocol, Variant } from '../protocol.js';
import { canonical } from '../sim/canonical.js';
import { effectsOf, flattenValue, type Effect } from '../sim/node-step.js';
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

/** Replays one node's records (in `seq` order); returns its first divergence, if any. */
export function replayNode(protocol: Protocol, variant: Variant, n: number, records: readonly NodeRecord[]): Divergence | null {
  let snapshot: AnyMachineSnapshot | null = null;
  let lastContext: unknown = undefined;
  let pending = new Map<string, string>();
  const others = (self: number) => Array.from({ length: n }, (_, i) => i + 1).filter((v) => v !== self);
  for (const r of records) {
    const fail = (what: string): Divergence => ({ node: r.node, seq: r.seq, what });
    let result: [AnyMachineSnapshot, readonly unknown[]];
    if (r.kind === 'init') {
      const expected = lastContext === undefined ? null : variant.durable(lastContext);
      if (canonical(r.restored ?? null) !== canonical(expected)) {
        return fail(`restarted from ${canonical(r.restored ?? null)}, but its last traced durable state was ${canonical(expected)}`);
      }
      result = initialTransition(variant.machine, { id: r.node, n, restored: r.restored ?? undefined }) as never;
      pending = new Map();
    } else {
      if (!snapshot) return fail(`${r.kind} event before the node started`);
      if (!r.event) return fail(`${r.kind} record without an event`);
      if (r.before !== flattenValue(snapshot.value)) return fail(`record says the state before was ${r.before}, the model is in ${flattenValue(snapshot.value)}`);
      if (r.kind === 'timer') {
        const armed = pending.get(r.timer ?? '');
        if (armed === undefined) return fail(`timer ${r.timer} fired but the model has no such timer pending`);
        if (armed !== canonical(r.event)) return fail(`timer ${r.timer} fired ${canonical(r.event)}, the model armed ${armed}`);
        pending.delete(r.timer!);
      }
      result = transition(variant.machine, snapshot, r.event as never) as never;
    }
    const [next, actions] = result;
    if (next.status === 'error') return fail(`the machine fails on this event: ${String(next.error)}`);
    const after = flattenValue(next.value);
    if (after !== r.after) return fail(`host went to ${r.after}, the model to ${after}`);
    if (canonical(next.context) !== canonical(r.context)) return fail(`host context ${canonical(r.context)} differs from the model's ${canonical(next.context)}`);
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
    if (canonical(hostSends.slice().sort()) !== canonical(sends.slice().sort())) return fail(`host sent ${hostSends.join(' ') || 'nothing'}, the model sends ${sends.join(' ') || 'nothing'}`);
    const hostNotes = r.notes.map((x) => canonical(x));
    if (canonical(hostNotes) !== canonical(notes)) return fail(`host noted ${hostNotes.join(' ') || 'nothing'}, the model notes ${notes.join(' ') || 'nothing'}`);
    const hostTimers = r.timers.map((t) => canonical({ id: t.id, event: t.event, delayMs: t.delayMs }));
    if (canonical(hostTimers) !== canonical(timers)) return fail(`host armed ${hostTimers.join(' ') || 'nothing'}, the model arms ${timers.join(' ') || 'nothing'}`);
    if (canonical(r.cancels) !== canonical(cancels)) return fail(`host cancelled ${r.cancels.join(',') || 'nothing'}, the model cancels ${cancels.join(',') || 'nothing'}`);
    for (const t of r.timers) {
      const factor = protocol.timerJitter?.[t.id] ?? 1;
      if (t.firesInMs < t.delayMs - 1 || t.firesInMs > t.delayMs * factor + 1) return fail(`timer ${t.id} set to fire in ${t.firesInMs} ms, outside [${t.delayMs}, ${t.delayMs * factor}]`);
    }
    for (const e of effects) {
      if (e.kind === 'timer') pending.set(e.id, canonical(e.event));
      else if (e.kind === 'cancel') pending.delete(e.id);
    }
    snapshot = next;
    lastContext = next.context;
  }
  return null;
}

/** Every received message was sent by the node it names to this node, and received at most once per send. */
export function checkChannels(merged: readonly TraceRecord[]): Divergence | null {
  const inFlight = new Map<string, number>();
  for (const r of merged) {
    if (r.kind === 'fault') continue;
    if (r.kind === 'peer' && r.event) {
      const from = Number(r.event.from);
      const key = `${from}>${r.node}:${canonical(stripFrom(r.event))}`;
      const count = inFlight.get(key) ?? 0;
      if (count === 0) return { node: r.node, seq: r.seq, what: `received ${canonical(stripFrom(r.event))} from node ${from}, which never sent it (or it was received twice)` };
      inFlight.set(key, count - 1);
    }
    for (const s of r.sends) {
      if (s.lost) continue;
      const key = `${r.node}>${s.to}:${canonical(s.msg)}`;
      inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
    }
  }
  return null;
}

/** Replays every node and checks the channels; returns every divergence found (at most one per node, plus channels). */
export function checkConformance(protocol: Protocol, variant: Variant, n: number, merged: readonly TraceRecord[]): Divergence[] {
  const out: Divergence[] = [];
  for (let id = 1; id <= n; id++) {
    const own = merged.filter((r): r is NodeRecord => r.kind !== 'fault' && r.node === id).sort((a, b) => a.seq - b.seq);
    const d = replayNode(protocol, variant, n, own);
    if (d) out.push(d);
  }
  const c = checkChannels(merged);
  if (c) out.push(c);
  return out;
}
