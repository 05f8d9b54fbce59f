/**
 * `check --shard` and `merge` as a CI matrix runs them: one process per shard, then one to merge,
 * on one thread and on two; and their one-line refusals. Every process has a kill timer.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'coordkit-shard-cli-'));

function coordkit(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn('node', ['bin/coordkit.js', ...args], { timeout: 100_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), 100_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** Every shard of `n` in its own process, at once; then `merge` of their results. */
async function matrix(name: string, check: string[], n: number, ...mergeArgs: string[]) {
  const runs = await Promise.all(Array.from({ length: n }, (_, k) => coordkit('check', ...check, '--shard', `${k + 1}/${n}`, '--json')));
  const files = runs.map((r, k) => {
    expect(r.err).toBe('');
    const file = join(dir, `${name}-${k + 1}.json`);
    writeFileSync(file, r.out);
    return file;
  });
  return { runs, merged: await coordkit('merge', ...files, ...mergeArgs) };
}

describe('coordkit check --shard, coordkit merge', () => {
  it('a buggy barrier, explored and walked in two processes, merges to FAIL naming the slowest shard', async () => {
    const { runs, merged } = await matrix('off-by-one', ['barrier', '--variant', 'off-by-one', '--runs', '40', '--seed', '3'], 2);
    expect(runs.map((r) => r.code)).toContain(1);
    expect(merged.code).toBe(1);
    expect(merged.out).toMatch(/^slowest: shard [12]\/2 \(/m);
    expect(merged.out).toMatch(/violation of 'no release before all arrived' \(always\) found by explore/);
    expect(merged.out.trim().split('\n').at(-1)).toMatch(/^FAIL: no release before all arrived/);
  });

  it('two shards on two threads each search what they search on one, and merge to the exhaustive verdict', async () => {
    const check = ['mutex', '--nodes', '2', '--param', 'requests=2', '--symmetry', 'off', '--mode', 'explore', '--shard-depth', '3'];
    const [{ runs, merged }, one] = await Promise.all([matrix('threads', [...check, '--workers', '2'], 2, '--json'), matrix('thread', [...check, '--search', 'dfs'], 2)]);
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(runs.map((r) => JSON.parse(r.out).threads)).toEqual([2, 2]);
    const counts = (rs: typeof runs) => rs.map((r) => [JSON.parse(r.out).states, JSON.parse(r.out).transitions]);
    expect(counts(runs)).toEqual(counts(one.runs));
    const m = JSON.parse(merged.out);
    expect(merged.code).toBe(0);
    expect(m).toMatchObject({ outcome: 'pass', exhaustive: true, shards: { count: 2, missing: [] }, prefix: { depth: 3 } });
  });

  it('refuses a bad shard in one line, exit 2', async () => {
    const results = await Promise.all([coordkit('check', 'mutex', '--shard', '3/2'), coordkit('check', 'mutex', '--shard', '1/2', '--mode', 'walk', '--shard-depth', '2'), coordkit('merge', join(dir, 'absent.json'))]);
    for (const r of results) {
      expect(r.code).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
  });
});
