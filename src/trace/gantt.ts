/**
 * Mermaid `gantt` timeline of a timed trace, the seed's diagram 3 and the barrier timeline: one
 * section per node with its work spans, its waits (request to entry, arrival to release), and
 * milestones for client requests, for the fact that ends a wait and for each change of the
 * node's queue length. Stragglers' work is `crit`.
 */
import type { Metrics } from './metrics.js';
import type { Trace } from './trace.js';
import { mermaidText } from './trace-sequence.js';

export function ganttChart(trace: Trace, metrics: Metrics, title: string): string {
  const end = Math.max(metrics.endMs, ...trace.work.map((w) => w.endMs ?? 0));
  const lines = ['gantt', `    title ${mermaidText(title)}`, '    dateFormat x', `    axisFormat ${end < 1000 ? '%L ms' : '%S.%L s'}`, '    todayMarker off'];
  const stragglers = new Set(metrics.stragglers?.stragglers ?? []);
  const waitTo = metrics.waits?.to;
  for (let node = 1; node <= trace.n; node++) {
    const tasks: { atMs: number; line: string }[] = [];
    let k = 0;
    const id = () => `n${node}_${k++}`;
    for (const w of trace.work.filter((x) => x.node === node)) {
      const stop = w.endMs ?? end;
      const tag = stragglers.has(node) ? 'crit, ' : '';
      tasks.push({ atMs: w.startMs, line: `${mermaidText(w.label)} ${stop - w.startMs} ms :${tag}${id()}, ${w.startMs}, ${stop}` });
    }
    for (const w of metrics.waits?.perNode.filter((x) => x.node === node) ?? []) {
      if (w.waitMs > 0) tasks.push({ atMs: w.fromMs, line: `wait ${w.waitMs} ms :active, ${id()}, ${w.fromMs}, ${w.toMs}` });
      if (waitTo) tasks.push({ atMs: w.toMs, line: `${mermaidText(waitTo)} :milestone, ${id()}, ${w.toMs}, ${w.toMs}` });
    }
    for (const s of trace.steps) {
      if (s.kind === 'client' && s.node === node && s.atMs !== undefined) tasks.push({ atMs: s.atMs, line: `${mermaidText(String(s.event!.type))} :milestone, ${id()}, ${s.atMs}, ${s.atMs}` });
    }
    for (const q of metrics.queues?.perNode[node] ?? []) {
      if (q.atMs > 0 || q.length > 0) tasks.push({ atMs: q.atMs, line: `queue ${q.length} :milestone, ${id()}, ${q.atMs}, ${q.atMs}` });
    }
    if (!tasks.length) continue;
    lines.push(`    section N${node}${stragglers.has(node) ? ' straggler' : ''}`);
    for (const t of tasks.sort((a, b) => a.atMs - b.atMs)) lines.push('    ' + t.line);
  }
  return lines.join('\n');
}
