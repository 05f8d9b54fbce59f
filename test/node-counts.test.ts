/**
 * Every built-in primitive's verified variant passes `coordkit check` at every node count the
 * command accepts, with its own default bounds (they scale with the node count), and says no
 * more than it established: "exhaustive" and PASS only for a search that reached every world,
 * "PASS within the bounds" only for one that reached every world within them, and otherwise
 * no PASS and no `always` property marked ok. A small state budget and few walks keep the 24
 * runs short; at the larger counts the walks are what reach the `sometimes` properties.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';

interface Run {
  name: string;
  nodes: number;
  status: number | null;
  stdout: string;
  stderr: string;
}

function check(name: string, nodes: number): Promise<Run> {
  return new Promise((resolve) => {
    const args = ['bin/coordkit.js', 'check', name, '--nodes', String(nodes), '--max-states', '2000', '--runs', '25', '--seed', '1'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ name, nodes, status, stdout, stderr });
    });
  });
}

/** Runs the jobs two at a time (CI machines have two cores). */
async function pooled<T>(jobs: (() => Promise<T>)[], width = 2): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const lane = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: width }, lane));
  return results;
}

/** What the output claims, checked against what it says the search did. */
function dishonesty(r: Run): string[] {
  const lines = r.stdout.trimEnd().split('\n');
  const last = lines.at(-1) ?? '';
  const problems: string[] = [];
  const alwaysOk = lines.some((l) => /^ {2}ok {7}(always|eventually) /.test(l));
  if (lines.some((l) => l.startsWith('exhaustive:')) && last !== 'PASS: every property holds') problems.push(`exhaustive search ends with '${last}'`);
  if (lines.some((l) => l.startsWith('bounded:')) && !last.startsWith('PASS within the bounds')) problems.push(`bounded search ends with '${last}'`);
  if (lines.some((l) => l.startsWith('not exhaustive:'))) {
    if (/PASS|holds/.test(last)) problems.push(`cut search ends with '${last}'`);
    if (alwaysOk) problems.push('cut search marks an always property ok');
  }
  return problems;
}

describe('coordkit check at 2 to 7 nodes, default bounds', () => {
  it('the honesty check catches a cut search that claims a pass', () => {
    const claimed = ['not exhaustive: search cut short by --max-states 1000 after 1,000 worlds (depth 4)', '  ok       always     mutual exclusion', '', 'PASS: every property holds'].join('\n');
    expect(dishonesty({ name: 'mutex', nodes: 7, status: 0, stdout: claimed, stderr: '' })).toHaveLength(2);
    const bounded = ['bounded: every world within the bounds was searched; not expanded: 22 worlds at the in-flight bound 3', '', 'PASS: every property holds'].join('\n');
    expect(dishonesty({ name: 'election', nodes: 4, status: 0, stdout: bounded, stderr: '' })).toHaveLength(1);
  });

  it('passes every verified variant at every node count, honestly', async () => {
    const started = performance.now();
    const jobs = protocols.flatMap((p) => [2, 3, 4, 5, 6, 7].map((n) => () => check(p.name, n)));
    const runs = await pooled(jobs);
    const elapsedS = (performance.now() - started) / 1000;
    for (const r of runs) {
      const what = `coordkit check ${r.name} --nodes ${r.nodes}:\n${r.stdout}${r.stderr}`;
      expect(r.status, what).toBe(0);
      expect(r.stdout.trimEnd().split('\n').at(-1), what).toMatch(/^(PASS|NO VIOLATION FOUND, NOT A PROOF)/);
      expect(r.stdout, what).not.toMatch(/VIOLATED|NOT MET|unproven +sometimes/);
      expect(dishonesty(r), what).toEqual([]);
    }
    // Kept short for CI: the 24 runs, two at a time, in well under the test's limit.
    expect(elapsedS).toBeLessThan(280);
  }, 300_000);
});
