/**
 * The report: check results of every primitive, the seed scenarios run on the virtual clock
 * with their diagrams and metrics, the counterexamples the checkers found in the buggy
 * variants, and each node machine's state diagram. Written as `index.md` (renders on GitHub)
 * and `index.html` (offline, with Mermaid copied from node_modules).
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Protocol } from '../protocol.js';
import type { CheckReport } from '../check/run-checks.js';
import { describeRun } from '../check/describe-run.js';
import { reportJson, summaryRow } from '../check/summary.js';
import { simulateTimed } from '../sim/timed.js';
import { DEFAULT_SCENARIO, defaultScenario } from '../sim/default-scenario.js';
import { loadScenario, shippedScenarios } from '../sim/timed-scenario.js';
import { metricsTables } from '../trace/metrics-tables.js';
import { renderRun, type RenderedRun } from '../trace/render-run.js';
import { sequenceDiagram } from '../trace/sequence-diagram.js';
import { stateDiagram } from '../trace/state-diagram.js';
import { mermaidBlocks, type Block, type ReportDocument } from './document.js';
import { toHtml } from './html.js';
import { toMarkdown } from './markdown.js';
import { DEFAULT_EXPLORE_PORT, exploreLink } from '../viewer/explore-link.js';

/** A protocol as the report shows it: where its scenarios are, and how a command line names it. */
export interface ReportSubject {
  protocol: Protocol;
  scenarioDir?: string;
  ref: string;
}

/** Runs every scenario of every protocol with `seed` (the generated default for a protocol that has none). */
export function runShippedScenarios(subjects: readonly ReportSubject[], seed = 1): RenderedRun[] {
  const runs: RenderedRun[] = [];
  for (const { protocol, scenarioDir } of subjects) {
    const names = shippedScenarios(scenarioDir);
    const scenarios = names.length ? names.map((name) => loadScenario(name, [protocol], protocol.name, scenarioDir)) : [defaultScenario(protocol)];
    for (const scenario of scenarios) runs.push(renderRun(scenario, simulateTimed(protocol, scenario, seed)));
  }
  return runs;
}

const count = (n: number) => n.toLocaleString('en-US');
const ms = (n: number) => `${count(Math.round(n))} ms`;

/** One line per primitive: whether every variant gave the expected verdict, the states explored, the time taken. */
function summarySection(reports: readonly CheckReport[], protocols: readonly Protocol[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Summary' }];
  if (!reports.length) return [...blocks, { kind: 'text', text: 'No checks were run.' }];
  const rows = protocols.flatMap((p) => {
    const mine = reports.filter((r) => r.model.protocol === p);
    if (!mine.length) return [];
    const unexpected = mine.filter((r) => summaryRow(r).verdict !== 'ok').map((r) => r.model.config.variant);
    const caught = mine.filter((r) => r.model.variant.breaks).length;
    const states = mine.reduce((sum, r) => sum + (r.explore?.states ?? 0), 0);
    // Each check's time as results.json keeps it (whole ms), so a report rendered from it reads the same.
    const time = mine.reduce((sum, r) => sum + Math.round(r.elapsedMs), 0);
    const verdict = unexpected.length ? `UNEXPECTED: ${unexpected.join(', ')}` : `ok (${mine.length - caught} verified, ${caught} buggy caught)`;
    return [[p.name, verdict, count(states), ms(time)]];
  });
  blocks.push({ kind: 'table', table: { title: 'Every primitive at a glance (details below)', headers: ['primitive', 'verdict', 'states explored', 'time'], rows } });
  return blocks;
}

function checkSection(reports: readonly CheckReport[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Check results' }];
  if (!reports.length) return [...blocks, { kind: 'text', text: 'No checks were run.' }];
  blocks.push({
    kind: 'table',
    table: {
      title: 'Every primitive and variant (buggy variants must be caught violating the invariant they name)',
      headers: ['primitive', 'variant', 'mode', 'states', 'transitions', 'complete', 'coverage (states / transitions)', 'time', 'result', 'verdict'],
      rows: reports.map((r) => {
        const row = summaryRow(r);
        const j = reportJson(r);
        const cov = j.coverage.measured ? `${Math.round(j.coverage.states! * 100)}% / ${Math.round(j.coverage.transitions! * 100)}%` : 'not measured';
        return [row.primitive, row.variant, row.mode, count(j.states), count(j.transitions), j.complete ? 'yes' : 'no', cov, ms(row.timeMs), row.found, row.verdict];
      }),
    },
  });
  blocks.push({
    kind: 'details',
    summary: 'Every property of every checked variant',
    blocks: reports.map((r) => ({
      kind: 'table',
      table: {
        title: `${r.model.protocol.name} · ${r.model.config.variant}: properties`,
        headers: ['property', 'kind', 'result'],
        rows: r.model.protocol.properties.map((p) => [p.name, p.kind, r.violations.some((v) => v.invariant === p.name) ? 'VIOLATED' : 'holds']),
      },
    })),
  });
  return blocks;
}

function scenarioSection(runs: readonly RenderedRun[], subjects: readonly ReportSubject[]): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Seed scenarios on the virtual clock' }];
  const refOf = new Map(subjects.map((s) => [s.protocol.name, s.ref]));
  for (const r of runs) {
    const { trace } = r.run;
    const scenario = r.scenario.name === DEFAULT_SCENARIO ? '' : ` --scenario ${r.scenario.name}`;
    blocks.push({ kind: 'heading', level: 3, text: `${r.scenario.primitive}: ${r.scenario.name}` });
    blocks.push({ kind: 'text', text: `${r.scenario.description} Variant \`${trace.variant}\`, ${trace.n} nodes, seed ${trace.seed}; replay: \`coordkit simulate ${refOf.get(r.scenario.primitive) ?? r.scenario.primitive}${scenario} --seed ${trace.seed}\`.` });
    const broken = r.run.violations;
    blocks.push({ kind: 'text', text: broken.length ? `**Violated during the run:** ${broken.map((v) => `${v.property} at t=${v.atMs} ms`).join(', ')}.` : 'Every `always` property held at every step of the run.' });
    for (const t of metricsTables(r.metrics)) blocks.push({ kind: 'table', table: t });
    for (const d of r.diagrams) blocks.push({ kind: 'mermaid', title: d.title, text: d.mermaid });
  }
  return blocks;
}

/**
 * The one `coordkit explore` command that serves every protocol of the report: the kit's
 * primitives, the `--protocol` files, or the config that names them.
 */
export function exploreAllCommand(subjects: readonly ReportSubject[]): string {
  const args = subjects.map((s) => (s.ref === s.protocol.name ? '' : s.ref.startsWith('--config ') ? s.ref.split(' ').slice(0, 2).join(' ') : s.ref));
  return ['coordkit explore', ...new Set(args.filter(Boolean))].join(' ');
}

/** Each counterexample once, with every property it violates, and a link that opens it in the browser explorer. */
function counterexampleSection(reports: readonly CheckReport[], subjects: readonly ReportSubject[], port: number): Block[] {
  const blocks: Block[] = [{ kind: 'heading', level: 2, text: 'Counterexamples found in the buggy variants' }];
  blocks.push({
    kind: 'text',
    text: `Each link opens its run in the browser explorer, at the step where the property first fails, to step back and forth: start \`${exploreAllCommand(subjects)}\` once (it serves every protocol of this report${port === DEFAULT_EXPLORE_PORT ? '' : `; add \`--port ${port}\``}), then click.`,
  });
  let found = 0;
  for (const r of reports) {
    const { protocol, config, variant } = r.model;
    const runs = new Map<string, typeof r.violations>();
    for (const v of r.violations) {
      if (!v.steps.length) continue;
      const key = `${v.mode} ${v.path.join(':')} ${v.steps.length}`;
      runs.set(key, [...(runs.get(key) ?? []), v]);
    }
    for (const same of runs.values()) {
      const v = same[0];
      const names = same.map((x) => x.invariant).join(', ');
      found++;
      blocks.push({ kind: 'heading', level: 3, text: `${protocol.name} · ${config.variant}: ${names}` });
      const ref = subjects.find((s) => s.protocol === protocol)?.ref ?? protocol.name;
      const link = exploreLink(ref, r.model, v.path, port);
      blocks.push({ kind: 'text', text: `${variant.description} Found by ${v.mode} in ${count(v.steps.length)} steps${same.length > 1 ? `, violating ${same.length} properties` : ''}: [open this run in the explorer](${link.url}); replay: \`${v.replay}\`.` });
      blocks.push({
        kind: 'details',
        summary: `The ${count(v.steps.length)} steps and their sequence diagram`,
        blocks: [
          { kind: 'code', text: describeRun(v.steps, config.nodes).join('\n') },
          { kind: 'mermaid', title: `${protocol.name} ${config.variant}: ${names}`, text: sequenceDiagram(v.steps, config.nodes, `${protocol.name} ${config.variant} breaks ${names}`) },
        ],
      });
    }
  }
  if (!found) blocks.push({ kind: 'text', text: 'No counterexample in these check results.' });
  return blocks;
}

function machineSection(protocols: readonly Protocol[]): Block[] {
  const blocks: Block[] = [
    { kind: 'heading', level: 2, text: 'Node machines' },
    { kind: 'text', text: 'Every transition of each machine: `always` marks an eventless one, taken as soon as its guard holds; a transition that changes no state (it updates the context or sends) is listed inside its state; "(any state)" holds those declared for every state.' },
  ];
  for (const p of protocols) {
    const v = p.variants.find((x) => x.name === p.defaultVariant) ?? p.variants[0];
    blocks.push({ kind: 'heading', level: 3, text: `${p.name} (${v.name})` }, { kind: 'text', text: p.description });
    blocks.push({ kind: 'mermaid', title: `${p.name}: one node's machine`, text: stateDiagram(v.machine) });
  }
  return blocks;
}

export function buildReport(checkReports: readonly CheckReport[], subjects: readonly ReportSubject[], runs: readonly RenderedRun[], notRun: readonly string[] = [], explorePort = DEFAULT_EXPLORE_PORT): ReportDocument {
  const protocols = subjects.map((s) => s.protocol);
  return [
    { kind: 'heading', level: 1, text: 'coordkit report' },
    { kind: 'text', text: `Primitives: ${protocols.map((p) => p.name).join(', ')}. Every diagram below is drawn from an executed run, a timed simulation or a checker's counterexample.` },
    ...summarySection(checkReports, protocols),
    ...checkSection(checkReports),
    ...notRun.map((line): Block => ({ kind: 'text', text: `**Check could not run:** ${line}` })),
    ...scenarioSection(runs, subjects),
    ...counterexampleSection(checkReports, subjects, explorePort),
    ...machineSection(protocols),
  ];
}

/** The Mermaid bundle in node_modules. */
export function mermaidBundle(): string {
  return createRequire(import.meta.url).resolve('mermaid/dist/mermaid.min.js');
}

export interface ReportOptions {
  /** The protocols to show. */
  protocols: readonly ReportSubject[];
  /** Seed of the timed scenario runs (default 1). */
  seed?: number;
  /** Checks that could not run, one line each, shown in the report. */
  notRun?: readonly string[];
  /** The port of the explorer the counterexample links open in (default: `coordkit explore`'s). */
  explorePort?: number;
}

/**
 * Writes `outDir/index.md`, `outDir/index.html` and `outDir/mermaid.min.js`, running the shipped
 * scenarios itself; `checkReports` are the check results to show (the caller ran them).
 */
export function writeReport(outDir: string, checkReports: readonly CheckReport[], options: ReportOptions): { files: string[]; diagrams: number } {
  const protocols = options.protocols;
  const runs = runShippedScenarios(protocols, options.seed ?? 1);
  const doc = buildReport(checkReports, protocols, runs, options.notRun ?? [], options.explorePort);
  mkdirSync(outDir, { recursive: true });
  const files = [join(outDir, 'index.md'), join(outDir, 'index.html'), join(outDir, 'mermaid.min.js')];
  writeFileSync(files[0], toMarkdown(doc));
  writeFileSync(files[1], toHtml(doc, 'coordkit report'));
  copyFileSync(mermaidBundle(), files[2]);
  return { files, diagrams: mermaidBlocks(doc).length };
}
