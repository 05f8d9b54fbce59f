/**
 * The figures the README quotes in its primitive sections come from the code: each is read from
 * the README and compared with what `coordkit check --json` reports for the same model. Only the
 * ones that take seconds are rerun here (the larger ones are pinned by the primitives' tests).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync('README.md', 'utf8');

/** The number the README gives in the one place `pattern` matches (its first group). */
function quoted(pattern: RegExp): number {
  const matches = [...readme.matchAll(new RegExp(pattern.source, 'g'))];
  expect(matches, `README should quote ${pattern} once`).toHaveLength(1);
  return Number(matches[0][1].replace(/,/g, ''));
}

function check(...args: string[]): { states: number; violations: { invariant: string; steps: number }[] } {
  const r = spawnSync(process.execPath, ['bin/coordkit.js', 'check', ...args, '--mode', 'explore', '--json'], { encoding: 'utf8', timeout: 120_000 });
  expect(r.stderr).not.toMatch(/coordkit:/);
  return JSON.parse(r.stdout);
}

describe('README figures', () => {
  it.each(['as-drawn', 'forget-accepted', 'volatile-acceptor', 'ack-before-flush', 'minority-commit', 'learner-proposes', 'silent-after-decision', 'tell-own-value'])('consensus %s: states and counterexample length in the table', (variant) => {
    const row = new RegExp(`^\\| \`${variant}\` +\\|[^|]+\\| \`([^\`]+)\`, (\\d+) steps?[^|]*\\| +([\\d,]+) \\|$`, 'm').exec(readme);
    expect(row, `a table row for ${variant}`).not.toBeNull();
    const [, invariant, steps, states] = row!;
    const json = check('consensus', '--variant', variant);
    expect(json.states).toBe(Number(states.replace(/,/g, '')));
    expect(json.violations[0]).toMatchObject({ invariant, steps: Number(steps) });
  });

  it("consensus: the crash configurations, a crash before a leader's flush included", () => {
    expect(check('consensus', '--faults', 'crash').states).toBe(quoted(/with two proposers \(([\d,]+) states\) and with a leader skipping phase 1/));
    expect(check('consensus', '--faults', 'crash', '--param', 'proposers=1', '--param', 'slots=2').states).toBe(quoted(/with a leader skipping phase 1 over two slots \(([\d,]+)\)/));
  });

  it('election: the default model with symmetry reduction', () => {
    expect(check('election', '--nodes', '3').states).toBe(quoted(/renaming class, \*\*([\d,]+)\*\*/));
  });

  it('barrier: the default model', () => {
    expect(check('barrier').states).toBe(quoted(/The default model \(4 nodes, 2 generations\) has ([\d,]+) states/));
  });

  it.each(['mutex', 'barrier'])('%s: the walk-success rows in Benchmarks', (primitive) => {
    // The bench's own rows, less the time column (it varies by machine); election and consensus take longer.
    const r = spawnSync(process.execPath, ['dist/bench/walk-success.js', primitive], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => l.startsWith(`| ${primitive} |`)).map((l) => l.replace(/ [^|]+ \|$/, ''));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(readme).toContain(row);
  });

  it('mutex: 2 nodes requesting three times each', () => {
    expect(check('mutex', '--nodes', '2', '--param', 'requests=3').states).toBe(quoted(/2 nodes × 3 requests take ([\d,]+) states/));
  });
});
