/** A primitive defined outside the kit, through the public API only, is checked like the built-in ones. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import protocol from '../examples/two-phase-commit/index.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { checkProtocol } from '../src/index.js';

describe('two-phase commit (examples/two-phase-commit)', () => {
  // Walks only up to 3 RMs: a random walk reaches a commit only if every RM prepares before
  // anyone aborts, about one walk in 2^RMs, and a walk that never commits fails 'sometimes'.
  it.each([[2], [3]])('holds with %i resource managers, exhaustively and under walks', (rms) => {
    const verdict = checkProtocol(protocol, { nodes: rms + 1 }, 'both');
    expect(verdict.violated, verdict.explanation).toEqual([]);
    expect(verdict.report.explore!.complete).toBe(true);
    expect(verdict.report.explore!.states).toBeGreaterThan(10);
  });

  // TLC 2.20 on Gray & Lamport's TwoPhase.tla (no symmetry) finds 288, 8,832 and 50,816
  // distinct states for 3, 5 and 6 RMs. The example holds what the spec holds (node states and
  // the message set) and nothing else, so the counts are equal.
  it.each([
    [3, 288],
    [5, 8_832],
    [6, 50_816],
  ])('with %i resource managers has exactly the TLA+ spec\'s %i distinct states, nothing cut', (rms, states) => {
    const verdict = checkProtocol(protocol, { nodes: rms + 1 }, 'explore');
    expect(verdict.violated, verdict.explanation).toEqual([]);
    expect(verdict.report.explore!.complete).toBe(true);
    expect(verdict.report.explore!.bounded).toBe(0);
    expect(verdict.report.explore!.states).toBe(states);
  });

  // 7 RMs: about 2 CPU seconds depth-first (296,448 worlds, 4 million transitions).
  it("with 7 resource managers has exactly the TLA+ spec's 296,448 distinct states, depth-first", () => {
    const result = explore(createModel(protocol, { nodes: 8 }), { search: 'dfs' });
    expect(result.violations).toEqual([]);
    expect([result.states, result.complete, result.bounded]).toEqual([296_448, true, 0]);
  });

  it('the same moves offered as counted client requests make more worlds: the count is state', () => {
    const counted: typeof protocol = { ...protocol, spontaneous: undefined, clients: (node, _used, config) => protocol.spontaneous!(node, config) };
    const verdict = checkProtocol(counted, { nodes: 4 }, 'explore');
    expect(verdict.violated).toEqual([]);
    // An RM that chose to abort now differs from one told to abort by its count of requests.
    expect(verdict.report.explore!.states).toBeGreaterThan(288);
  });

  it.each([[3], [5]])('catches a TM that commits before all prepared, with %i resource managers', (rms) => {
    const verdict = checkProtocol(protocol, { nodes: rms + 1, variant: 'commit-early' }, 'both');
    expect(verdict.violated).toEqual(['no resource manager commits while another aborts']);
    expect(verdict.report.violations.map((v) => v.mode).sort()).toEqual(['explore', 'walk']);
    // Shortest: one RM prepares, the TM receives it and commits, another RM aborts, the commit arrives.
    expect(verdict.report.violations.find((v) => v.mode === 'explore')!.steps).toHaveLength(5);
  });

  it('takes up to 16 nodes on the command line, and refuses 17 in one line', () => {
    const file = 'dist/examples/two-phase-commit/index.js';
    const run = (nodes: string) =>
      spawnSync('node', ['bin/coordkit.js', 'check', '--protocol', file, '--nodes', nodes, '--mode', 'explore', '--search', 'dfs', '--max-states', '500', '--json'], { encoding: 'utf8', timeout: 120_000 });
    // Accepted and searched, and honest about it: 500 worlds reach no commit (exit 1, not 2).
    const sixteen = run('16');
    expect(sixteen.status, sixteen.stderr).toBe(1);
    const json = JSON.parse(sixteen.stdout);
    expect([json.nodes, json.complete, json.stopped]).toEqual([16, false, 'max-states']);
    const seventeen = run('17');
    expect(seventeen.status).toBe(2);
    expect(seventeen.stderr.trim().split('\n')).toHaveLength(1);
    expect(seventeen.stderr).toMatch(/--nodes/);
  });

  it('runs from the command line with --protocol', () => {
    const file = 'dist/examples/two-phase-commit/index.js';
    const ok = spawnSync('node', ['bin/coordkit.js', 'check', '--protocol', file, '--nodes', '4', '--mode', 'explore'], { encoding: 'utf8', timeout: 120_000 });
    expect(ok.status, ok.stderr).toBe(0);
    const bad = spawnSync('node', ['bin/coordkit.js', 'check', '--protocol', file, '--variant', 'commit-early', '--mode', 'explore', '--json'], { encoding: 'utf8', timeout: 120_000 });
    expect(bad.status).toBe(1);
    const json = JSON.parse(bad.stdout);
    expect(json.violations[0].invariant).toBe('no resource manager commits while another aborts');
    expect(json.violations[0].replay).toContain(`--protocol ${file}`);
  });
});
