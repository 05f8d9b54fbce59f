/** `coordkit check` prints a run that breaks several properties once, naming every one. */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('check output', () => {
  it('mutex on an unordered network: one trace, three properties', () => {
    const r = spawnSync('node', ['bin/coordkit.js', 'check', 'mutex', '--network', 'unordered', '--mode', 'explore'], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status).toBe(1);
    const headers = r.stdout.split('\n').filter((l) => l.startsWith('violation of '));
    expect(headers).toEqual([
      "violation of 'mutual exclusion' (always), 'grants follow timestamp order' (always), 'fencing tokens increase' (always) found by explore in 10 steps:",
    ]);
    expect(r.stdout.match(/```mermaid/g)).toHaveLength(1);
    expect(r.stdout.match(/^replay: /gm)).toHaveLength(1);
    expect(r.stdout).toContain('FAIL: mutual exclusion, grants follow timestamp order, fencing tokens increase');
  });
});
