/**
 * Every kind of Mermaid text the kit emits parses with Mermaid's own parser. Mermaid's
 * state-diagram parser needs a DOM (DOMPurify), so all texts are parsed in headless Chromium
 * (the one the browser tests share) with the same bundle the HTML report ships.
 */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { createModel } from '../src/check/model.js';
import { explore } from '../src/check/explore.js';
import { parsePage } from '../src/report/parse-page.js';
import { mermaidBundle, runShippedScenarios } from '../src/report/write-report.js';
import { builtIns } from '../src/cli/protocol-source.js';
import { simulateTimed } from '../src/sim/timed.js';
import { checkScenario } from '../src/sim/timed-scenario.js';
import { renderRun } from '../src/trace/render-run.js';
import { sequenceDiagram } from '../src/trace/sequence-diagram.js';
import { stateDiagram } from '../src/trace/state-diagram.js';
import { traceOfSteps } from '../src/trace/trace.js';
import { traceSequenceDiagram } from '../src/trace/trace-sequence.js';
import { partitionFlowchart } from '../src/trace/partition-flowchart.js';
import { releaseBrowser, sharedBrowser } from './shared-browser.js';

const texts: { name: string; text: string }[] = [];
const broken = [
  { name: 'broken sequence', text: 'sequenceDiagram\n    N1->>: an arrow to nobody' },
  { name: 'broken flowchart', text: 'flowchart TB\n    A -->|unclosed B' },
  { name: 'broken state diagram', text: 'stateDiagram-v2\n    a --> : no target' },
];

const kit = await builtIns();

function collect(): void {
  for (const r of runShippedScenarios(kit)) for (const d of r.diagrams) texts.push({ name: `${r.scenario.primitive} ${r.scenario.name} ${d.name}`, text: d.mermaid });
  for (const p of protocols) for (const v of p.variants) texts.push({ name: `${p.name} ${v.name} state diagram`, text: stateDiagram(v.machine, `${p.name} ${v.name}`) });
  // A checker counterexample: from its steps, and as a trace.
  const election = protocols.find((p) => p.name === 'election')!;
  const v = explore(createModel(election, { variant: 'vote-twice', nodes: 3, maxDepth: 12 }), { maxStates: 200_000 }).violations.find((x) => x.steps.length)!;
  const trace = traceOfSteps(v.steps, { primitive: 'election', variant: 'vote-twice', n: 3 });
  texts.push({ name: 'counterexample steps', text: sequenceDiagram(v.steps, 3, 'vote-twice') });
  texts.push({ name: 'counterexample trace', text: traceSequenceDiagram(trace, { title: 'vote-twice' }) });
  texts.push({ name: 'counterexample flowchart', text: partitionFlowchart(trace) });
  // Crash, restart, a request no node can serve, and a partition that heals, on the timed clock.
  const faults = checkScenario(
    {
      primitive: 'election',
      nodes: 3,
      untilMs: 900,
      latencyMs: { uniform: [1, 9] },
      events: [
        { atMs: 50, node: { state: 'leader' }, client: { type: 'client.set', value: 'early' } },
        { atMs: 400, crash: 1 },
        { atMs: 450, partition: [[2], [1, 3]] },
        { atMs: 600, restart: 1 },
        { atMs: 650, heal: true },
      ],
      metrics: { availableField: 'leader' },
    },
    'faults.json',
    protocols,
  );
  for (const d of renderRun(faults, simulateTimed(election, faults, 3)).diagrams) texts.push({ name: `faults ${d.name}`, text: d.mermaid });
}

describe('every emitted Mermaid text parses (headless Chromium)', () => {
  let results: string[] = [];
  beforeAll(async () => {
    collect();
    const dir = mkdtempSync(join(tmpdir(), 'coordkit-parse-'));
    copyFileSync(mermaidBundle(), join(dir, 'mermaid.min.js'));
    writeFileSync(join(dir, 'parse.html'), parsePage([...broken, ...texts].map((t) => t.text)));
    const page = await (await sharedBrowser()).newPage();
    await page.goto(pathToFileURL(join(dir, 'parse.html')).href, { waitUntil: 'commit' });
    await page.waitForSelector('body[data-parse-results]', { state: 'attached', timeout: 90_000 });
    results = JSON.parse((await page.getAttribute('body', 'data-parse-results')) ?? '[]');
    await page.close();
  }, 120_000);
  afterAll(releaseBrowser);

  it('rejects broken texts (the check can fail)', () => {
    expect(results).toHaveLength(broken.length + texts.length);
    broken.forEach((b, i) => expect(results[i], b.name).toMatch(/error|expect/i));
  });

  it('parses every diagram: scenarios, state diagrams, counterexamples, faults', () => {
    expect(texts.length).toBeGreaterThan(15);
    const failed = texts.map((t, i) => ({ name: t.name, result: results[broken.length + i] })).filter((r) => r.result !== 'ok');
    expect(failed).toEqual([]);
  });
});
