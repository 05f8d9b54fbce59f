/** A primitive defined outside the kit, through the public API only, is checked like the built-in ones. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import protocol from '../examples/two-phase-commit/index.js';
import { checkProtocol } from '../src/index.js';

describe('two-phase commit (examples/two-phase-commit)', () => {
  it.each([[3], [5]])('holds with %i resource managers, exhaustively and under walks', (rms) => {
    const verdict = checkProtocol(protocol, { nodes: rms + 1 }, 'both');
    expect(verdict.violated, verdict.explanation).toEqual([]);
    expect(verdict.report.explore!.complete).toBe(true);
    expect(verdict.report.explore!.states).toBeGreaterThan(10);
  });

  it.each([[3], [5]])('catches a TM that commits before all prepared, with %i resource managers', (rms) => {
    const verdict = checkProtocol(protocol, { nodes: rms + 1, variant: 'commit-early' }, 'both');
    expect(verdict.violated).toEqual(['no resource manager commits while another aborts']);
    expect(verdict.report.violations.map((v) => v.mode).sort()).toEqual(['explore', 'walk']);
    // Shortest: one RM prepares, the TM commits, another RM aborts, the commit arrives.
    expect(verdict.report.violations.find((v) => v.mode === 'explore')!.steps).toHaveLength(4);
  });

  it('runs from the command line with --protocol', () => {
    const file = 'dist/examples/two-phase-commit/index.js';
    const ok = spawnSync('node', ['bin/coordkit.js', 'check', '--protocol', file, '--nodes', '4', '--mode', 'explore'], { encoding: 'utf8', timeout: 60_000 });
    expect(ok.status, ok.stderr).toBe(0);
    const bad = spawnSync('node', ['bin/coordkit.js', 'check', '--protocol', file, '--variant', 'commit-early', '--mode', 'explore', '--json'], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(1);
    const json = JSON.parse(bad.stdout);
    expect(json.violations[0].invariant).toBe('no resource manager commits while another aborts');
    expect(json.violations[0].replay).toContain(`--protocol ${file}`);
  });
});
