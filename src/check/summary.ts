/** One line per checked model: the table `npm start` prints, and the JSON `check --json` emits. */
import { canonical } from '../canonical.js';
import { createModel } from './model.js';
import type { CheckReport } from './run-checks.js';
import { verdict } from './verdict.js';

export interface SummaryRow {
  primitive: string;
  variant: string;
  mode: string;
  states: number;
  timeMs: number;
  /** What the checks found: `pass`, or the violated properties. */
  found: string;
  /** `ok` when the result is the expected one (correct variants pass, buggy ones are caught). */
  verdict: 'ok' | 'UNEXPECTED';
}

/** The variant, with what differs from its default configuration (an `alsoCheck` model). */
function variantLabel(report: CheckReport): string {
  const { protocol, config } = report.model;
  const base = createModel(protocol, { variant: config.variant }).config;
  const diff: string[] = [];
  if (config.nodes !== base.nodes) diff.push(`${config.nodes} nodes`);
  if (config.maxRound !== base.maxRound) diff.push(`round ≤ ${config.maxRound}`);
  if (canonical([...config.faults].sort()) !== canonical([...base.faults].sort())) diff.push(config.faults.length ? `faults ${config.faults.join(',')}` : 'no fault');
  for (const [k, v] of Object.entries(config.params)) if (canonical(v) !== canonical(base.params[k])) diff.push(`${k} ${Array.isArray(v) ? v.join(',') : String(v)}`);
  return diff.length ? `${config.variant} (${diff.join(', ')})` : config.variant;
}

export function summaryRow(report: CheckReport): SummaryRow {
  const broken = [...new Set(report.violations.map((v) => v.invariant))];
  const expected = report.model.variant.breaks;
  const ok = expected ? broken.includes(expected) : broken.length === 0;
  return {
    primitive: report.model.protocol.name,
    variant: variantLabel(report),
    mode: report.mode,
    states: report.explore?.states ?? 0,
    timeMs: Math.round(report.elapsedMs),
    found: broken.length ? `violates ${broken.join(', ')}` : verdict(report).outcome === 'pass' ? 'pass' : 'no violation found, not a proof',
    verdict: ok ? 'ok' : 'UNEXPECTED',
  };
}

export function formatTable(rows: SummaryRow[]): string {
  const header = ['primitive', 'variant', 'mode', 'states', 'time', 'result', 'verdict'];
  const cells = rows.map((r) => [r.primitive, r.variant, r.mode, r.states.toLocaleString('en-US'), `${r.timeMs} ms`, r.found, r.verdict]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

/** The `check --json` object. */
export function reportJson(r: CheckReport) {
  const v = verdict(r);
  return {
    outcome: v.outcome,
    summary: v.summary,
    extent: v.extent,
    primitive: r.model.protocol.name,
    variant: r.model.config.variant,
    nodes: r.model.config.nodes,
    mode: r.mode,
    network: r.model.config.network,
    faults: r.model.config.faults,
    params: r.model.config.params,
    states: r.explore?.states ?? 0,
    transitions: r.explore?.transitions ?? 0,
    depth: r.explore?.depth ?? 0,
    complete: r.explore?.complete ?? false,
    stopped: r.explore?.stopped,
    maxStates: r.maxStates,
    cut: r.explore?.cut,
    search: r.explore?.search,
    threads: r.explore?.threads,
    bounded: r.explore?.bounded ?? 0,
    elapsedMs: Math.round(r.elapsedMs),
    statesPerSecond: r.explore?.statesPerSecond ?? 0,
    walk: r.walk ? { runs: r.walk.runs, steps: r.walk.steps, seed: r.walk.seed } : undefined,
    coverage: r.coverage.measured ? { measured: true, states: r.coverage.states, transitions: r.coverage.transitions } : { measured: false },
    properties: v.properties,
    violations: r.violations.map((x) => ({ invariant: x.invariant, kind: x.kind, mode: x.mode, steps: x.steps.length, path: x.path, replay: x.replay, ...(x.notReached ? { notReached: x.notReached } : {}), ...(x.fairness ? { fairness: x.fairness } : {}) })),
  };
}
