/**
 * `coordkit mutate`: mutants found on the syntax tree with ids that survive edits elsewhere;
 * through the real command on user protocols, a mutant the properties see is killed, one they
 * cannot see survives and is listed with its change, a declared equivalent is not counted, the
 * two-phase commit's buggy variant recreated as a mutant is killed, and a mutant that loops is
 * killed by timeout. Bad input is one line and exit 2.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { applyEdits, mutantsOf } from '../src/mutate/mutants.js';
import { seededArgs } from '../src/mutate/run-mutation.js';

const BIN = resolve('bin/coordkit.js');
const TPC = 'examples/two-phase-commit/index.ts';
const COUNTDOWN = 'test/fixtures/countdown.ts';
const dir = mkdtempSync(join(tmpdir(), 'coordkit-mutate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Generous: a guard against a hang, not a measure of speed (on an idle machine each run takes seconds).
const run = (args: string[], timeout = 180_000) => {
  const r = spawnSync(process.execPath, [BIN, 'mutate', ...args], { encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return r;
};

interface Listed {
  id: string;
  file: string;
  line: number;
  operator: string;
  before: string;
  after: string;
}
/** The mutants `--list` names, found the same way in this process. */
const list = (machine: string): Listed[] => mutantsOf(machine, readFileSync(machine, 'utf8'));

/** The command in this process, for input it refuses before checking anything: its exit code and stderr. */
async function refused(args: string[]): Promise<{ code: number; stderr: string }> {
  let stderr = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await main(['mutate', ...args]), stderr };
  } finally {
    spy.mockRestore();
  }
}
const find = (mutants: Listed[], test: (m: Listed) => boolean, what: string): Listed => {
  const found = mutants.filter(test);
  expect(found, what).toHaveLength(1);
  return found[0];
};

const MACHINE = `import { assign, setup } from 'xstate';
const quorum = (n: number) => Math.floor(n / 2) + 1;
export const m = setup({
  guards: { enough: ({ context }) => context.votes >= quorum(context.n) },
  actions: { count: assign({ votes: ({ context }) => context.votes + 1, seen: true }) },
}).createMachine({
  initial: 'waiting',
  states: {
    waiting: { on: { vote: [{ guard: 'enough', target: 'won', actions: 'count' }, { actions: 'count' }] } },
    won: {},
    lost: {},
  },
});
export const property = { name: 'p', kind: 'always', holds: (w: { n: number }) => w.n > 1 };
`;

describe('mutants of a machine', () => {
  const mutants = mutantsOf('machine.ts', MACHINE);
  const changes = mutants.map((m) => `${m.operator}: ${m.before} → ${m.after}`);

  it('covers comparisons, quorums, guards, actions, assigned fields and targets, and nothing else', () => {
    expect(changes).toEqual(
      expect.arrayContaining([
        'relational: context.votes >= quorum(context.n) → context.votes > quorum(context.n)',
        'relational: context.votes >= quorum(context.n) → context.votes < quorum(context.n)',
        'off-by-one: quorum(context.n) → (quorum(context.n) + 1)',
        'off-by-one: 1 → 2',
        'negate: context.votes >= quorum(context.n) → !(context.votes >= quorum(context.n))',
        "remove-guard: guard: 'enough' → (removed)",
        "remove-action: actions: 'count' → (removed)",
        'remove-action: seen: true → (removed)',
        "target: 'won' → \"lost\"",
        "target: 'won' → \"waiting\"",
      ]),
    );
    // The property is the specification: it is never mutated.
    expect(mutants.filter((m) => m.line === 14)).toEqual([]);
    // Each mutant changes the file, and no two change it the same way.
    const texts = mutants.map((m) => applyEdits(MACHINE, m.edits));
    expect(texts.every((t) => t !== MACHINE)).toBe(true);
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('keeps its id when code elsewhere moves it to another line', () => {
    const moved = mutantsOf('machine.ts', MACHINE.replace("from 'xstate';\n", "from 'xstate';\n\nconst unrelated = 1 < 2;\n"));
    const ids = new Map(mutants.map((m) => [m.id, m.line]));
    expect(moved.map((m) => m.id)).toEqual(mutants.map((m) => m.id));
    expect(moved.every((m) => m.line === ids.get(m.id)! + 2)).toBe(true);
  });
});

describe('coordkit mutate on a user protocol (two-phase commit)', () => {
  const mutants = list('examples/two-phase-commit/machine.ts');
  // The buggy variant commit-early, recreated: the verified manager takes the early branch.
  const commitEarly = find(mutants, (m) => m.operator === 'negate' && m.before === 'options.commitEarly', 'commit-early as a mutant');
  // `>` for `>=`: the TM waits for one more RM than there are, and never commits.
  const neverCommits = find(mutants, (m) => m.before === 'c.prepared.length >= c.needed' && m.after === 'c.prepared.length > c.needed', 'the TM never commits');
  // A prepared RM that ignores the TM's abort: safe, and a transaction still aborts somewhere.
  const ignoresAbort = find(mutants, (m) => m.operator === 'remove-action' && m.before === "abort: 'aborted'" && m.line > 77, "a prepared RM ignores abort");
  // index.ts offers client.commit only when mayCommit holds, so this guard never refuses one.
  const redundantGuard = find(mutants, (m) => m.operator === 'remove-guard' && m.before.includes('mayCommit'), 'the commit guard');

  it('lists the machine file only, with ids, places and changes', () => {
    expect(mutants.length).toBeGreaterThan(20);
    expect(new Set(mutants.map((m) => m.file))).toEqual(new Set(['examples/two-phase-commit/machine.ts']));
    for (const m of mutants) expect(m.id).toMatch(/^[0-9a-f]{8}$/);
  });

  it('kills what the properties see, lists the survivor they cannot see, and does not count a declared equivalent', () => {
    const file = join(dir, 'mutation.json');
    writeFileSync(file, JSON.stringify({ equivalent: { [redundantGuard.id]: { reason: 'the protocol offers client.commit only when mayCommit holds' } } }));
    const ids = [commitEarly, neverCommits, ignoresAbort, redundantGuard].map((m) => m.id);
    const r = run(['--protocol', TPC, '--only', ids.join(','), '--mutation-file', file, '--check', '--nodes 3', '--jobs', '2', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    const status = (id: string) => report.mutants.find((m: { id: string }) => m.id === id);
    expect(status(commitEarly.id)).toMatchObject({ status: 'killed', properties: ['no resource manager commits while another aborts'], tried: ['default'] });
    expect(status(neverCommits.id)).toMatchObject({ status: 'killed', properties: ['a transaction commits'] });
    expect(status(ignoresAbort.id)).toMatchObject({ status: 'survived', tried: ['default', '--nodes 3'] });
    expect(report.configs).toEqual(['default', '--nodes 3']);
    expect(report.walkSeed).toBe(1);
    expect(status(redundantGuard.id)).toMatchObject({ status: 'equivalent', detail: 'the protocol offers client.commit only when mayCommit holds' });
    expect(report).toMatchObject({ total: 4, killed: 2, survived: 1, equivalent: 1, invalid: 0 });
    expect(report.score).toBeCloseTo(2 / 3);
    // Progress went to stderr, the report to stdout.
    expect(r.stderr).toMatch(/mutate two-phase-commit: 4\/4 mutants, 2 killed/);
  }, 200_000);
});

describe('the walks of a mutation run have one seed', () => {
  it('a configuration that walks gets the seed, one that only explores or names its own does not', () => {
    expect(seededArgs([], 7)).toEqual(['--seed', '7']);
    expect(seededArgs(['--nodes', '4', '--mode', 'walk'], 7)).toEqual(['--nodes', '4', '--mode', 'walk', '--seed', '7']);
    expect(seededArgs(['--mode', 'explore'], 7)).toEqual(['--mode', 'explore']);
    expect(seededArgs(['--mode=explore', '--nodes', '4'], 7)).toEqual(['--mode=explore', '--nodes', '4']);
    expect(seededArgs(['--seed', '3'], 7)).toEqual(['--seed', '3']);
    expect(seededArgs(['--seed=3'], 7)).toEqual(['--seed=3']);
    expect(seededArgs(['--nodes', '4'], undefined)).toEqual(['--nodes', '4']);
  });
});

describe('coordkit mutate: timeouts, text output', () => {
  const mutants = list(COUNTDOWN);
  const loops = find(mutants, (m) => m.before === '1' && m.after === '0', 'k - 1 to k - 0');
  const pastZero = find(mutants, (m) => m.after === 'k >= 0', 'k > 0 to k >= 0');
  const stays = find(mutants, (m) => m.operator === 'target', "'done' to 'idle'");

  it('a mutant that loops is killed by timeout, listed with the check that timed out', () => {
    const r = run(['--protocol', COUNTDOWN, '--only', [loops.id, pastZero.id, stays.id].join(','), '--timeout', '10', '--check', '--nodes 3', '--jobs', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`killed by timeout \\(1\\):\\n.*\\n  ${loops.id}  test/fixtures/countdown.ts:18 +1 → 0 +default \\(no verdict within 10 s\\)`));
    // Back in `idle`, the node may never be done: the `sometimes` property is not reached.
    expect(r.stdout).not.toMatch(new RegExp(`survived[\\s\\S]*${pastZero.id}`));
    expect(r.stdout).toMatch(/killed 3 of 3 \(2 by a property, 1 by timeout, 0 by an error\)/);
    expect(r.stdout).toMatch(/score 100\.0%/);
  }, 200_000);
});

describe('coordkit mutate: bad input is one line, exit 2', () => {
  it.each([
    [['--protocol', 'nope.ts'], /^coordkit: cannot load --protocol nope\.ts: no such file\n$/],
    [['mutex', '--protocol', TPC], /give a primitive name or --protocol FILE, not both/],
    [['--protocol', TPC, '--check', '--protocol x.ts'], /--check '--protocol x.ts': --protocol is set by the analysis itself/],
    [['--protocol', TPC, '--files', 'src/cli.ts'], /--files: src\/cli\.ts is not one of the protocol's local modules \(examples\/two-phase-commit\/index\.ts, examples\/two-phase-commit\/machine\.ts\)/],
    [['--protocol', TPC, '--only', 'ffffffff'], /--only: no mutant 'ffffffff'/],
    [['--protocol', TPC, '--mutation-file', 'nope.json'], /nope\.json: no such file/],
    [['--protocol', TPC, '--jobs', '0'], /--jobs must be from 1 to 256/],
    [['--protocol', TPC, '--sample', '3', '--only', 'ffffffff'], /give --only or --sample, not both/],
  ])('%j', async (args, message) => {
    const r = await refused(args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('a mutation file that is not what it should be', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ equivalent: { abc: 'x' } }));
    const r = await refused(['--protocol', TPC, '--mutation-file', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/equivalent: 'abc' is not a mutant id/);
  });

  it('a configuration the original protocol does not pass: nothing to measure against', () => {
    const r = run(['--protocol', TPC, '--check', '--nodes 1']);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^coordkit: the original protocol's `check --nodes 1` failed: --nodes must be from 2 to 16, got 1\n$/m);
  }, 200_000);
});
