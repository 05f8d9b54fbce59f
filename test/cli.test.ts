/**
 * The `coordkit` command contract: exit codes, one-line errors, JSON shape. Usage errors and
 * help are answered before anything is checked, so they run through the command's entry point
 * in this process (a process each cost most of this file's time); the real command prints one
 * of each, and runs the checks.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { inProcess } from './cli-helpers.js';

const run = (...args: string[]) => spawnSync('node', ['bin/coordkit.js', ...args], { encoding: 'utf8', timeout: 120_000 });

describe('coordkit CLI', () => {
  it.each([
    [['check', 'nosuch'], /unknown primitive 'nosuch' \(choose from: election/],
    [['check', 'election', '--variant', 'nope'], /unknown variant 'nope' \(choose from: prevote, no-prevote/],
    [['check', 'election', '--network', 'udp'], /unknown network 'udp' \(choose from: fifo, unordered, unordered-duplicating\)/],
    [['check', 'election', '--faults', 'loss,fire'], /unknown fault 'fire' \(choose from: loss, dup, crash, partition\)/],
    [['check', 'election', '--nodes', 'three'], /--nodes must be a whole number from 2 to 16, got 'three'/],
    [['check', 'election', '--nodes', '40'], /--nodes must be from 2 to 16, got 40/],
    [['check', 'election', '--mode', 'fast'], /unknown mode 'fast'/],
    [['check', 'election', '--bogus'], /Unknown option '--bogus'/],
    [['check', 'election', '--seed', 'x'], /--seed must be an integer/],
    [['check', 'election', '--symmetry', 'maybe'], /unknown symmetry 'maybe' \(choose from: on, off\)/],
    [['check', 'election', '--search', 'astar'], /unknown search 'astar' \(choose from: bfs, dfs\)/],
    [['check', 'election', '--faults', 'crash', '--search', 'dfs'], /--search dfs cannot honour a depth bound \(max depth 11\)/],
    [['check'], /name a primitive/],
    [['check', 'mutex', '--param', 'reqs=2'], /unknown param 'reqs' of mutex \(choose from: requests\)/],
    [['check', 'mutex', '--param', 'requests'], /--param takes NAME=VALUE, got 'requests'/],
    [['check', 'consensus', '--param', 'proposers=9'], /--param proposers takes comma-separated whole numbers from 1 to 3 \(the nodes clients ask to propose\), got '9'/],
    [['check', 'mutex', '--param', 'requests=abc'], /--param requests takes a whole number from 1 to 10 \(times each node asks for the lock\), got 'abc'/],
    [['check', 'mutex', '--param', 'requests=0'], /--param requests takes a whole number from 1 to 10/],
    [['check', 'mutex', '--param', 'requests=1', '--param', 'requests=2'], /--param requests is given twice/],
    [['check', 'mutex', '--max-depth', '-1'], /^coordkit: --max-depth must be a whole number from 0 to 10000, got '-1'\n$/],
    [['check', 'mutex', '--max-in-flight', 'lots'], /--max-in-flight must be a whole number/],
    [['check', 'mutex', '--max-crashes', '2'], /--max-crashes is a budget for --faults crash, which this check does not inject/],
    [['check', 'mutex', '--mode', 'explore', '--runs', '5'], /--runs does not apply to --mode explore/],
    [['check', 'mutex', '--mode', 'walk', '--max-states', '5'], /--max-states does not apply to --mode walk/],
    [['check', 'mutex', '--path', '1:2'], /--path needs the --seed printed with it/],
    [['check', 'mutex', '--mode', 'explore', '--path', '1:2', '--seed', '3'], /--path|--seed/],
    [['list', 'mutex'], /unexpected argument 'mutex': list shows every protocol it is given/],
    [['all', 'mutex'], /unexpected argument 'mutex': all checks every protocol it is given/],
    [['simulate', 'mutex', '--scenario', 'test/fixtures/nope-request.json'], /'client.nope' is not a request the machine handles \(choose from: client.acquire, client.release\)/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['check', '--protocol', 'no/such/file.js'], /cannot load --protocol no\/such\/file.js/],
  ])('%j: one-line error, exit 2, no stack trace', async (args, message) => {
    const r = await inProcess(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('the real command: a usage error is one line and exit 2, help is exit 0', () => {
    const bad = run('check', 'election', '--nodes', 'three');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("coordkit: --nodes must be a whole number from 2 to 16, got 'three'\n");
    const help = run('check', '--help');
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: coordkit check/);
  });

  it.each(['check', 'all', 'list', 'simulate', 'report', 'node', 'cluster'])('%s --help prints its usage and one line per option, exit 0', async (command) => {
    for (const flag of ['--help', '-h']) {
      const r = await inProcess(command, flag);
      expect(r.status).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(new RegExp(`^usage: coordkit ${command}`));
      const options = lines.slice(lines.indexOf('options:') + 1);
      expect(options.length).toBeGreaterThan(1);
      for (const line of options) expect(line).toMatch(/^ {2}(-\w, )?--[\w-]+( \S+)? {2,}\S/);
    }
  });

  it('coordkit --help lists every command with one line, exit 0; no command at all is a usage error', async () => {
    const r = await inProcess('--help');
    expect(r.status).toBe(0);
    for (const command of ['check', 'all', 'list', 'simulate', 'report', 'node', 'cluster']) expect(r.stdout).toMatch(new RegExp(`^ {2}${command} +\\w.+$`, 'm'));
    expect(r.stdout).toContain('3 internal error');
    expect((await inProcess()).status).toBe(2);
  });

  it('passes --param to the primitive and into the replay command', () => {
    const r = run('check', 'mutex', '--variant', 'no-reply-wait', '--param', 'requests=2', '--mode', 'explore', '--json');
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.violations[0].replay).toContain('--param requests=2');
  });

  it('lists primitives, variants (buggy ones with what they break) and properties', () => {
    const r = run('list', '--json');
    expect(r.status).toBe(0);
    const election = JSON.parse(r.stdout).find((p: { name: string }) => p.name === 'election');
    expect(election.variants.find((v: { name: string }) => v.name === 'vote-twice').breaks).toBe('one vote per node per term');
    expect(election.properties.map((p: { name: string }) => p.name)).toContain('one leader per term');
  });

  it('check exits 0 with the documented JSON when every property holds', () => {
    const r = run('check', 'election', '--nodes', '3', '--mode', 'explore', '--json');
    expect(r.status).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining(['primitive', 'variant', 'nodes', 'mode', 'network', 'faults', 'states', 'transitions', 'depth', 'elapsedMs', 'statesPerSecond', 'coverage', 'violations']),
    );
    expect(json).toMatchObject({ primitive: 'election', variant: 'prevote', nodes: 3, states: 24_126, violations: [] });
    expect(json.coverage).toMatchObject({ measured: true, states: 1 });
    expect(json).toMatchObject({ complete: true, outcome: 'pass' });
  });

  it('check exits 1 on a buggy variant, naming the invariant, printing the run as a Mermaid diagram and the replay command', () => {
    // Depth 16 holds its shortest counterexamples (11 and 16 steps) in 9,209 worlds, not 409,028.
    const r = run('check', 'election', '--variant', 'vote-twice', '--mode', 'explore', '--max-depth', '16');
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/violation of 'one vote per node per term' \(always\) found by explore in \d+ steps/);
    expect(r.stdout).toContain('```mermaid\nsequenceDiagram');
    expect(r.stdout).toMatch(/replay: coordkit check election --variant vote-twice/);
  });

  it('--first stops at the first violated property; without it, every violated property is reported', async () => {
    // restart-idle breaks two properties under crashes (consensus-variants.test.ts).
    const args = ['check', 'consensus', '--variant', 'restart-idle', '--faults', 'crash', '--mode', 'explore', '--json'];
    const every = JSON.parse((await inProcess(...args)).stdout).violations.map((v: { invariant: string }) => v.invariant);
    const first = await inProcess(...args, '--first');
    expect(first.status).toBe(1);
    expect(every.length).toBeGreaterThan(1);
    expect(JSON.parse(first.stdout).violations.map((v: { invariant: string }) => v.invariant)).toEqual([every[0]]);
    expect((await inProcess('check', 'mutex', '--shard', '1/2', '--first')).stderr).toMatch(/^coordkit: --first does not apply to --shard/);
  });

  it('a walk counterexample replays from the printed --seed and --path', () => {
    const first = run('check', 'election', '--variant', 'vote-twice', '--mode', 'walk', '--seed', '1', '--json');
    expect(first.status).toBe(1);
    const replay: string = JSON.parse(first.stdout).violations[0].replay;
    const args = replay.replace(/^coordkit /, '').split(' ');
    const again = run(...args, '--json');
    expect(again.status).toBe(1);
    const v = JSON.parse(again.stdout).violations[0];
    expect(v.invariant).toBe('one vote per node per term');
    expect(v.steps).toBe(JSON.parse(first.stdout).violations[0].steps);
  });
});
