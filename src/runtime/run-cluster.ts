/**
 * `coordkit cluster` as a function: start N node processes, play a fault script, stop them all
 * (also on failure), then judge the run from its traces alone: the primitive's properties over
 * the merged trace, conformance of every node to the pure machine, and a Mermaid sequence
 * diagram of what happened.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Protocol, Variant } from '../protocol.js';
import { validateScript, runScript, ScriptError, type ClusterScript } from './cluster-script.js';
import { checkConformance, withoutUnpersisted, type Divergence, type Unpersisted } from './conformance.js';
import { LocalCluster } from './local-cluster.js';
import { traceDiagram } from './trace-diagram.js';
import { mergeTraces, readTrace, type TraceRecord } from './trace-log.js';
import { checkTraceProperties, type TracePropertyReport } from './trace-properties.js';

export interface TraceAnalysis {
  merged: TraceRecord[];
  properties: TracePropertyReport;
  divergences: Divergence[];
  /** Steps traced but cut off by a kill before they were persisted (legal; see conformance.ts). */
  unpersisted: Unpersisted[];
  diagram: string;
}

/** Judges a run from trace files (nodes' and the launcher's). */
export function analyzeTraces(protocol: Protocol, variant: Variant, n: number, files: string[], title?: string): TraceAnalysis {
  const merged = mergeTraces(files.map(readTrace));
  const conformance = checkConformance(protocol, variant, n, merged);
  return {
    merged,
    properties: checkTraceProperties(protocol, variant, n, withoutUnpersisted(merged, conformance.unpersisted)),
    divergences: conformance.divergences,
    unpersisted: conformance.unpersisted,
    diagram: traceDiagram(merged, n, title).text,
  };
}

/** The parsed default cluster script in a protocol's scenario folder (`cluster/seed.json`), or undefined. */
export function defaultScriptFile(scenarioDir: string | undefined): unknown {
  const file = scenarioDir && join(scenarioDir, 'cluster', 'seed.json');
  return file && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined;
}

/** The default script in a protocol's scenario folder for `n` nodes, or a generic one: run, split, heal, settle. */
export function defaultScript(scenarioDir: string | undefined, n: number): ClusterScript {
  const raw = defaultScriptFile(scenarioDir);
  if (raw !== undefined) return validateScript(raw, n);
  return {
    description: 'Generic: run 500 ms, split majority|minority for 500 ms, heal, settle 1 s.',
    steps: [{ sleep: 500 }, { partition: 'majority|minority' }, { sleep: 500 }, { heal: true }, { sleep: 1000 }],
  };
}

export interface ClusterRunOptions {
  protocol: Protocol;
  variant: Variant;
  nodes: number;
  script: ClusterScript;
  dir: string;
  protocolFile?: string;
  /** Where the nodes find the protocol's schemas (default: where they look themselves). */
  schemaDir?: string;
  /** Plain TCP, nothing authenticated (mutual TLS between the nodes and with the launcher otherwise). */
  insecure?: boolean;
}

export interface ClusterReport {
  primitive: string;
  variant: string;
  nodes: number;
  tls: boolean;
  dir: string;
  steps: string[];
  /** Why the script stopped early, if it did. */
  scriptError?: string;
  records: number;
  properties: TracePropertyReport;
  divergences: Divergence[];
  unpersisted: Unpersisted[];
  diagramFile: string;
  traceFile: string;
  elapsedMs: number;
  ok: boolean;
}

export async function runCluster(o: ClusterRunOptions): Promise<ClusterReport> {
  const t0 = performance.now();
  const steps: string[] = [];
  let scriptError: string | undefined;
  const cluster = await LocalCluster.start({ primitive: o.protocol.name, nodes: o.nodes, dir: o.dir, variant: o.variant.name, protocolFile: o.protocolFile, schemaDir: o.schemaDir, insecure: o.insecure });
  const interrupted = () => {
    void cluster.stop(0).then(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    await runScript(cluster, o.script, steps);
  } catch (err) {
    if (!(err instanceof ScriptError)) throw err;
    scriptError = err.message;
  } finally {
    await cluster.stop();
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
  }
  const files = [join(o.dir, 'cluster.ndjson'), ...readdirSync(o.dir).filter((d) => d.startsWith('node-')).map((d) => join(o.dir, d, 'trace.ndjson'))];
  const a = analyzeTraces(o.protocol, o.variant, o.nodes, files, `${o.protocol.name} ${o.variant.name} on ${o.nodes} real nodes`);
  const traceFile = join(o.dir, 'trace.ndjson');
  const diagramFile = join(o.dir, 'sequence.md');
  writeFileSync(traceFile, a.merged.map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(diagramFile, '```mermaid\n' + a.diagram + '\n```\n');
  const report: ClusterReport = {
    primitive: o.protocol.name,
    variant: o.variant.name,
    nodes: o.nodes,
    tls: !o.insecure,
    dir: o.dir,
    steps,
    ...(scriptError ? { scriptError } : {}),
    records: a.merged.length,
    properties: a.properties,
    divergences: a.divergences,
    unpersisted: a.unpersisted,
    diagramFile,
    traceFile,
    elapsedMs: Math.round(performance.now() - t0),
    ok: !scriptError && a.properties.worlds > 0 && a.properties.violations.length === 0 && a.divergences.length === 0,
  };
  writeFileSync(join(o.dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}
