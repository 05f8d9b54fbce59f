/**
 * Mermaid `sequenceDiagram` of a run: each delivery is an arrow from sender to receiver, timers,
 * faults and state changes are notes, the facts a node noted (elected, decided, ...) are notes
 * beside it.
 */
import { describeMessage, describePartition, LOST_WRITE } from '../sim/choice.js';
import type { StepRecord } from '../sim/simulator.js';

const safe = (text: string) => text.replace(/[;#]/g, ' ').replace(/\s+/g, ' ').trim();

export function sequenceDiagram(steps: readonly StepRecord[], n: number, title?: string): string {
  const lines = ['sequenceDiagram'];
  if (title) lines.push(`    title ${safe(title)}`);
  for (let i = 1; i <= n; i++) lines.push(`    participant N${i} as Node${i}`);
  for (const s of steps) {
    const c = s.choice;
    switch (c.kind) {
      case 'deliver':
        lines.push(`    N${c.from}->>N${c.to}: ${safe(describeMessage(c.msg.msg))}`);
        break;
      case 'drop':
        lines.push(`    N${c.from}-xN${c.to}: lost ${safe(describeMessage(c.msg.msg))}`);
        break;
      case 'duplicate':
        lines.push(`    Note over N${c.from},N${c.to}: duplicated ${safe(describeMessage(c.msg.msg))}`);
        break;
      case 'timer':
        lines.push(`    Note over N${c.node}: timer ${safe(c.timer.name)}`);
        break;
      case 'client':
        lines.push(`    Note over N${c.node}: client ${safe(describeMessage(c.event))}`);
        break;
      case 'crash':
      case 'restart':
        lines.push(`    Note over N${c.node}: ${c.kind}${c.kind === 'crash' && c.lost ? LOST_WRITE : ''}`);
        break;
      case 'partition':
        lines.push(`    Note over N1,N${n}: partition ${describePartition(c.sideA, n)}`);
        break;
      case 'heal':
        lines.push(`    Note over N1,N${n}: heal`);
        break;
    }
    if (s.node !== undefined && s.before !== undefined && s.before !== s.after) {
      lines.push(`    Note over N${s.node}: ${safe(s.before)} to ${safe(s.after ?? '')}`);
    }
    for (const note of s.notes) lines.push(`    Note right of N${s.node}: ${safe(describeMessage(note as Record<string, unknown>))}`);
  }
  return lines.join('\n');
}
