/** Scenario files are validated on load: every mistake is one line naming the field, and the command exits 2. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { protocols } from '../machines/index.js';
import { main } from '../src/cli.js';
import { checkScenario, ScenarioError } from '../src/sim/timed-scenario.js';

const base = () => ({
  primitive: 'election',
  nodes: 3,
  untilMs: 300,
  latencyMs: { default: 5, links: { '2->1': 7 } },
  events: [{ atMs: 10, node: 1, client: { type: 'client.set', value: 'x' } }],
});

const problem = (raw: unknown) => {
  try {
    checkScenario(raw, 'x.json', protocols);
  } catch (err) {
    expect(err).toBeInstanceOf(ScenarioError);
    return (err as Error).message;
  }
  return 'accepted';
};

describe('scenario validation', () => {
  it('accepts a well-formed scenario', () => {
    const s = checkScenario(base(), 'x.json', protocols);
    expect(s).toMatchObject({ primitive: 'election', nodes: 3, network: 'fifo', latencyMs: { default: 5, links: { '2->1': 7 } } });
  });

  it.each([
    ['unknown primitive', { ...base(), primitive: 'paxos2' }, /primitive 'paxos2' is unknown \(choose from: election/],
    ['unknown node in an event', { ...base(), events: [{ atMs: 0, node: 4, client: { type: 'x' } }] }, /events\[0\]\.node names unknown node 4 \(nodes are 1\.\.3\)/],
    ['unknown node in a link', { ...base(), latencyMs: { default: 1, links: { '2->9': 3 } } }, /latencyMs\.links\["2->9"\] names unknown node 9/],
    ['negative latency', { ...base(), latencyMs: { default: -3 } }, /latencyMs\.default must not be negative, got -3/],
    ['negative link latency', { ...base(), latencyMs: { default: 1, links: { '2->1': -1 } } }, /latencyMs\.links\["2->1"\] must not be negative/],
    ['empty latency range', { ...base(), latencyMs: { uniform: [9, 3] } }, /uniform range is empty/],
    ['a partition that misses a node', { ...base(), events: [{ atMs: 1, partition: [[1], [2]] }] }, /must split nodes 1\.\.3 into two sides/],
    ['an unknown field', { ...base(), nodez: 3 }, /top level has unknown field 'nodez'/],
    ['an unknown variant', { ...base(), variant: 'nope' }, /'nope' is not a variant of election/],
    ['work with two starts', { ...base(), work: [{ node: 1, label: 'w', durationMs: 5, startAtMs: 0, startOnNote: 'x' }] }, /needs exactly one of startAtMs, startOnNote/],
    ['a missing end time', { ...base(), untilMs: undefined }, /untilMs must be a number of ms/],
  ])('rejects %s with one line', (_, raw, pattern) => {
    const message = problem(raw);
    expect(message).toMatch(pattern);
    expect(message).not.toContain('\n');
    expect(message.startsWith('scenario x.json: ')).toBe(true);
  });
});

describe('coordkit simulate with bad input', () => {
  let stderr: string;
  let dir: string;
  beforeEach(() => {
    stderr = '';
    dir = mkdtempSync(join(tmpdir(), 'coordkit-scenario-'));
    vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((stderr += String(s)), true));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => vi.restoreAllMocks());

  const write = (raw: unknown) => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, typeof raw === 'string' ? raw : JSON.stringify(raw));
    return file;
  };

  it.each([
    ['a negative latency', () => ['election', '--scenario', write({ ...base(), latencyMs: -1 })], /latencyMs must not be negative/],
    ['an unknown node', () => ['election', '--scenario', write({ ...base(), events: [{ atMs: 0, crash: 9 }] })], /events\[0\]\.crash names unknown node 9/],
    ['a scenario of another primitive', () => ['mutex', '--scenario', write(base())], /is for election, not mutex/],
    ['an unknown primitive', () => ['nosuch', '--scenario', 'seed'], /unknown primitive 'nosuch'/],
    ['a missing scenario', () => ['election', '--scenario', 'no-such-scenario'], /scenario .no-such-scenario. not found \(shipped for election: seed\)/],
    ['broken JSON', () => ['election', '--scenario', write('{"primitive": ')], /not valid JSON/],
    ['a bad seed', () => ['election', '--scenario', 'seed', '--seed', 'x'], /--seed must be a whole number/],
  ])('exits 2 on %s, with one line', async (_, args, pattern) => {
    expect(await main(['simulate', ...args()])).toBe(2);
    expect(stderr).toMatch(pattern);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  it('prints the barrier waits table and writes its gantt chart', async () => {
    let stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((stdout += String(s)), true));
    const out = join(dir, 'barrier');
    expect(await main(['simulate', 'barrier', '--scenario', 'seed', '--out', out])).toBe(0);
    const table = stdout.slice(stdout.indexOf('Waits ('));
    expect(table).toMatch(/N1 +50 ms +200 ms +150 ms/);
    expect(table).toMatch(/N5 +200 ms +200 ms +0 ms/);
    expect(table).toMatch(/total +200 ms +435 ms/);
    expect(stdout).toContain('stragglers: N5, N3');
    expect(readFileSync(join(out, 'gantt.mmd'), 'utf8')).toMatch(/^gantt\n[\s\S]*section N5 straggler/);
  });

  it.each([[['--scenario', 'seed']], [[]]])('writes trace, diagrams and metrics.json for a good scenario (%j; the seed is the default)', async (scenario) => {
    const out = join(dir, `out${scenario.length}`);
    expect(await main(['simulate', 'election', ...scenario, '--out', out])).toBe(0);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(metrics).toMatchObject({ primitive: 'election', scenario: 'seed', nodes: 5, violations: [] });
    expect(readFileSync(join(out, 'sequence.mmd'), 'utf8')).toMatch(/^sequenceDiagram/);
    expect(readFileSync(join(out, 'flowchart.mmd'), 'utf8')).toMatch(/flowchart TB/);
    expect(JSON.parse(readFileSync(join(out, 'trace.json'), 'utf8')).steps.length).toBeGreaterThan(10);
  });
});
