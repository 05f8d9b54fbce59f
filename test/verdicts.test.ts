/**
 * What `coordkit check` claims is what its search established: it keeps looking past a first
 * violation, and a search stopped at one or cut by --max-states is not exhaustive and proves no
 * property; a `sometimes`
 * property a bound kept out of reach names the bound and the flag that raises it; the JSON says
 * the same as the text.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { createModel } from '../src/check/model.js';
import { runChecks } from '../src/check/run-checks.js';
import { verdict } from '../src/check/verdict.js';

const check = (...args: string[]) => spawnSync(process.execPath, ['bin/coordkit.js', 'check', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('check verdicts', () => {
  it('a search cut by --max-states proves nothing and passes nothing', () => {
    const r = check('mutex', '--nodes', '7', '--mode', 'explore', '--max-states', '1000');
    expect(r.stdout).toContain('not exhaustive: search cut short by --max-states 1000 after 1,000 worlds');
    expect(r.stdout).not.toMatch(/PASS|exhaustive: every|^ {2}ok {7}always/m);
    expect(r.stdout).toMatch(/unproven always +mutual exclusion \(not established: no violation in 1,000 worlds \(search cut short by --max-states 1000\)\)/);
    expect(r.status).toBe(1);
    const json = JSON.parse(check('mutex', '--nodes', '7', '--mode', 'explore', '--max-states', '1000', '--json').stdout);
    expect([json.complete, json.stopped, json.outcome]).toEqual([false, 'max-states', 'fail']);
    expect(json.properties.find((p: { name: string }) => p.name === 'mutual exclusion').status).toBe('not-established');
  });

  it('a check keeps looking past its first violation: each property has its own outcome', () => {
    const r = check('consensus', '--variant', 'as-drawn', '--mode', 'explore', '--json');
    const json = JSON.parse(r.stdout);
    expect(r.status).toBe(1);
    expect(json.complete).toBe(true);
    const status = Object.fromEntries(json.properties.map((p: { name: string; status: string }) => [p.name, p.status]));
    expect(status).toMatchObject({ agreement: 'violated', integrity: 'violated', validity: 'holds-within-bounds' });
  });

  it('a search stopped at its first violation is not exhaustive', () => {
    const r = runChecks(createModel(consensus, { variant: 'as-drawn' }), { mode: 'explore', all: false });
    const v = verdict(r);
    expect([r.explore!.complete, r.explore!.stopped]).toEqual([false, 'violation']);
    expect(v.extent).toMatch(/^not exhaustive: the search stopped at the first violation after [\d,]+ worlds/);
    expect(v.properties.filter((p) => p.status === 'holds')).toEqual([]);
  });

  it('a sometimes property a bound kept out of reach names the bound and its flag', () => {
    const r = check('election', '--nodes', '4', '--mode', 'explore', '--max-in-flight', '3');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/NOT MET {2}sometimes +a leader is elected \(no world within the bounds reaches it, [\d,]+ worlds at the in-flight bound 3 \(raise it with --max-in-flight\)\)/);
    expect(r.stdout).not.toContain('no reachable world satisfies it');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('FAIL: a leader is elected (not reached)');
  });

  it('the same election at its default bounds reaches a leader by exploration alone', () => {
    const r = check('election', '--nodes', '4', '--mode', 'explore', '--max-states', '20000');
    expect(r.stdout).toMatch(/ok {7}sometimes +a leader is elected/);
  });

  it('an exhaustive search says so and passes', () => {
    const r = check('mutex', '--nodes', '2', '--mode', 'explore');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('exhaustive: every reachable world was searched, no bound cut the search');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('PASS: every property holds');
  });

  it('a bounded search passes only within its bounds, named with their flags', () => {
    const r = check('consensus', '--nodes', '2', '--mode', 'explore');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^bounded: every world within the bounds was searched; not expanded: [\d,]+ worlds past the round bound 0 \(raise it with --max-round\)$/m);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/^PASS within the bounds/);
  });
});
