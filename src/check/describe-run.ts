/** A run as numbered prose lines, like etcd's interaction traces. */
import { describeChoice, describeMessage } from '../sim/choice.js';
import type { StepRecord } from '../sim/simulator.js';

export function describeStep(s: StepRecord, n: number): string {
  let line = describeChoice(s.choice, n);
  if (s.node !== undefined && s.before !== undefined && s.before !== s.after) line += `  [N${s.node} ${s.before} -> ${s.after}]`;
  const sends = s.sends.map((m) => `${m.from}->${m.to} ${describeMessage(m.msg)}`);
  if (sends.length) line += `  sends: ${sends.join('; ')}`;
  if (s.notes.length) line += `  notes: ${s.notes.map((x) => describeMessage(x as Record<string, unknown>)).join('; ')}`;
  return line;
}

export function describeRun(steps: readonly StepRecord[], n: number): string[] {
  return steps.map((s, i) => `${String(i + 1).padStart(3)}. ${describeStep(s, n)}`);
}
