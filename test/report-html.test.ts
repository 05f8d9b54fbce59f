/**
 * The report: index.md with Mermaid blocks, and index.html that renders offline in headless
 * Chromium, every diagram to an SVG with no Mermaid error, readable on a phone-width window and
 * at 5 nodes; and the counterexample of every buggy variant (the kit's and a user's protocol)
 * opens with one click in one explorer, marked at the step where its property first fails.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/check/model.js';
import { runChecks, type CheckReport } from '../src/check/run-checks.js';
import { builtIns, loadProtocolFile, type ProtocolSource } from '../src/cli/protocol-source.js';
import { toHtml } from '../src/report/html.js';
import { mermaidBundle, writeReport } from '../src/report/write-report.js';
import { startViewer, type Viewer } from '../src/viewer/server.js';
import { releaseBrowser, sharedBrowser } from './shared-browser.js';

const dir = mkdtempSync(join(tmpdir(), 'coordkit-report-'));
let written: { files: string[]; diagrams: number };
let reports: CheckReport[];
let subjects: ProtocolSource[];
let viewer: Viewer;
let context: BrowserContext;
let page: Page;
let links: URL[];

beforeAll(async () => {
  subjects = [...(await builtIns()), await loadProtocolFile('examples/two-phase-commit/index.ts')];
  // Every buggy variant explored until it shows the property it names, as `coordkit report` checks it; each verified variant by 100 walks (the summary, which the README shows, reads ok).
  reports = subjects.flatMap((s) => [
    runChecks(createModel(s.protocol), { mode: 'walk', runs: 100, seed: 1 }),
    ...s.protocol.variants.filter((v) => v.breaks).map((v) => runChecks(createModel(s.protocol, { variant: v.name }), { mode: 'explore', until: v.breaks })),
  ]);
  // One explorer serving every protocol of the report, as `coordkit explore` does without a primitive.
  viewer = await startViewer({ protocols: subjects.map((s) => s.protocol), defaults: {}, port: 0 });
  const port = Number(new URL(viewer.url).port);
  written = writeReport(dir, reports, { protocols: subjects, notRun: ['election prevote: example failure line'], explorePort: port });
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  links = [...html.matchAll(/<a href="(http:\/\/127\.0\.0\.1:\d+\/\?[^"]+)">/g)].map((m) => new URL(m[1].replace(/&amp;/g, '&')));
  context = await (await sharedBrowser()).newContext({ viewport: { width: 390, height: 844 } });
  page = await context.newPage();
  await page.goto(pathToFileURL(join(dir, 'index.html')).href, { waitUntil: 'commit' });
  await page.waitForSelector('body[data-mermaid-done="yes"]', { timeout: 120_000 });
}, 240_000);

afterAll(async () => {
  await context?.close();
  await releaseBrowser();
  await viewer?.close();
});

describe('coordkit report', () => {
  it('writes index.md with check results, every seed scenario, the counterexamples and every machine', () => {
    const md = readFileSync(join(dir, 'index.md'), 'utf8');
    expect(md.match(/^```mermaid$/gm)?.length).toBe(written.diagrams);
    expect(md).toContain('## Check results');
    expect(md).toMatch(/\| consensus \| as-drawn \| explore \|.*violates agreement/);
    expect(md).toContain('### consensus · as-drawn: agreement');
    expect(md).toMatch(/\| consensus \| paxos \| walk \|.*\| no violation found, not a proof \| ok \|/);
    for (const { protocol: p } of subjects) expect(md).toContain(`### ${p.name} (${p.defaultVariant})`);
    for (const p of ['election', 'consensus', 'mutex', 'barrier']) expect(md).toContain(`### ${p}: seed`);
    expect(md.match(/^stateDiagram-v2$/gm)?.length).toBe(subjects.length);
    expect(md).toContain('**Check could not run:** election prevote: example failure line');
    // One command serves every protocol of the report.
    expect(md).toContain('start `coordkit explore --protocol examples/two-phase-commit/index.ts` once');
  });

  it('reads ok for every primitive, as the README shows it: each buggy variant caught, each verified one passing', () => {
    const md = readFileSync(join(dir, 'index.md'), 'utf8');
    expect(md).not.toMatch(/UNEXPECTED/);
  });

  it('writes an index.html that loads nothing from the network', () => {
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).not.toMatch(/src="(https?:)?\/\//);
    // The only absolute links open counterexamples in the local explorer.
    for (const [, href] of html.matchAll(/href="((https?:)?\/\/[^"]*)"/g)) expect(href).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?/);
    expect(html).toContain('<script src="mermaid.min.js"></script>');
    expect(existsSync(join(dir, 'mermaid.min.js'))).toBe(true);
  });
});

describe('every buggy variant opens in the explorer with one click', () => {
  it('links each counterexample to the run that first violates the property its variant breaks, at its last step', async () => {
    const buggy = subjects.flatMap((s) => s.protocol.variants.filter((v) => v.breaks).map((v) => ({ protocol: s.protocol.name, variant: v.name, breaks: v.breaks!, kind: s.protocol.properties.find((p) => p.name === v.breaks)?.kind })));
    expect(buggy.length).toBeGreaterThanOrEqual(14);
    for (const b of buggy) {
      const mine = links.filter((l) => l.searchParams.get('protocol') === b.protocol && l.searchParams.get('variant') === b.variant);
      expect(mine.length, `${b.protocol} ${b.variant}`).toBeGreaterThan(0);
      const opened = await Promise.all(mine.map(async (l) => (await fetch(`${viewer.url}api/run${l.search}`)).json()));
      for (const o of opened) expect(o.error, `${b.protocol} ${b.variant}`).toBeUndefined();
      // A world shows where a safety property fails; a liveness one fails in the fair phase after it.
      if (b.kind !== 'always') continue;
      const breaking = opened.find((v) => v.properties.some((p: { name: string }) => p.name === b.breaks && v.properties));
      expect(breaking.error, `${b.protocol} ${b.variant}`).toBeUndefined();
      const property = breaking.properties.find((p: { name: string }) => p.name === b.breaks);
      // Opened at the end of the run, which is where the property first fails.
      expect([property.verdict, property.firstViolatedAt], `${b.protocol} ${b.variant}`).toEqual(['violated', breaking.path.length]);
      expect(breaking.at).toBe(breaking.path.length);
    }
  });

});

describe('the HTML report in headless Chromium', () => {
  it('renders every diagram to an SVG, with no Mermaid error', async () => {
    expect(JSON.parse((await page.getAttribute('body', 'data-mermaid-errors'))!)).toEqual([]);
    expect(Number(await page.getAttribute('body', 'data-mermaid-total'))).toBe(written.diagrams);
    expect(Number(await page.getAttribute('body', 'data-mermaid-svgs'))).toBe(written.diagrams);
  });

  it('reads on a phone-width window: nothing scrolls the page sideways, the summary fits, times stay on one line', async () => {
    expect(await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth])).toEqual([390, 390]);
    const order = await page.evaluate(() => [...document.querySelectorAll('h2')].map((h) => h.textContent));
    expect(order[0]).toBe('Summary');
    // The summary table needs no sideways scrolling of its own.
    const summary = await page.evaluate(() => {
      const table = document.querySelector('#summary ~ div.wide table')!;
      return { right: Math.round(table.getBoundingClientRect().right), cells: [...table.querySelectorAll('tr:nth-child(1) td, th')].map((c) => `${c.textContent}:${Math.round(c.getBoundingClientRect().width)}`) };
    });
    expect(summary.right, summary.cells.join(' | ')).toBeLessThanOrEqual(390);
    // Every number (times included) on one line.
    const wrapped = await page.evaluate(() =>
      [...document.querySelectorAll('td.num')]
        .filter((td) => {
          const text = document.createRange();
          text.selectNodeContents(td);
          // One line box per line of text.
          return new Set([...text.getClientRects()].map((r) => Math.round(r.top))).size > 1;
        })
        .map((td) => td.textContent),
    );
    expect(wrapped).toEqual([]);
    expect(await page.locator('td.num', { hasText: /^[\d,]+ ms$/ }).count()).toBeGreaterThan(10);
  });

  it('draws 5-node sequence diagrams at their natural size (their figure scrolls instead of shrinking the text)', async () => {
    const scales = await page.evaluate(() =>
      [...document.querySelectorAll('pre.mermaid svg[aria-roledescription="sequence"]')].map((svg) => ({
        actors: new Set([...svg.querySelectorAll('text.actor')].map((t) => t.textContent)).size,
        scale: svg.getBoundingClientRect().width / (svg as SVGSVGElement).viewBox.baseVal.width,
      })),
    );
    expect(scales.some((s) => s.actors >= 5)).toBe(true);
    for (const s of scales) expect(s.scale).toBeGreaterThanOrEqual(0.99);
  });

  it('shows the summary on the first screen of a desktop window (the README shows it)', async () => {
    await page.setViewportSize({ width: 1100, height: 900 });
    const table = await page.locator('#summary ~ div.wide table').first().boundingBox();
    expect(table!.y + table!.height).toBeLessThan(900);
    await page.screenshot({ path: 'docs/report-summary.png', clip: { x: 0, y: 0, width: 1100, height: Math.ceil(table!.y + table!.height + 16) } });
    expect(statSync('docs/report-summary.png').size).toBeGreaterThan(10_000);
    expect(statSync('docs/report-summary.png').size).toBeLessThan(300_000);
  });

  it('reports a diagram Mermaid cannot draw (the check can fail)', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'coordkit-report-bad-'));
    copyFileSync(mermaidBundle(), join(bad, 'mermaid.min.js'));
    const doc = [
      { kind: 'mermaid' as const, title: 'fine', text: 'flowchart LR\n    A --> B' },
      { kind: 'mermaid' as const, title: 'broken', text: 'sequenceDiagram\n    N1->>: to nobody' },
    ];
    writeFileSync(join(bad, 'index.html'), toHtml(doc, 'bad'));
    const tab = await context.newPage();
    await tab.goto(pathToFileURL(join(bad, 'index.html')).href, { waitUntil: 'commit' });
    await tab.waitForSelector('body[data-mermaid-done="yes"]', { timeout: 60_000 });
    expect(Number(await tab.getAttribute('body', 'data-mermaid-svgs'))).toBe(1);
    expect(JSON.parse((await tab.getAttribute('body', 'data-mermaid-errors'))!)).toHaveLength(1);
    await tab.close();
  });
});

describe('one click on a counterexample link of the report', () => {
  it('a click in the report opens the run; the failing step is marked, and arrows step back and forth', async () => {
    const link = links.find((l) => l.searchParams.get('variant') === 'vote-twice')!;
    const path = link.searchParams.get('path')!;
    const n = path.split(':').length;
    // The report page itself, every diagram drawn: the link is a click away.
    const tab = page;
    await tab.click(`a[href*="variant=vote-twice"][href*="path=${path}"]`);
    await tab.waitForSelector(`body[data-ready="${path}@${n}"]`, { timeout: 60_000 });
    const row = '#props tr[data-property="one vote per node per term"]';
    expect(await tab.getAttribute(row, 'data-verdict')).toBe('violated');
    expect(await tab.textContent(`#steps li[data-step="${n}"]`)).toContain('✗ one vote per node per term');
    await tab.keyboard.press('ArrowLeft');
    await tab.waitForSelector(`body[data-ready="${path}@${n - 1}"]`);
    expect(await tab.getAttribute(row, 'data-verdict')).toBe('holds');
    await tab.keyboard.press('ArrowRight');
    await tab.waitForSelector(`body[data-ready="${path}@${n}"]`);
    expect(await tab.getAttribute(row, 'data-verdict')).toBe('violated');
  });
});
