/**
 * The report as a person reads it: a summary first, a table of contents whose links land on
 * headings, numbers with separators, property tables folded away, and each counterexample once,
 * with every property it violates and a link that opens it in the explorer; `coordkit report`
 * renders the last saved results rather than checking again. (The page in a browser, at phone
 * width and at 5 nodes, is report-html.test.ts.)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from '../src/check/model.js';
import { runChecks, type CheckReport } from '../src/check/run-checks.js';
import { builtIns } from '../src/cli/protocol-source.js';
import { toHtml } from '../src/report/html.js';
import { toMarkdown } from '../src/report/markdown.js';
import { buildReport } from '../src/report/write-report.js';
import { parsePath, runView } from '../src/viewer/run-view.js';
import { modelFromQuery } from '../src/viewer/model-query.js';

const subjects = (await builtIns()).filter((s) => s.protocol.name === 'election');
const election = subjects[0].protocol;
let reports: CheckReport[];
let md: string;
let html: string;

beforeAll(() => {
  const buggy = runChecks(createModel(election, { variant: 'vote-twice' }), { mode: 'explore', all: false });
  // The same run also breaking a second property (as a run often does): shown once, naming both.
  const v = buggy.violations[0];
  buggy.violations.push({ ...v, invariant: 'term never decreases' });
  reports = [runChecks(createModel(election), { mode: 'walk', runs: 5, seed: 1 }), buggy];
  const doc = buildReport(reports, subjects, []);
  md = toMarkdown(doc);
  html = toHtml(doc, 'report');
});

describe('report layout', () => {
  it('opens with a one-line-per-primitive summary, then a table of contents', () => {
    const toc = md.indexOf('- [Summary](#summary)');
    expect(md.indexOf('## Summary')).toBeGreaterThan(md.indexOf('# coordkit report'));
    expect(toc).toBeGreaterThan(md.indexOf('## Summary'));
    expect(toc).toBeLessThan(md.indexOf('## Check results'));
    const states = reports.reduce((s, r) => s + (r.explore?.states ?? 0), 0);
    expect(states).toBeGreaterThan(999);
    expect(md).toMatch(new RegExp(`\\| election \\| ok \\(1 verified, 1 buggy caught\\) \\| ${states.toLocaleString('en-US')} \\| [\\d,]+ ms \\|`));
    // Every contents link lands on a heading's id.
    const ids = new Set([...html.matchAll(/<h[23] id="([^"]+)"/g)].map((m) => m[1]));
    const links = [...html.matchAll(/<nav class="toc">(.*?)<\/nav>/gs)][0][1].match(/href="#([^"]+)"/g)!.map((h) => h.slice(7, -1));
    expect(links.length).toBe(ids.size);
    for (const l of links) expect(ids.has(l)).toBe(true);
  });

  it('folds the property tables away and keeps numbers on one line', () => {
    expect(md).toContain('<details>');
    expect(html).toMatch(/<details><summary>Every property of every checked variant<\/summary>/);
    // A counterexample's steps and diagram fold away under its one-line summary and link.
    expect(html).toMatch(/<details><summary>The \d+ steps and their sequence diagram<\/summary>\n<pre class="code">/);
    expect(html).toMatch(/<td class="num">[\d,]+ ms<\/td>/);
    expect(html).toContain('white-space:nowrap');
  });

  it('shows a counterexample once, with every property it violates, linked to the explorer', () => {
    const heading = '### election · vote-twice: one vote per node per term, term never decreases';
    expect(md.split(heading)).toHaveLength(2);
    expect(md.match(/^### election · vote-twice/gm)).toHaveLength(1);
    const link = /\[open this run in the explorer\]\((http:\/\/127\.0\.0\.1:4820\/\?[^)]+)\)/.exec(md)![1];
    expect(html).toContain(`<a href="${link.replace(/&/g, '&amp;')}">open this run in the explorer</a>`);
    const q = new URL(link).searchParams;
    const path = parsePath(q.get('path'));
    const view = runView(modelFromQuery(election, {}, q), path);
    expect(view.properties.find((p) => p.name === 'one vote per node per term')!.firstViolatedAt).toBe(path.length);
  });
});

describe('coordkit report renders the last results', () => {
  const dir = mkdtempSync(join(tmpdir(), 'coordkit-report-saved-'));
  const report = (...args: string[]) =>
    spawnSync('node', ['bin/coordkit.js', 'report', '--protocol', 'examples/two-phase-commit/index.ts', '--out', dir, ...args], { encoding: 'utf8', timeout: 200_000 });

  it('checks and saves results.json when there is none, then renders from it without checking, the same report', () => {
    const first = report('--runs', '5');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain('checking two-phase-commit commit-early');
    const md = readFileSync(join(dir, 'index.md'), 'utf8');
    const saved = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
    expect(saved.find((r: { variant: string }) => r.variant === 'commit-early').violations[0].path.length).toBeGreaterThan(0);
    const again = report();
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).not.toContain('checking');
    expect(again.stderr).toContain(`rendering the check results in ${join(dir, 'results.json')}`);
    expect(readFileSync(join(dir, 'index.md'), 'utf8')).toBe(md);
    // Other check bounds mean checking again.
    expect(report('--runs', '3').stderr).toContain('checking two-phase-commit');
  }, 240_000);

  it('a counterexample that no longer replays: one line saying to check again; --rerun does', () => {
    const file = join(dir, 'results.json');
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    saved.find((r: { variant: string }) => r.variant === 'commit-early').violations[0].path = [999];
    writeFileSync(file, JSON.stringify(saved));
    const stale = report();
    expect(stale.status).toBe(2);
    expect(stale.stderr).toMatch(/^coordkit: .*results\.json: the counterexample of two-phase-commit commit-early no longer replays \(step 1: choice 999 is not enabled .*\): check again with `coordkit report --rerun`\n$/);
    const rerun = report('--rerun', '--runs', '5');
    expect(rerun.status, rerun.stderr).toBe(0);
    expect(rerun.stderr).toContain('checking two-phase-commit');
    expect(JSON.parse(readFileSync(file, 'utf8')).find((r: { variant: string }) => r.variant === 'commit-early').violations[0].path).not.toEqual([999]);
  }, 240_000);
});
