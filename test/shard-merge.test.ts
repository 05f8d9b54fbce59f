/**
 * `check --shard i/n` and `merge`: for a verified and a buggy variant of every built-in primitive,
 * the shards of 2 and of 3, merged, give the unsharded verdict: the same properties violated and
 * ok, exhaustive (or bounded) when the unsharded search is. The shards run through the command's
 * own entry point in this process (a process each would cost more time than the checks); the
 * end-to-end runs, through real processes, are in shard-cli.test.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inProcess } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'coordkit-shard-'));

/** Runs the command with its output captured. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const r = await inProcess(...args);
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/**
 * The command's JSON, run once per argument list: a check is deterministic (explorations, and
 * walks of one seed), so a check several tests ask for is run for the first and read by the rest.
 */
const ran = new Map<string, Promise<{ code: number; json: any }>>();
function json(...args: string[]) {
  const key = JSON.stringify(args);
  if (!ran.has(key)) {
    ran.set(key, (async () => {
      const r = await cli(...args, '--json');
      expect(r.err).toBe('');
      return { code: r.code, json: JSON.parse(r.out) };
    })());
  }
  return ran.get(key)!;
}

/** Each shard of `n` as a file, and the merge of them all. */
async function sharded(check: string[], n: number) {
  const files: string[] = [];
  const shards = [];
  for (let i = 1; i <= n; i++) {
    const s = await json('check', ...check, '--shard', `${i}/${n}`);
    const file = join(dir, `${check.join('_').replace(/[^\w=-]/g, '')}-${i}of${n}.json`);
    writeFileSync(file, JSON.stringify(s.json));
    files.push(file);
    shards.push(s.json);
  }
  return { files, shards, merged: await json('merge', ...files) };
}

const statuses = (r: { properties: { name: string; status: string }[] }) => Object.fromEntries(r.properties.map((p) => [p.name, p.status]));

/**
 * A verified and a buggy variant of each primitive, at configurations small enough to run often.
 * vote-twice at depth 16 has the default's shortest counterexamples (11 and 16 steps) in 9,209
 * worlds instead of 409,028; no-reply-wait is cut short by --max-states, as the default is at
 * 500,000 worlds, so merging searches that stopped early is checked too; off-by-one releases
 * early at step 9 in one generation as in two (1,328 worlds instead of 65,906, each shard of
 * which searches almost all).
 */
const CASES: [string, string[]][] = [
  ['election', ['--max-round', '1']],
  ['election', ['--variant', 'vote-twice', '--max-depth', '16']],
  ['consensus', ['--nodes', '2']],
  ['consensus', ['--variant', 'as-drawn']],
  ['mutex', ['--nodes', '2', '--param', 'requests=2', '--shard-depth', '3']],
  ['mutex', ['--variant', 'no-reply-wait', '--max-states', '20000']],
  ['barrier', ['--param', 'generations=1']],
  ['barrier', ['--variant', 'off-by-one', '--param', 'generations=1', '--shard-depth', '2']],
];

describe('sharded exploration, merged', () => {
  it.each(CASES)('%s %s: shards of 2 and of 3 merge to the unsharded verdict', async (primitive, extra) => {
    const depth = extra.indexOf('--shard-depth');
    const plain = depth < 0 ? extra : extra.filter((_, k) => k !== depth && k !== depth + 1);
    const check = [primitive, ...extra, '--mode', 'explore'];
    const whole = await json('check', primitive, ...plain, '--mode', 'explore');
    const wholeStatus = statuses(whole.json);
    const violated = Object.keys(wholeStatus).filter((p) => wholeStatus[p] === 'violated');
    for (const n of [2, 3]) {
      const { shards, merged } = await sharded(check, n);
      const m = merged.json;
      expect(merged.code, m.summary).toBe(whole.code);
      expect(m.outcome).toBe(whole.json.outcome);
      expect(m.shards).toMatchObject({ count: n, missing: [] });
      // Each property: ok where the unsharded check says so; violated where it is; a property
      // the unsharded search never judged (it stopped at a violation) may be violated by a shard.
      for (const [name, status] of Object.entries(statuses(m))) {
        if (wholeStatus[name] === 'not-established') expect(['not-established', 'violated'], name).toContain(status);
        else expect(status, name).toBe(wholeStatus[name]);
      }
      expect(violated.every((p) => m.violations.some((v: { invariant: string }) => v.invariant === p))).toBe(true);
      if (whole.json.outcome === 'pass') {
        expect(m.exhaustive).toBe(whole.json.bounded === 0);
        expect(m.complete).toBe(true);
        // The split happened, and each shard searched less than the whole, all of them at least the whole.
        expect(shards[0].shard.prefix.depth).toBeGreaterThan(0);
        for (const s of shards) expect(s.states).toBeLessThan(whole.json.states);
        expect(m.states).toBeGreaterThanOrEqual(whole.json.states);
      } else {
        // Breadth-first: the merged shortest run is as short as the unsharded one.
        expect(m.violations[0].steps).toBe(Math.min(...whole.json.violations.map((v: { steps: number }) => v.steps)));
      }
    }
  });

  it('a depth-first shard searches the same share as a breadth-first one, and finds the buggy run', async () => {
    const check = ['mutex', '--nodes', '2', '--param', 'requests=2', '--shard-depth', '3', '--mode', 'explore'];
    const bfs = await sharded(check, 3);
    const dfs = await sharded([...check, '--search', 'dfs'], 3);
    expect(dfs.merged.json).toMatchObject({ outcome: 'pass', exhaustive: true, search: 'dfs' });
    expect(dfs.shards.map((s) => s.shard.prefix)).toEqual(bfs.shards.map((s) => s.shard.prefix));
    const buggy = await sharded(['barrier', '--variant', 'off-by-one', '--param', 'generations=1', '--shard-depth', '2', '--mode', 'explore', '--search', 'dfs'], 2);
    expect(buggy.merged.code).toBe(1);
    expect(statuses(buggy.merged.json)['no release before all arrived']).toBe('violated');
  });

  it('walk shards take blocks of one seed\'s runs: the earliest failing run is the unsharded walk\'s', async () => {
    const check = ['mutex', '--variant', 'no-reply-wait', '--mode', 'walk', '--runs', '60', '--seed', '7'];
    const whole = await json('check', ...check);
    const { shards, merged } = await sharded(check, 3);
    expect(shards.map((s) => s.shard.runs)).toEqual([
      { first: 0, count: 20, of: 60 },
      { first: 20, count: 20, of: 60 },
      { first: 40, count: 20, of: 60 },
    ]);
    expect(merged.code).toBe(1);
    const first = merged.json.violations.filter((v: { mode: string }) => v.mode === 'walk').sort((a: { run: number }, b: { run: number }) => a.run - b.run)[0];
    expect(first.replay).toBe(whole.json.violations[0].replay);
  });

  it('a missing shard is named, and the verdict is no proof', async () => {
    const { files } = await sharded(['barrier', '--param', 'generations=1', '--mode', 'explore'], 3);
    const r = await json('merge', files[0], files[2]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ outcome: 'no-violation-found', complete: false, shards: { missing: [2] } });
    expect(r.json.extent).toContain('shard 2/3 missing');
  });

  it('refuses files that are not shards of one check, in one line with exit 2', async () => {
    const a = await sharded(['barrier', '--param', 'generations=1', '--mode', 'explore'], 2);
    const b = await sharded(['barrier', '--variant', 'off-by-one', '--param', 'generations=1', '--shard-depth', '2', '--mode', 'explore'], 2);
    const c = await sharded(['barrier', '--param', 'generations=1', '--mode', 'explore'], 3);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'PASS');
    const unsharded = join(dir, 'unsharded.json');
    writeFileSync(unsharded, (await cli('check', 'barrier', '--param', 'generations=1', '--mode', 'explore', '--json')).out);
    for (const [files, message] of [
      [[a.files[0], b.files[1]], /variant "off-by-one" differs/],
      [[a.files[0], c.files[1]], /shard count 3 differs/],
      [[a.files[0], a.files[0]], /shard 1\/2 is also/],
      [[a.files[0], notJson], /not JSON/],
      [[a.files[0], unsharded], /not the result of 'coordkit check --shard/],
      [[a.files[0], join(dir, 'absent.json')], /cannot read/],
      [[], /no shard results/],
    ] as [string[], RegExp][]) {
      const r = await cli('merge', ...files);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err.trim().split('\n')).toHaveLength(1);
    }
    // Against the unsharded result: the shards' work, counted.
    const m = await json('merge', ...a.files, '--unsharded', unsharded);
    expect(m.json.unsharded.states).toBeGreaterThan(0);
    expect(m.json.unsharded.stateRatio).toBeCloseTo(m.json.states / m.json.unsharded.states);
  });
});
