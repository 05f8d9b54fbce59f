/**
 * Everything drawn and measured from one timed run: the metrics, the prose trace and the
 * Mermaid diagrams that fit it (a sequence diagram always; a gantt timeline when nodes work or
 * wait; a partition flowchart when the topology changed). Written to a folder by `simulate`,
 * embedded by the report, pinned by golden files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TimedRun } from '../sim/timed.js';
import type { Scenario } from '../sim/timed-scenario.js';
import { describeTrace } from './describe-trace.js';
import { ganttChart } from './gantt.js';
import { measure, type Metrics } from './metrics.js';
import { partitionFlowchart } from './partition-flowchart.js';
import { traceSequenceDiagram } from './trace-sequence.js';

export interface Diagram {
  /** File stem: `sequence`, `gantt`, `flowchart`. */
  name: string;
  title: string;
  mermaid: string;
}

export interface RenderedRun {
  scenario: Scenario;
  run: TimedRun;
  metrics: Metrics;
  traceLines: string[];
  diagrams: Diagram[];
}

export function renderRun(scenario: Scenario, run: TimedRun): RenderedRun {
  const { trace } = run;
  const metrics = measure(trace, scenario.metrics);
  const label = `${trace.primitive} scenario ${scenario.name}`;
  const diagrams: Diagram[] = [
    { name: 'sequence', title: `${label}: messages over time`, mermaid: traceSequenceDiagram(trace, { title: `${label} (seed ${trace.seed})`, phases: scenario.metrics.phases }) },
  ];
  if (trace.work.length || metrics.waits?.perNode.length) {
    diagrams.push({ name: 'gantt', title: `${label}: timeline per node`, mermaid: ganttChart(trace, metrics, `${label}: timeline per node`) });
  }
  if (trace.steps.some((s) => s.kind === 'partition')) {
    diagrams.push({ name: 'flowchart', title: `${label}: topology phases`, mermaid: partitionFlowchart(trace, `${label}: topology phases`) });
  }
  return { scenario, run, metrics, traceLines: describeTrace(trace), diagrams };
}

/** Writes trace.json, trace.txt, metrics.json and one .mmd file per diagram into `dir`; returns the paths. */
export function writeRun(dir: string, r: RenderedRun): string[] {
  mkdirSync(dir, { recursive: true });
  const files: [string, string][] = [
    ['trace.json', JSON.stringify(r.run.trace, null, 1) + '\n'],
    ['trace.txt', r.traceLines.join('\n') + '\n'],
    ['metrics.json', JSON.stringify({ ...r.metrics, violations: r.run.violations }, null, 2) + '\n'],
    ...r.diagrams.map((d): [string, string] => [`${d.name}.mmd`, d.mermaid + '\n']),
  ];
  for (const [name, text] of files) writeFileSync(join(dir, name), text);
  return files.map(([name]) => join(dir, name));
}
