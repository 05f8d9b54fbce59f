/**
 * Mermaid `sequenceDiagram` of a Trace, in the style of the seed's diagram 1: deliveries that
 * were in flight together are drawn as one `par` block, each arrow carries its link latency,
 * and a note marks each change of protocol phase, with its time.
 */
import { describeMessage } from '../describe-message.js';
import type { Trace, TraceStep } from './trace.js';
import { LOST_WRITE } from '../sim/choice.js';

/** Text Mermaid accepts inside a message or note: no `;` or `#` (entity syntax), one line. */
export const mermaidText = (text: string) => text.replace(/[;#]/g, ' ').replace(/\s+/g, ' ').trim();

const time = (ms: number | undefined) => (ms === undefined ? '' : `t=${ms} ms `);

interface Line {
  atMs: number;
  text: string[];
}

function stepLines(s: TraceStep, n: number): string[] {
  const out: string[] = [];
  const t = time(s.atMs);
  switch (s.kind) {
    case 'start':
      return [`Note over N${s.node}: ${t}start in ${mermaidText(s.after ?? '')}`];
    case 'deliver': {
      const latency = s.atMs !== undefined && s.sentAtMs !== undefined ? ` [${s.atMs - s.sentAtMs} ms]` : '';
      out.push(`N${s.from}->>N${s.to}: ${mermaidText(describeMessage(s.msg!))}${latency}`);
      break;
    }
    case 'drop':
      out.push(`N${s.from}-xN${s.to}: lost ${mermaidText(describeMessage(s.msg!))}`);
      break;
    case 'duplicate':
      out.push(`Note over N${s.from},N${s.to}: ${t}duplicated ${mermaidText(describeMessage(s.msg!))}`);
      break;
    case 'timer':
      out.push(`Note over N${s.node}: ${t}timer ${mermaidText(s.timer ?? '')}`);
      break;
    case 'client':
      if (s.unserved) out.push(`Note over N1,N${n}: ${t}client ${mermaidText(describeMessage(s.event!))} unserved, ${mermaidText(s.unserved)}`);
      else out.push(`Note over N${s.node}: ${t}client ${mermaidText(describeMessage(s.event!))}`);
      break;
    case 'crash':
    case 'restart':
      out.push(`Note over N${s.node}: ${t}${s.kind}${s.lost ? LOST_WRITE : ''}`);
      break;
    case 'partition':
      out.push(`Note over N1,N${n}: ${t}partition {${s.sides![0].join(',')}} | {${s.sides![1].join(',')}}`);
      break;
    case 'heal':
      out.push(`Note over N1,N${n}: ${t}heal`);
      break;
  }
  if (s.node !== undefined && s.before !== undefined && s.after !== undefined && s.before !== s.after) out.push(`Note over N${s.node}: ${mermaidText(s.before)} → ${mermaidText(s.after)}`);
  for (const note of s.notes) out.push(`Note right of N${s.node}: ${mermaidText(describeMessage(note))}`);
  return out;
}

/** Deliveries that were in flight together: each was sent before the first of the group arrived. */
function concurrent(group: TraceStep[], next: TraceStep): boolean {
  const first = group[0];
  return first.kind === 'deliver' && next.kind === 'deliver' && first.atMs !== undefined && next.sentAtMs !== undefined && next.sentAtMs < first.atMs;
}

export interface SequenceOptions {
  title?: string;
  /** Message type → phase name. */
  phases?: Record<string, string>;
}

export function traceSequenceDiagram(trace: Trace, options: SequenceOptions = {}): string {
  const n = trace.n;
  const lines = ['sequenceDiagram'];
  if (options.title) lines.push(`    title ${mermaidText(options.title)}`);
  for (let i = 1; i <= n; i++) lines.push(`    participant N${i} as Node${i}`);
  const body: Line[] = [];
  const phases = options.phases ?? {};
  let phase: string | undefined;
  let phaseNo = 0;
  const phaseNote = (s: TraceStep) => {
    const type = s.kind === 'deliver' ? String(s.msg!.type) : s.sends.length ? String(s.sends[0].msg.type) : undefined;
    const name = type === undefined ? undefined : (phases[type] ?? (options.phases ? undefined : type));
    if (name === undefined || name === phase) return [];
    phase = name;
    return [`Note over N1,N${n}: Phase ${++phaseNo}: ${mermaidText(name)} (from ${time(s.atMs)?.trim() || 'here'})`];
  };
  const work = trace.work.map((w) => ({ atMs: w.startMs, text: [`Note over N${w.node}: ${time(w.startMs)}${mermaidText(w.label)} for ${(w.endMs ?? trace.untilMs ?? w.startMs) - w.startMs} ms`] }));
  const steps = trace.steps;
  for (let i = 0; i < steps.length; ) {
    const group = [steps[i]];
    while (i + group.length < steps.length && concurrent(group, steps[i + group.length])) group.push(steps[i + group.length]);
    const atMs = steps[i].atMs ?? 0;
    if (group.length === 1) body.push({ atMs, text: [...phaseNote(steps[i]), ...stepLines(steps[i], n)] });
    else {
      const text = [...phaseNote(steps[i]), `par ${time(atMs)}${group.length} deliveries in flight together`];
      group.forEach((s, k) => {
        if (k > 0) text.push(`and ${time(s.atMs)}`.trim());
        text.push(...stepLines(s, n).map((l) => '    ' + l));
      });
      text.push('end');
      body.push({ atMs, text });
    }
    i += group.length;
  }
  // Work notes go before the first step at or after their start time.
  const merged: Line[] = [];
  let w = 0;
  const byStart = work.sort((a, b) => a.atMs - b.atMs);
  for (const line of body) {
    while (w < byStart.length && byStart[w].atMs <= line.atMs) merged.push(byStart[w++]);
    merged.push(line);
  }
  merged.push(...byStart.slice(w));
  for (const line of merged) for (const t of line.text) lines.push('    ' + t);
  return lines.join('\n');
}
