/**
 * The Trace: what happened in one run, as plain JSON. A timed simulation stamps every step with
 * its virtual time; a counterexample from the checker has no times. Diagrams and metrics read
 * only this type, so any run that can be written as a Trace can be drawn and measured.
 */
import type { NodeId } from '../protocol.js';
import { sideNodes } from '../sim/choice.js';
import type { StepRecord } from '../sim/simulator.js';

export type TraceStepKind = 'start' | 'deliver' | 'drop' | 'duplicate' | 'timer' | 'client' | 'crash' | 'restart' | 'partition' | 'heal';

export interface TraceStep {
  /** Virtual time in ms (timed runs only). */
  atMs?: number;
  kind: TraceStepKind;
  /** The node that took the step, if one did. */
  node?: NodeId;
  /** deliver / drop / duplicate: the link and the message. */
  from?: NodeId;
  to?: NodeId;
  msg?: Record<string, unknown>;
  /** deliver: when the message was sent (timed runs only). */
  sentAtMs?: number;
  /** timer: its name. */
  timer?: string;
  /** client: the request. */
  event?: Record<string, unknown>;
  /** partition: the two sides. */
  sides?: [NodeId[], NodeId[]];
  /** crash: before the flush of the node's newest state, which it restarts without. */
  lost?: true;
  /** The node's state before and after. */
  before?: string;
  after?: string;
  /** Messages the node sent (to every recipient, broadcasts expanded). */
  sends: { to: NodeId; msg: Record<string, unknown> }[];
  /** Facts the node noted. */
  notes: Record<string, unknown>[];
  /** Gauges read from the node after the step, when the scenario names them. */
  queue?: number;
  available?: boolean;
  /** The node's round (term, ballot) after the step, for primitives that define one. */
  round?: number;
  /** A client request that reached no node, and why. */
  unserved?: string;
}

/** A span of work a node did (timed runs only). */
export interface WorkSpan {
  node: NodeId;
  label: string;
  startMs: number;
  /** Absent when the run ended first. */
  endMs?: number;
}

export interface Trace {
  primitive: string;
  variant: string;
  n: number;
  /** Scenario name and seed for timed runs. */
  scenario?: string;
  seed?: number;
  untilMs?: number;
  steps: TraceStep[];
  work: WorkSpan[];
}

/** One checker step as a trace step. */
export function traceStep(r: StepRecord, n: number, atMs?: number): TraceStep {
  const c = r.choice;
  const step: TraceStep = { kind: c.kind, sends: [], notes: [] };
  if (atMs !== undefined) step.atMs = atMs;
  if (r.node !== undefined) step.node = r.node;
  switch (c.kind) {
    case 'deliver':
    case 'drop':
    case 'duplicate':
      Object.assign(step, { from: c.from, to: c.to, msg: c.msg.msg });
      break;
    case 'timer':
      step.timer = c.timer.name;
      break;
    case 'client':
      step.event = c.event;
      break;
    case 'crash':
      step.node = c.node;
      if (c.lost) step.lost = true;
      break;
    case 'restart':
      step.node = c.node;
      break;
    case 'partition':
      step.sides = [sideNodes(c.sideA, n), sideNodes(((1 << n) - 1) & ~c.sideA, n)];
      break;
    case 'heal':
      break;
  }
  if (r.before !== undefined) step.before = r.before;
  if (r.after !== undefined && r.node !== undefined) step.after = r.after;
  step.sends = r.sends.map((s) => ({ to: s.to, msg: s.msg }));
  step.notes = r.notes as Record<string, unknown>[];
  return step;
}

/** A counterexample (or any untimed run) as a Trace. */
export function traceOfSteps(steps: readonly StepRecord[], meta: { primitive: string; variant: string; n: number }): Trace {
  return { ...meta, steps: steps.map((s) => traceStep(s, meta.n)), work: [] };
}
