/**
 * The report: index.md with Mermaid blocks, and index.html that renders offline in headless
 * Chromium, every diagram to an SVG with no Mermaid error.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { createModel } from '../src/check/model.js';
import { runChecks, type CheckReport } from '../src/check/run-checks.js';
import { bodyData } from '../src/report/headless-chromium.js';
import { toHtml } from '../src/report/html.js';
import { mermaidBundle, writeReport } from '../src/report/write-report.js';
import { builtIns } from '../src/cli/protocol-source.js';

const dir = mkdtempSync(join(tmpdir(), 'coordkit-report-'));
let written: { files: string[]; diagrams: number };
let reports: CheckReport[];

beforeAll(() => {
  const consensus = protocols.find((p) => p.name === 'consensus')!;
  reports = [
    runChecks(createModel(consensus, { variant: 'as-drawn' }), { mode: 'explore', maxStates: 200_000 }),
    runChecks(createModel(consensus), { mode: 'walk', runs: 20, seed: 1 }),
  ];
  written = writeReport(dir, reports, { protocols: builtIns(), notRun: ['election prevote: example failure line'] });
});

describe('coordkit report', () => {
  it('writes index.md with check results, every seed scenario, the counterexample and every machine', () => {
    const md = readFileSync(join(dir, 'index.md'), 'utf8');
    expect(md.match(/^```mermaid$/gm)?.length).toBe(written.diagrams);
    expect(md).toContain('## Check results');
    expect(md).toMatch(/\| consensus \| as-drawn \| explore \|.*violates agreement/);
    expect(md).toContain('### consensus · as-drawn: agreement');
    expect(md).toMatch(/\| consensus \| paxos \| walk \|.*\| no violation found, not a proof \| ok \|/);
    for (const p of protocols) {
      expect(md).toContain(`### ${p.name}: seed`);
      expect(md).toContain(`### ${p.name} (${p.defaultVariant})`);
    }
    expect(md.match(/^stateDiagram-v2$/gm)?.length).toBe(protocols.length);
    expect(md).toContain('**Check could not run:** election prevote: example failure line');
  });

  it('writes an index.html that loads nothing from the network', () => {
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).not.toMatch(/src="(https?:)?\/\//);
    // The only absolute links open counterexamples in the local explorer.
    for (const [, href] of html.matchAll(/href="((https?:)?\/\/[^"]*)"/g)) expect(href).toMatch(/^http:\/\/127\.0\.0\.1:4820\/\?/);
    expect(html).toContain('<script src="mermaid.min.js"></script>');
    expect(existsSync(join(dir, 'mermaid.min.js'))).toBe(true);
  });

  it('renders every diagram to an SVG in headless Chromium, with no Mermaid error', () => {
    const data = bodyData(join(dir, 'index.html'));
    expect(data['mermaid-done']).toBe('yes');
    expect(JSON.parse(data['mermaid-errors'])).toEqual([]);
    expect(Number(data['mermaid-total'])).toBe(written.diagrams);
    expect(Number(data['mermaid-svgs'])).toBe(written.diagrams);
  });

  it('reports a diagram Mermaid cannot draw (the check can fail)', () => {
    const bad = mkdtempSync(join(tmpdir(), 'coordkit-report-bad-'));
    copyFileSync(mermaidBundle(), join(bad, 'mermaid.min.js'));
    const doc = [
      { kind: 'mermaid' as const, title: 'fine', text: 'flowchart LR\n    A --> B' },
      { kind: 'mermaid' as const, title: 'broken', text: 'sequenceDiagram\n    N1->>: to nobody' },
    ];
    writeFileSync(join(bad, 'index.html'), toHtml(doc, 'bad'));
    const data = bodyData(join(bad, 'index.html'));
    expect(Number(data['mermaid-svgs'])).toBe(1);
    expect(JSON.parse(data['mermaid-errors'])).toHaveLength(1);
  });
});
