/** A trace as numbered prose lines, like etcd's interaction traces; the form golden files keep. */
import { describeMessage } from '../describe-message.js';
import type { Trace, TraceStep } from './trace.js';

export function describeTraceStep(s: TraceStep): string {
  const t = s.atMs === undefined ? '' : `t=${String(s.atMs).padStart(4)} ms  `;
  let what: string;
  switch (s.kind) {
    case 'deliver':
    case 'drop':
    case 'duplicate': {
      const latency = s.kind === 'deliver' && s.sentAtMs !== undefined && s.atMs !== undefined ? ` [${s.atMs - s.sentAtMs} ms]` : '';
      what = `${s.kind} ${s.from}->${s.to} ${describeMessage(s.msg!)}${latency}`;
      break;
    }
    case 'timer':
      what = `timer ${s.node} ${s.timer}`;
      break;
    case 'client':
      what = s.unserved ? `client ${describeMessage(s.event!)} unserved: ${s.unserved}` : `client ${s.node} ${describeMessage(s.event!)}`;
      break;
    case 'partition':
      what = `partition {${s.sides![0].join(',')}}|{${s.sides![1].join(',')}}`;
      break;
    case 'heal':
      what = 'heal';
      break;
    default:
      what = `${s.kind} ${s.node}`;
  }
  if (s.node !== undefined && s.after !== undefined && s.before !== s.after) what += `  [N${s.node} ${s.before ?? '-'} -> ${s.after}]`;
  if (s.sends.length) what += `  sends: ${s.sends.map((m) => `${s.node}->${m.to} ${describeMessage(m.msg)}`).join('; ')}`;
  if (s.notes.length) what += `  notes: ${s.notes.map((x) => describeMessage(x)).join('; ')}`;
  return t + what;
}

export function describeTrace(trace: Trace): string[] {
  const head = `# ${trace.primitive} (${trace.variant}), ${trace.n} nodes${trace.scenario ? `, scenario ${trace.scenario}` : ''}${trace.seed !== undefined ? `, seed ${trace.seed}` : ''}`;
  const work = trace.work.map((w) => `work N${w.node} ${w.label}: ${w.startMs}..${w.endMs ?? 'end'} ms`);
  return [head, ...trace.steps.map((s, i) => `${String(i + 1).padStart(4)}. ${describeTraceStep(s)}`), ...work];
}
