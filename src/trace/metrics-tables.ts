/** Metrics as tables: printed by `coordkit simulate`, written as Markdown and HTML by the report. */
import type { Metrics } from './metrics.js';

export interface Table {
  title: string;
  headers: string[];
  rows: string[][];
  /** One line under the table. */
  summary?: string;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
// Thousands separated, as people read them: 10,763 ms.
const num = (x: number) => x.toLocaleString('en-US', { maximumFractionDigits: 1 });
const ms = (x: number | null | undefined) => (x === null || x === undefined ? '-' : `${num(x)} ms`);

export function metricsTables(m: Metrics): Table[] {
  const tables: Table[] = [];
  const { messages } = m;
  const countRow = (name: string, c: { messages: number; frames: number; delivered: number }) => [name, num(c.messages), num(c.frames), num(c.delivered)];
  tables.push({
    title: 'Messages by kind (a broadcast counts once as a message, once per recipient as a frame)',
    headers: ['kind', 'messages', 'frames', 'delivered'],
    rows: [...Object.entries(messages.byKind).map(([k, c]) => countRow(k, c)), countRow('total', messages.total)],
  });
  tables.push({
    title: 'Messages by phase',
    headers: ['phase', 'messages', 'frames', 'delivered', 'from', 'to'],
    rows: Object.entries(messages.byPhase).map(([k, c]) => [...countRow(k, c), ms(c.firstMs), ms(c.lastMs)]),
  });
  const links = Object.entries(m.latency.perLink).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  if (links.length) {
    tables.push({
      title: 'Latency per link',
      headers: ['link', 'deliveries', 'min', 'mean', 'max'],
      rows: links.map(([link, l]) => [link, num(l.count), ms(l.minMs), ms(l.meanMs), ms(l.maxMs)]),
      summary: m.completion ? `completion: every node noted ${m.completion.note} by t=${m.completion.atMs} ms` : undefined,
    });
  }
  if (m.waits) {
    const w = m.waits;
    const u = m.utilization;
    tables.push({
      title: `Waits (${w.label})`,
      headers: ['node', 'from', 'to', 'wait'],
      rows: [...w.perNode.map((x) => [`N${x.node}`, ms(x.fromMs), ms(x.toMs), ms(x.waitMs)]), ['total', '', ms(w.releaseMs), ms(w.totalMs)]],
      summary: u
        ? `utilization to t=${u.windowMs[1]} ms: ${pct(u.ratio)} (${u.busyMs} ms of work in ${m.nodes} × ${u.windowMs[1]} ms); during the waits: ${pct(u.ratioDuringWait)} (${u.workDuringWaitMs} ms of work in ${u.waitMs} ms waited)`
        : undefined,
    });
  }
  if (m.stragglers) {
    tables.push({
      title: 'Straggler ranking (latest arrival first)',
      headers: ['rank', 'node', 'arrived', 'later than the first by', 'straggler'],
      rows: m.stragglers.ranking.map((r, i) => [String(i + 1), `N${r.node}`, ms(r.arrivalMs), ms(r.lateMs), m.stragglers!.stragglers.includes(r.node) ? 'yes' : '']),
      summary: `stragglers: ${m.stragglers.stragglers.map((n) => `N${n}`).join(', ') || 'none'}`,
    });
  }
  if (m.queues) {
    tables.push({
      title: 'Queue length per node over time (t ms: length)',
      headers: ['node', 'max', 'series'],
      rows: Object.entries(m.queues.perNode).map(([node, series]) => [`N${node}`, String(m.queues!.maxPerNode[node]), series.map((p) => `${p.atMs}:${p.length}`).join(' ')]),
    });
  }
  if (m.unavailability) {
    const u = m.unavailability;
    tables.push({
      title: 'Unavailability per node (intervals without a leader to serve through)',
      headers: ['node', 'intervals'],
      rows: Object.entries(u.perNode).map(([node, spans]) => [`N${node}`, spans.map(([a, b]) => `${a}..${b ?? 'end'} ms`).join(', ')]),
      summary: `unavailability window after the first fault: t=${u.fromMs} ms to ${u.toMs === null ? 'not recovered by the end' : `t=${u.toMs} ms`} (${ms(u.windowMs)})`,
    });
  }
  return tables;
}

export function tableText(t: Table): string {
  const widths = t.headers.map((h, i) => Math.max(h.length, ...t.rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
  const out = [t.title, line(t.headers), line(widths.map((w) => '-'.repeat(w))), ...t.rows.map(line)];
  if (t.summary) out.push(t.summary);
  return out.join('\n');
}

export function tableMarkdown(t: Table): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  const out = [`**${t.title}**`, '', `| ${t.headers.map(esc).join(' | ')} |`, `|${t.headers.map(() => ' --- ').join('|')}|`, ...t.rows.map((r) => `| ${r.map(esc).join(' | ')} |`)];
  if (t.summary) out.push('', t.summary);
  return out.join('\n');
}
