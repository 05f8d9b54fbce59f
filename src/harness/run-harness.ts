/**
 * `coordkit harness` as a function: start the nodes behind their proxies, play the script, stop
 * everything (also on failure, and at the deadline whatever happens), then judge the run from
 * what crossed the wire: every node's frames, notes and answers explained by the pure machine
 * (wire-replay.ts), the explanation checked again as a trace (`checkConformance`), the
 * primitive's properties over it (`checkTraceProperties`) and, over the notes the nodes pushed,
 * the properties of the history (`checkHistoryProperties`).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Protocol, Variant } from '../protocol.js';
import { runScript, ScriptError, type ClusterScript } from '../runtime/cluster-script.js';
import { checkConformance } from '../runtime/conformance.js';
import { traceDiagram } from '../runtime/trace-diagram.js';
import { mergeTraces, type ClusterRecord, type TraceRecord } from '../runtime/trace-log.js';
import { checkHistoryProperties, checkTraceProperties, type TraceViolation } from '../runtime/trace-properties.js';
import type { FrameValidator } from '../runtime/validator.js';
import { HarnessCluster } from './harness-cluster.js';
import { replayWire, type WireDivergence } from './wire-replay.js';
import type { WireRecord } from './wire-record.js';

export interface HarnessOptions {
  protocol: Protocol;
  variant: Variant;
  nodes: number;
  command: string[];
  commandText: string;
  ours: number[];
  script: ClusterScript;
  dir: string;
  validator: FrameValidator;
  seed: number;
  timeoutMs: number;
  protocolFile?: string;
  schemaDir?: string;
}

export interface HarnessReport {
  primitive: string;
  variant: string;
  nodes: number;
  ours: number[];
  command: string;
  seed: number;
  dir: string;
  steps: string[];
  /** Why the run stopped early: a script step that failed, a node that would not start, the deadline. */
  stopped?: string;
  /** Nodes whose process ended without being killed by the harness. */
  crashed: { node: number; status: string }[];
  wire: { sent: number; delivered: number; lost: Record<string, number>; refused: number; notes: number; answers: number };
  /** The first observation of each node that no run of the model explains. */
  divergences: WireDivergence[];
  /** Divergences of the explained run as a trace (channels: every receipt was sent). */
  traceDivergences: { node: number; seq: number; what: string }[];
  properties: { checked: string[]; notJudged: string[]; worlds: number; violations: (TraceViolation & { over: 'explained run' | 'observed notes' })[]; upTo: 'end' | 'first divergence' };
  diagramFile: string;
  wireFile: string;
  elapsedMs: number;
  ok: boolean;
}

/** What the harness did, as the launcher records of a trace (for the property check and the diagram). */
function launcherRecords(wire: readonly WireRecord[]): ClusterRecord[] {
  const started = new Set<number>();
  const out: ClusterRecord[] = [];
  for (const w of wire) {
    if (w.kind === 'start') {
      if (started.has(w.node)) out.push({ node: 0, time: w.time, kind: 'fault', op: 'restart', target: w.node });
      started.add(w.node);
    } else if (w.kind === 'kill') out.push({ node: 0, time: w.time, kind: 'fault', op: 'kill', target: w.node });
    else if (w.kind === 'request') out.push({ node: 0, time: w.time, kind: 'fault', op: 'client', target: w.node, request: w.request });
    else if (w.kind === 'fault' && (w.op === 'partition' || w.op === 'heal')) out.push({ node: 0, time: w.time, kind: 'fault', op: w.op, ...(w.sides ? { sides: w.sides } : {}) });
  }
  return out;
}

export async function runHarness(o: HarnessOptions): Promise<HarnessReport> {
  const t0 = performance.now();
  const deadline = t0 + o.timeoutMs;
  const steps: string[] = [];
  let stopped: string | undefined;
  let cluster: HarnessCluster | null = null;
  let wire: WireRecord[] = [];
  let stopAt = Infinity;
  let overdue: NodeJS.Timeout | undefined;
  try {
    const overrun = new Promise<never>((_, reject) => {
      overdue = setTimeout(() => reject(new ScriptError(`the run took longer than --timeout ${o.timeoutMs / 1000} s`)), Math.max(0, deadline - performance.now() - 2000));
    });
    const started = HarnessCluster.start({ primitive: o.protocol.name, nodes: o.nodes, command: o.command, ours: o.ours, dir: o.dir, cluster: `harness-${process.pid}`, validator: o.validator, seed: o.seed, deadline, startTimeoutMs: 15_000, variant: o.variant.name, protocolFile: o.protocolFile, schemaDir: o.schemaDir });
    started.catch(() => {});
    cluster = await Promise.race([started, overrun]);
    await Promise.race([runScript(cluster, o.script, steps), overrun]);
  } catch (err) {
    if (!(err instanceof ScriptError) && !(err instanceof Error && /^node \d+ |^links not connected|^cannot start node/.test(err.message))) throw err;
    stopped = err.message;
  } finally {
    clearTimeout(overdue);
    if (cluster) {
      stopAt = performance.timeOrigin + performance.now();
      await cluster.stop();
      wire = cluster.records;
    }
  }
  const n = o.nodes;
  writeFileSync(join(o.dir, 'wire.ndjson'), wire.map((r) => JSON.stringify(r)).join('\n') + (wire.length ? '\n' : ''));
  // A kill is recorded once its process has exited: an exit not followed by the harness's kill (before a restart) was the node's own.
  const crashed: { node: number; status: string }[] = [];
  wire.forEach((w, i) => {
    if (w.kind !== 'exit' || w.time >= stopAt - 1) return;
    const next = wire.slice(i + 1).find((k) => (k.kind === 'kill' || k.kind === 'start') && k.node === w.node);
    if (next?.kind !== 'kill') crashed.push({ node: w.node, status: w.status });
  });

  const replay = replayWire(o.protocol, o.variant, n, wire);
  const merged: TraceRecord[] = mergeTraces([...replay.records, launcherRecords(wire)]);
  const firstDivergence = replay.divergences.length ? Math.min(...replay.divergences.map((d) => d.time)) : Infinity;
  const judged = merged.filter((r) => r.time <= firstDivergence);
  const conformance = checkConformance(o.protocol, o.variant, n, judged);
  const props = checkTraceProperties(o.protocol, o.variant, n, judged);
  const observed = checkHistoryProperties(o.protocol, n, wire.flatMap((w) => (w.kind === 'note' ? [{ node: w.node, note: w.note }] : [])));
  // A run cut at a divergence has no end to judge `eventually` properties at.
  const notJudged = replay.divergences.length ? o.protocol.properties.filter((p) => p.kind === 'eventually').map((p) => p.name) : [];
  const violations = [
    ...props.violations.filter((v) => !notJudged.includes(v.property)).map((v) => ({ ...v, over: 'explained run' as const })),
    ...observed.violations.filter((v) => !props.violations.some((p) => p.property === v.property)).map((v) => ({ ...v, over: 'observed notes' as const })),
  ];

  const lost: Record<string, number> = {};
  let sent = 0;
  for (const w of wire) {
    if (w.kind !== 'send') continue;
    sent++;
    if (w.fate !== 'delivered' && w.fate !== 'delayed') lost[w.fate] = (lost[w.fate] ?? 0) + 1;
  }
  let diagram = traceDiagram(judged, n, `${o.protocol.name} through the harness${replay.divergences.length ? ', up to the first divergence' : ''}`).text;
  for (const d of replay.divergences.filter((x) => x.time === firstDivergence)) diagram += `\n    Note over N${d.node}: DIVERGENCE ${d.what.replace(/[;#]/g, ' ').slice(0, 200)}`;
  const diagramFile = join(o.dir, 'sequence.md');
  writeFileSync(diagramFile, '```mermaid\n' + diagram + '\n```\n');
  const report: HarnessReport = {
    primitive: o.protocol.name,
    variant: o.variant.name,
    nodes: n,
    ours: o.ours,
    command: o.commandText,
    seed: o.seed,
    dir: o.dir,
    steps,
    ...(stopped ? { stopped } : {}),
    crashed,
    wire: { sent, delivered: wire.filter((w) => w.kind === 'deliver').length, lost, refused: wire.filter((w) => w.kind === 'invalid').length, notes: wire.filter((w) => w.kind === 'note').length, answers: wire.filter((w) => w.kind === 'answer').length },
    divergences: replay.divergences,
    traceDivergences: conformance.divergences,
    properties: { checked: props.checked, notJudged, worlds: props.worlds, violations, upTo: replay.divergences.length ? 'first divergence' : 'end' },
    diagramFile,
    wireFile: join(o.dir, 'wire.ndjson'),
    elapsedMs: Math.round(performance.now() - t0),
    ok: false,
  };
  report.ok = !stopped && !crashed.length && props.worlds > 0 && !violations.length && !replay.divergences.length && !conformance.divergences.length;
  writeFileSync(join(o.dir, 'report.json'), JSON.stringify(report, null, 2) + '\n');
  return report;
}
