/** `coordkit/trace`: timed runs, traces, their Mermaid diagrams and the seed's metrics. */
export type { Trace, TraceStep, TraceStepKind, WorkSpan } from './trace.js';
export { traceOfSteps, traceStep } from './trace.js';
export { describeTrace, describeTraceStep } from './describe-trace.js';
export { sequenceDiagram } from './sequence-diagram.js';
export { traceSequenceDiagram, type SequenceOptions } from './trace-sequence.js';
export { stateDiagram } from './state-diagram.js';
export { ganttChart } from './gantt.js';
export { partitionFlowchart } from './partition-flowchart.js';
export { measure, type Metrics, type MessageCount, type PhaseCount, type LinkLatency, type NodeWait } from './metrics.js';
export { metricsTables, tableMarkdown, tableText, type Table } from './metrics-tables.js';
export { renderRun, writeRun, type Diagram, type RenderedRun } from './render-run.js';
export { simulateTimed, type TimedRun } from '../sim/timed.js';
export { checkScenario, loadScenario, ScenarioError, type Scenario, type ScenarioEvent, type WorkItem, type MetricsSpec, type LatencyMs, type Target } from '../sim/timed-scenario.js';
