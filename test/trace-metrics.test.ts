/** The metric functions on small hand-written traces, where every number can be worked out by hand. */
import { describe, expect, it } from 'vitest';
import { measure } from '../src/trace/metrics.js';
import type { Trace, TraceStep } from '../src/trace/trace.js';

const step = (s: Partial<TraceStep> & Pick<TraceStep, 'kind'>): TraceStep => ({ sends: [], notes: [], ...s });

describe('measure', () => {
  it('counts a broadcast once as a message and once per recipient as a frame', () => {
    const msg = { type: 'propose', term: 1 };
    const trace: Trace = {
      primitive: 'p', variant: 'v', n: 3, work: [],
      steps: [
        step({ kind: 'client', node: 1, atMs: 0, sends: [{ to: 2, msg }, { to: 3, msg }] }),
        step({ kind: 'deliver', from: 1, to: 2, msg, atMs: 4, sentAtMs: 0, sends: [{ to: 1, msg: { type: 'ok' } }] }),
        step({ kind: 'deliver', from: 1, to: 3, msg, atMs: 9, sentAtMs: 0, sends: [{ to: 1, msg: { type: 'ok' } }] }),
      ],
    };
    const m = measure(trace, { phases: { propose: 'ask', ok: 'ask' } });
    expect(m.messages.byKind.propose).toEqual({ messages: 1, frames: 2, delivered: 2 });
    expect(m.messages.byKind.ok).toEqual({ messages: 2, frames: 2, delivered: 0 });
    expect(m.messages.byPhase.ask).toMatchObject({ messages: 3, frames: 4, firstMs: 0, lastMs: 9 });
    expect(m.latency.perLink['1->3']).toEqual({ count: 1, minMs: 9, maxMs: 9, meanMs: 9 });
  });

  it('measures waits, utilization and stragglers of nodes that arrive when their work ends', () => {
    const work = [10, 20, 100].map((endMs, i) => ({ node: i + 1, label: 'work', startMs: 0, endMs }));
    const steps = [
      ...work.map((w) => step({ kind: 'client', node: w.node, atMs: w.endMs, event: { type: 'arrive' } })),
      ...[1, 2, 3].map((node) => step({ kind: 'deliver', node, atMs: 100, from: 3, to: node, msg: { type: 'go' }, notes: [{ type: 'released' }] })),
    ];
    const m = measure({ primitive: 'p', variant: 'v', n: 3, work, steps }, { wait: { from: 'arrive', to: 'released' } });
    expect(m.waits!.perNode.map((w) => w.waitMs)).toEqual([90, 80, 0]);
    expect(m.waits!.totalMs).toBe(170);
    expect(m.utilization).toMatchObject({ windowMs: [0, 100], busyMs: 130, workDuringWaitMs: 0 });
    expect(m.stragglers!.ranking.map((r) => r.node)).toEqual([3, 2, 1]);
    expect(m.stragglers!.stragglers).toEqual([3]);
  });

  it('has no stragglers where work follows the wait (a lock), and measures the unavailability window', () => {
    const steps = [
      step({ kind: 'start', node: 1, atMs: 0, available: false }),
      step({ kind: 'start', node: 2, atMs: 0, available: false }),
      step({ kind: 'timer', node: 1, atMs: 5, available: true, event: { type: 'acquire' }, notes: [{ type: 'enter' }] }),
      step({ kind: 'timer', node: 2, atMs: 6, available: true }),
      step({ kind: 'crash', node: 2, atMs: 50 }),
      step({ kind: 'restart', node: 2, atMs: 70, available: false }),
      step({ kind: 'timer', node: 2, atMs: 81, available: true }),
    ];
    const m = measure({ primitive: 'p', variant: 'v', n: 2, steps, work: [{ node: 1, label: 'cs', startMs: 5, endMs: 30 }] }, { wait: { from: 'acquire', to: 'enter' }, availableField: 'leader' });
    expect(m.stragglers).toBeUndefined();
    expect(m.unavailability).toEqual({ fromMs: 50, toMs: 81, windowMs: 31, perNode: { 1: [[0, 5]], 2: [[0, 6], [50, 81]] } });
  });
});
