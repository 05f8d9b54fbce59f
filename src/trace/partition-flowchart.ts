/**
 * Mermaid `flowchart` of a run's topology phases, the seed's diagram 2: the run is cut at every
 * partition and heal; each phase is a subgraph with each node's state (and round) at the end of
 * the phase, the messages that crossed each link during it, and the links a partition cut.
 */
import type { Trace, TraceStep } from './trace.js';

interface Phase {
  fromMs: number;
  toMs: number;
  label: string;
  sides: number[][];
  steps: TraceStep[];
}

const q = (text: string) => `"${text.replace(/"/g, "'").replace(/[;#]/g, ' ')}"`;

function phasesOf(trace: Trace): Phase[] {
  const all = Array.from({ length: trace.n }, (_, i) => i + 1);
  const end = trace.untilMs ?? trace.steps.reduce((m, s) => Math.max(m, s.atMs ?? 0), 0);
  const phases: Phase[] = [{ fromMs: 0, toMs: end, label: 'connected', sides: [all], steps: [] }];
  for (const s of trace.steps) {
    if (s.kind === 'partition' || s.kind === 'heal') {
      const t = s.atMs ?? 0;
      phases[phases.length - 1].toMs = t;
      const sides = s.kind === 'partition' ? s.sides! : [all];
      const label = s.kind === 'partition' ? `partition ${s.sides!.map((x) => `{${x.join(',')}}`).join(' | ')}` : 'healed';
      phases.push({ fromMs: t, toMs: end, label, sides, steps: [] });
    }
    phases[phases.length - 1].steps.push(s);
  }
  return phases;
}

export function partitionFlowchart(trace: Trace, title?: string): string {
  const lines = ['flowchart TB'];
  if (title) lines.unshift('---', `title: ${title.replace(/[:#;]/g, ' ')}`, '---');
  const state = new Map<number, { state: string; round?: number }>();
  const classes = new Map<string, string[]>();
  const phases = phasesOf(trace);
  phases.forEach((p, i) => {
    for (const s of p.steps) {
      if (s.kind === 'crash') state.set(s.node!, { state: 'down' });
      else if (s.node !== undefined && s.after !== undefined) state.set(s.node, { state: s.after, round: s.round ?? state.get(s.node)?.round });
    }
    const id = (node: number) => `P${i}N${node}`;
    lines.push(`    subgraph P${i}[${q(`t=${p.fromMs}–${p.toMs} ms: ${p.label}`)}]`, '        direction LR');
    p.sides.forEach((side, k) => {
      const nested = p.sides.length > 1;
      if (nested) lines.push(`        subgraph P${i}S${k}[${q(`side {${side.join(',')}}`)}]`);
      for (const node of side) {
        const st = state.get(node) ?? { state: '?' };
        const round = st.round === undefined ? '' : `<br/>round ${st.round}`;
        lines.push(`        ${nested ? '    ' : ''}${id(node)}((${q(`N${node}<br/>${st.state}${round}`)}))`);
        const cls = st.state.replace(/[^A-Za-z0-9]/g, '_');
        classes.set(cls, [...(classes.get(cls) ?? []), id(node)]);
      }
      if (nested) lines.push('        end');
    });
    const links = new Map<string, Map<string, number>>();
    for (const s of p.steps) {
      if (s.kind !== 'deliver') continue;
      const kinds = links.get(`${s.from}>${s.to}`) ?? new Map<string, number>();
      kinds.set(String(s.msg!.type), (kinds.get(String(s.msg!.type)) ?? 0) + 1);
      links.set(`${s.from}>${s.to}`, kinds);
    }
    for (const [link, kinds] of [...links].sort()) {
      const [from, to] = link.split('>').map(Number);
      const label = [...kinds].map(([k, c]) => (c > 1 ? `${k} ×${c}` : k)).join(', ');
      lines.push(`        ${id(from)} -.->|${q(label)}| ${id(to)}`);
    }
    if (p.sides.length > 1) lines.push(`        P${i}S0 x--x|${q('link cut')}| P${i}S1`);
    lines.push('    end');
    if (i > 0) lines.push(`    P${i - 1} ==> P${i}`);
  });
  const palette = ['#c8e6c9,stroke:#2e7d32', '#e3f2fd,stroke:#1565c0', '#fff3e0,stroke:#ef6c00', '#f3e5f5,stroke:#7b1fa2', '#ffebee,stroke:#c62828', '#eeeeee,stroke:#616161'];
  [...classes.keys()].sort().forEach((cls, k) => {
    lines.push(`    classDef st_${cls} fill:${palette[k % palette.length]}`);
    lines.push(`    class ${classes.get(cls)!.join(',')} st_${cls}`);
  });
  return lines.join('\n');
}
