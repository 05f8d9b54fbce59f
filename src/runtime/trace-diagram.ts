/**
 * Mermaid `sequenceDiagram` of a real run's merged trace: each received message is an arrow from
 * sender to receiver, timers, client requests, state changes and the launcher's faults are
 * notes, and the facts a node noted appear beside it. A delivery that repeats one already drawn
 * since the last change and changes nothing itself (a steady heartbeat) is left out, and the
 * number left out is said, so a few seconds of run stay readable.
 */
import { describeMessage } from '../describe-message.js';
import type { TraceRecord } from './trace-log.js';

const safe = (text: string) => text.replace(/[;#]/g, ' ').replace(/\s+/g, ' ').trim();

export function traceDiagram(merged: readonly TraceRecord[], n: number, title?: string): { text: string; elided: number } {
  const lines = ['sequenceDiagram'];
  if (title) lines.push(`    title ${safe(title)}`);
  for (let i = 1; i <= n; i++) lines.push(`    participant N${i} as Node${i}`);
  let drawn = new Set<string>();
  let elided = 0;
  const everyone = `N1,N${n}`;
  for (const r of merged) {
    if (r.kind === 'fault') {
      drawn = new Set();
      if (r.op === 'kill' || r.op === 'restart') lines.push(`    Note over N${r.target}: ${r.op === 'kill' ? 'kill -9' : 'restart'}`);
      else if (r.op === 'partition') lines.push(`    Note over ${everyone}: partition ${(r.sides ?? []).map((s) => `{${s.join(',')}}`).join('|')}`);
      else if (r.op === 'heal') lines.push(`    Note over ${everyone}: heal`);
      else if (r.op === 'client') lines.push(`    Note over N${r.target}: client ${safe(describeMessage(r.request as Record<string, unknown>))}`);
      continue;
    }
    const changed = r.before !== r.after || r.notes.length > 0;
    if (r.kind === 'peer' && r.event) {
      const { from, ...msg } = r.event;
      const arrow = `    N${from}->>N${r.node}: ${safe(describeMessage(msg))}`;
      if (!changed && drawn.has(arrow)) {
        elided++;
        continue;
      }
      drawn.add(arrow);
      lines.push(arrow);
    } else if (r.kind === 'timer') {
      if (!changed && drawn.has(`t${r.node}${r.timer}`)) {
        elided++;
        continue;
      }
      drawn.add(`t${r.node}${r.timer}`);
      lines.push(`    Note over N${r.node}: timer ${safe(r.timer ?? '')}`);
    } else if (r.kind === 'init') {
      lines.push(`    Note over N${r.node}: ${r.restored ? `resumes from ${safe(describeMessage({ type: 'state', ...r.restored }))}` : 'starts'}`);
    }
    if (r.before !== undefined && r.before !== r.after) {
      lines.push(`    Note over N${r.node}: ${safe(r.before)} to ${safe(r.after)}`);
      drawn = new Set();
    }
    for (const note of r.notes) lines.push(`    Note right of N${r.node}: ${safe(describeMessage(note))}`);
  }
  if (elided) lines.push(`    Note over ${everyone}: ${elided} repeated unchanged events not drawn`);
  return { text: lines.join('\n'), elided };
}
