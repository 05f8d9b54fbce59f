/**
 * The depth-first search on several threads (`--workers`): the threads share one visited set
 * and hand each other work, and together they reach exactly the worlds one thread reaches,
 * find the same violations, and refuse what they cannot honour. Run through the command, as
 * the threads load the built modules.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const check = (...args: string[]) => {
  const r = spawnSync('node', ['bin/coordkit.js', 'check', ...args, '--mode', 'explore', '--json'], { encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, stderr: r.stderr, json: r.stdout ? JSON.parse(r.stdout) : undefined };
};

describe('parallel depth-first search', () => {
  it.each([
    ['mutex', []],
    ['election', ['--symmetry', 'off']],
    ['consensus', []],
  ])('%s: two threads reach the worlds and transitions one thread does', (primitive, extra) => {
    const one = check(primitive, '--search', 'dfs', ...extra);
    const two = check(primitive, '--workers', '2', ...extra);
    expect(two.status).toBe(0);
    expect(two.json.threads).toBe(2);
    expect([two.json.states, two.json.transitions, two.json.bounded]).toEqual([one.json.states, one.json.transitions, one.json.bounded]);
  });

  it('threads load a primitive of your own from its --protocol file', () => {
    const args = ['--protocol', 'dist/examples/two-phase-commit/index.js', '--nodes', '4'];
    const one = check(...args, '--search', 'dfs');
    const two = check(...args, '--workers', '2');
    expect(two.status).toBe(0);
    expect([two.json.primitive, two.json.states, two.json.transitions]).toEqual(['two-phase-commit', one.json.states, one.json.transitions]);
  });

  it('--expect-states sizes the visited set up front; right or wrong, the counts stay those of one thread', () => {
    const args = ['--protocol', 'dist/examples/two-phase-commit/index.js', '--nodes', '6'];
    const one = check(...args, '--search', 'dfs');
    expect(one.json.states).toBe(8_832);
    for (const hint of ['8832', '1', '1000000']) {
      const two = check(...args, '--workers', '2', '--expect-states', hint);
      const alone = check(...args, '--search', 'dfs', '--expect-states', hint);
      expect([two.status, two.json.states, two.json.transitions]).toEqual([0, one.json.states, one.json.transitions]);
      expect([alone.status, alone.json.states, alone.json.transitions]).toEqual([0, one.json.states, one.json.transitions]);
    }
  });

  it('a worker thread that fails ends the search with its error while the calling thread searches on', () => {
    const started = performance.now();
    const r = check('--protocol', 'test/fixtures/fails-in-worker.ts', '--nodes', '8', '--workers', '2');
    expect(r.status).not.toBe(0);
    expect(r.stderr.trim()).toBe('coordkit: a property threw on a worker thread');
    // Well before the search would end on its own (296,448 worlds) or the watchdog (two minutes).
    expect(performance.now() - started).toBeLessThan(60_000);
  });

  it.each([
    ['mutex', 'no-reply-wait', 'mutual exclusion'],
    ['election', 'campaign-skips-term', "a campaign is one term on, with the node's own vote, asking every other node"],
  ])('%s %s: two threads find the violation', (primitive, variant, invariant) => {
    const r = check(primitive, '--variant', variant, '--workers', '2', '--symmetry', 'off');
    expect(r.status).toBe(1);
    expect(r.json.violations.map((v: { invariant: string }) => v.invariant)).toContain(invariant);
    expect(r.json.violations[0].steps).toBeGreaterThan(0);
  });

  it.each([
    [['election', '--workers', '2'], /--workers cannot reduce election by symmetry: add --symmetry off/],
    [['mutex', '--workers', '2', '--search', 'bfs'], /--workers runs a depth-first search/],
    [['mutex', '--workers', 'many'], /--workers must be a whole number/],
    [['mutex', '--workers', '2', '--expect-states', 'lots'], /--expect-states must be a whole number/],
    [['mutex', '--shard', '1/2', '--expect-states', '5'], /--expect-states sizes the visited set of a whole exploration, not of a shard/],
  ])('%j: one-line usage error', (args, message) => {
    const r = check(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
