/**
 * Coverage of a node machine is measured from the node steps the checks ran against the
 * machine's declared graph, so a protocol without sample events gets real figures, a state only
 * a fault reaches shows as unreached until that fault is injected, and nothing run reads as
 * "not measured", never 0%.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import protocol from '../examples/two-phase-commit/index.js';
import { mutex } from '../machines/mutex/index.js';
import { coverage, machineGraph } from '../src/check/coverage.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { runChecks } from '../src/check/run-checks.js';

describe('coverage of the node machine', () => {
  it('is measured for a protocol without sample events (two-phase commit)', () => {
    expect(protocol.sampleEvents).toBeUndefined();
    const report = runChecks(createModel(protocol, { nodes: 4 }), { mode: 'explore' });
    expect(report.coverage.measured).toBe(true);
    expect(report.coverage.states).toBeGreaterThan(0.5);
    expect(report.coverage.transitions).toBe(1);
    const graph = machineGraph(protocol.variants[0].machine);
    expect(report.coverage.unreachedStates.every((s) => [...graph.states.values()].includes(s))).toBe(true);
  });

  it('says which state only a fault reaches, and counts it once the fault is injected', () => {
    const graph = machineGraph(mutex.variants[0].machine);
    const calm = explore(createModel(mutex, { nodes: 2 }));
    expect(coverage(graph, calm.reached).unreachedStates).toEqual(['recovering']);
    // A crash can deadlock the pair (liveness, see mutex-crash.test.ts): search on past that.
    const crashing = explore(createModel(mutex, { nodes: 2, faults: ['crash'] }), { all: true });
    expect(coverage(graph, crashing.reached).unreachedStates).toEqual([]);
  });

  it('is "not measured" when no node step ran, never 0%', () => {
    const c = coverage(machineGraph(mutex.variants[0].machine), new Set());
    expect(c.measured).toBe(false);
  });

  it('prints a measured figure for the example from the command line', () => {
    const r = spawnSync(process.execPath, ['bin/coordkit.js', 'check', '--protocol', 'dist/examples/two-phase-commit/index.js', '--mode', 'explore'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/coverage of the node machine: [1-9]\d*% of states, 100% of declared transitions/);
  });
});
