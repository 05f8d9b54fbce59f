/**
 * Metrics of a trace, the seed's "invisible" quantities made numbers: message amplification
 * (logical messages, where a broadcast counts once, against frames on the wire), latency per
 * link and to completion, wait per node and in total, utilization, queue lengths over time,
 * the unavailability window after a fault, and the straggler ranking.
 */
import type { NodeId } from '../protocol.js';
import { canonical } from '../canonical.js';
import type { MetricsSpec } from '../sim/timed-scenario.js';
import type { Trace, TraceStep } from './trace.js';

export interface MessageCount {
  /** Logical messages: a broadcast (one message to several nodes in one step) counts once. */
  messages: number;
  /** Frames put on the wire, one per recipient. */
  frames: number;
  delivered: number;
}

export interface PhaseCount extends MessageCount {
  firstMs?: number;
  lastMs?: number;
}

export interface LinkLatency {
  count: number;
  minMs: number;
  maxMs: number;
  meanMs: number;
}

export interface NodeWait {
  node: NodeId;
  fromMs: number;
  toMs: number;
  waitMs: number;
}

export interface Metrics {
  primitive: string;
  variant: string;
  scenario?: string;
  seed?: number;
  nodes: number;
  /** Time of the last step. */
  endMs: number;
  messages: { total: MessageCount; byKind: Record<string, MessageCount>; byPhase: Record<string, PhaseCount> };
  latency: { perLink: Record<string, LinkLatency> };
  completion?: { note: string; atMs: number; perNode: Record<string, number> };
  waits?: { label: string; from: string; to: string; perNode: NodeWait[]; totalMs: number; releaseMs: number };
  utilization?: { windowMs: [number, number]; busyMs: number; ratio: number; waitMs: number; workDuringWaitMs: number; ratioDuringWait: number };
  queues?: { perNode: Record<string, { atMs: number; length: number }[]>; maxPerNode: Record<string, number> };
  unavailability?: { fromMs: number; toMs: number | null; windowMs: number | null; perNode: Record<string, [number, number | null][]> };
  stragglers?: { ranking: { node: NodeId; arrivalMs: number; lateMs: number }[]; stragglers: NodeId[] };
}

const at = (s: TraceStep) => s.atMs ?? 0;
const zero = (): MessageCount => ({ messages: 0, frames: 0, delivered: 0 });

function countMessages(trace: Trace, phases: Record<string, string>) {
  const total = zero();
  const byKind: Record<string, MessageCount> = {};
  const byPhase: Record<string, PhaseCount> = {};
  const bump = (type: string, t: number, f: (c: MessageCount) => void) => {
    f(total);
    f((byKind[type] ??= zero()));
    const p = (byPhase[phases[type] ?? type] ??= zero());
    f(p);
    p.firstMs = Math.min(p.firstMs ?? t, t);
    p.lastMs = Math.max(p.lastMs ?? t, t);
  };
  for (const s of trace.steps) {
    const groups = new Map<string, { type: string; k: number }>();
    for (const send of s.sends) {
      const key = canonical(send.msg);
      const g = groups.get(key) ?? { type: String(send.msg.type), k: 0 };
      g.k++;
      groups.set(key, g);
    }
    for (const g of groups.values()) bump(g.type, at(s), (c) => ((c.messages += 1), (c.frames += g.k)));
    if (s.kind === 'deliver') bump(String(s.msg!.type), at(s), (c) => (c.delivered += 1));
  }
  return { total, byKind, byPhase };
}

function linkLatencies(trace: Trace): Record<string, LinkLatency> {
  const out: Record<string, LinkLatency> = {};
  for (const s of trace.steps) {
    if (s.kind !== 'deliver' || s.sentAtMs === undefined) continue;
    const d = at(s) - s.sentAtMs;
    const l = (out[`${s.from}->${s.to}`] ??= { count: 0, minMs: Infinity, maxMs: -Infinity, meanMs: 0 });
    l.meanMs = (l.meanMs * l.count + d) / (l.count + 1);
    l.count++;
    l.minMs = Math.min(l.minMs, d);
    l.maxMs = Math.max(l.maxMs, d);
  }
  return out;
}

/** Whether step `s` at its node is the request or fact `type` (a client request type or a note type). */
const marks = (s: TraceStep, type: string) => s.event?.type === type || s.notes.some((x) => x.type === type);

function waits(trace: Trace, spec: NonNullable<MetricsSpec['wait']>): NonNullable<Metrics['waits']> {
  const open = new Map<NodeId, number>();
  const perNode: NodeWait[] = [];
  for (const s of trace.steps) {
    if (s.node === undefined || s.unserved) continue;
    if (!open.has(s.node) && marks(s, spec.from)) open.set(s.node, at(s));
    if (open.has(s.node) && s.notes.some((x) => x.type === spec.to)) {
      const fromMs = open.get(s.node)!;
      perNode.push({ node: s.node, fromMs, toMs: at(s), waitMs: at(s) - fromMs });
      open.delete(s.node);
    }
  }
  perNode.sort((a, b) => a.node - b.node || a.fromMs - b.fromMs);
  return {
    label: spec.label ?? `${spec.from} → ${spec.to}`,
    from: spec.from,
    to: spec.to,
    perNode,
    totalMs: perNode.reduce((sum, w) => sum + w.waitMs, 0),
    releaseMs: perNode.reduce((m, w) => Math.max(m, w.toMs), 0),
  };
}

const overlap = (a0: number, a1: number, b0: number, b1: number) => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

function utilization(trace: Trace, w: Metrics['waits'], endMs: number): NonNullable<Metrics['utilization']> {
  const lastWorkEnd = Math.max(0, ...trace.work.map((s) => s.endMs ?? endMs));
  const to = w?.releaseMs ? Math.max(w.releaseMs, lastWorkEnd) : endMs;
  let busyMs = 0;
  let workDuringWaitMs = 0;
  for (const span of trace.work) {
    const end = span.endMs ?? endMs;
    busyMs += overlap(span.startMs, end, 0, to);
    for (const x of w?.perNode ?? []) if (x.node === span.node) workDuringWaitMs += overlap(span.startMs, end, x.fromMs, x.toMs);
  }
  const waitMs = w?.totalMs ?? 0;
  return {
    windowMs: [0, to],
    busyMs,
    ratio: to > 0 ? busyMs / (trace.n * to) : 0,
    waitMs,
    workDuringWaitMs,
    ratioDuringWait: waitMs > 0 ? workDuringWaitMs / waitMs : 0,
  };
}

function queues(trace: Trace): NonNullable<Metrics['queues']> {
  const perNode: Record<string, { atMs: number; length: number }[]> = {};
  const maxPerNode: Record<string, number> = {};
  for (let id = 1; id <= trace.n; id++) {
    perNode[id] = [];
    maxPerNode[id] = 0;
  }
  for (const s of trace.steps) {
    if (s.node === undefined || s.queue === undefined) continue;
    const series = perNode[s.node];
    const last = series[series.length - 1];
    if (last && last.atMs === at(s)) last.length = s.queue;
    else if (!last || last.length !== s.queue) series.push({ atMs: at(s), length: s.queue });
    maxPerNode[s.node] = Math.max(maxPerNode[s.node], s.queue);
  }
  return { perNode, maxPerNode };
}

/** Intervals each node could not serve, and the window from the first fault until every node serves again. */
function unavailability(trace: Trace): NonNullable<Metrics['unavailability']> {
  const perNode: Record<string, [number, number | null][]> = {};
  const up = new Map<NodeId, boolean>();
  const set = (node: NodeId, ok: boolean, t: number) => {
    const spans = (perNode[node] ??= []);
    const open = spans.length > 0 && spans[spans.length - 1][1] === null;
    if (!ok && !open) spans.push([t, null]);
    if (ok && open) spans[spans.length - 1][1] = t;
    up.set(node, ok);
  };
  let fromMs: number | null = null;
  let lastFaultMs = 0;
  let toMs: number | null = null;
  for (const s of trace.steps) {
    if (['partition', 'crash', 'heal', 'restart'].includes(s.kind)) {
      if (s.kind === 'partition' || s.kind === 'crash') fromMs ??= at(s);
      lastFaultMs = at(s);
      toMs = null;
    }
    if (s.kind === 'crash') set(s.node!, false, at(s));
    else if (s.node !== undefined && s.available !== undefined) set(s.node, s.available, at(s));
    const allUp = trace.n === up.size && [...up.values()].every(Boolean);
    if (fromMs !== null && toMs === null && allUp && at(s) >= lastFaultMs) toMs = at(s);
  }
  return { fromMs: fromMs ?? 0, toMs, windowMs: fromMs !== null && toMs !== null ? toMs - fromMs : null, perNode };
}

/**
 * Nodes ranked by when they reached the wait (latest first). A straggler arrives in the later
 * half of the spread between the first and the last arrival: the others wait on it.
 */
function stragglers(w: NonNullable<Metrics['waits']>): NonNullable<Metrics['stragglers']> {
  const first = new Map<NodeId, number>();
  for (const x of w.perNode) if (!first.has(x.node)) first.set(x.node, x.fromMs);
  const arrivals = [...first].map(([node, arrivalMs]) => ({ node, arrivalMs }));
  const earliest = Math.min(...arrivals.map((a) => a.arrivalMs));
  const latest = Math.max(...arrivals.map((a) => a.arrivalMs));
  const ranking = arrivals.map((a) => ({ ...a, lateMs: a.arrivalMs - earliest })).sort((a, b) => b.arrivalMs - a.arrivalMs || a.node - b.node);
  const half = (latest - earliest) / 2;
  return { ranking, stragglers: ranking.filter((r) => latest > earliest && r.lateMs > half).map((r) => r.node) };
}

function completion(trace: Trace, spec: NonNullable<MetricsSpec['completion']>): Metrics['completion'] {
  const perNode: Record<string, number> = {};
  for (const s of trace.steps) {
    if (s.node !== undefined && perNode[s.node] === undefined && s.notes.some((x) => x.type === spec.note)) perNode[s.node] = at(s);
  }
  const times = Object.values(perNode);
  if (!times.length || (spec.nodes === 'all' && times.length < trace.n)) return undefined;
  return { note: spec.note, atMs: spec.nodes === 'all' ? Math.max(...times) : Math.min(...times), perNode };
}

/** Measures a trace. `spec` names what the primitive's scenario wants measured beyond messages and latency. */
export function measure(trace: Trace, spec: MetricsSpec = {}): Metrics {
  const endMs = trace.steps.reduce((m, s) => Math.max(m, at(s)), 0);
  const m: Metrics = {
    primitive: trace.primitive,
    variant: trace.variant,
    scenario: trace.scenario,
    seed: trace.seed,
    nodes: trace.n,
    endMs,
    messages: countMessages(trace, spec.phases ?? {}),
    latency: { perLink: linkLatencies(trace) },
  };
  if (spec.completion) m.completion = completion(trace, spec.completion);
  if (spec.wait) m.waits = waits(trace, spec.wait);
  if (trace.work.length) m.utilization = utilization(trace, m.waits, endMs);
  if (spec.queueField) m.queues = queues(trace);
  if (spec.availableField) m.unavailability = unavailability(trace);
  // Stragglers make sense where a node reaches the wait when its work ends (a barrier), not where work follows the wait (a mutex).
  const afterWork = (w: NodeWait) => trace.work.some((s) => s.node === w.node && s.endMs === w.fromMs);
  if (m.waits?.perNode.length && m.waits.perNode.every(afterWork)) m.stragglers = stragglers(m.waits);
  return m;
}
