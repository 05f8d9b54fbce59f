/**
 * A user's protocol gets every command the kit's own primitives get, through the real `coordkit`
 * command: the compiled two-phase commit example (and its TypeScript source), and a small
 * TypeScript protocol loaded from source in a folder of its own (with a config file naming both).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = resolve('bin/coordkit.js');
const TPC_JS = resolve('dist/examples/two-phase-commit/index.js');
const TPC_TS = resolve('examples/two-phase-commit/index.ts');

const dir = mkdtempSync(join(tmpdir(), 'coordkit-user-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// The user's folder: the TypeScript protocol, the packages it imports, one scenario, a config.
const PING = join(dir, 'ping.ts');
copyFileSync('test/fixtures/ping.ts', PING);
symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
mkdirSync(join(dir, 'scenarios'));
writeFileSync(
  join(dir, 'scenarios', 'seed.json'),
  JSON.stringify({ primitive: 'ping', name: 'seed', description: 'Node 2 pings.', nodes: 3, network: 'fifo', latencyMs: 10, untilMs: 500, events: [{ atMs: 5, node: 2, client: { type: 'client.ping' } }] }),
);
writeFileSync(join(dir, 'coordkit.config.js'), `export default { protocols: ['./ping.ts', ${JSON.stringify(relative(dir, TPC_JS))}] };\n`);

const run = (args: string[], cwd = process.cwd(), timeout = 60_000) => {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', timeout });
  if (r.error) throw r.error;
  return r;
};

/** A usage error: exit 2, one line, no stack trace. */
function expectUsageError(r: ReturnType<typeof run>, message: RegExp) {
  expect(r.status, r.stdout + r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('list', () => {
  it.each([[TPC_JS], [TPC_TS]])('--protocol %s lists its variants and properties', (file) => {
    const r = run(['list', '--protocol', file, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const [p] = JSON.parse(r.stdout);
    expect(p).toMatchObject({ name: 'two-phase-commit', defaultVariant: 'two-phase' });
    expect(p.variants.find((v: { name: string }) => v.name === 'commit-early').breaks).toBe('no resource manager commits while another aborts');
  });

  it('covers the protocols coordkit.config.js names, from the working directory or --config', () => {
    const here = run(['list', '--json'], dir);
    expect(here.status, here.stderr).toBe(0);
    expect(JSON.parse(here.stdout).map((p: { name: string }) => p.name)).toEqual(['ping', 'two-phase-commit']);
    const there = run(['list', '--json', '--config', join(dir, 'coordkit.config.js')]);
    expect(JSON.parse(there.stdout).map((p: { name: string }) => p.name)).toEqual(['ping', 'two-phase-commit']);
    // Without a config the kit's own primitives.
    expect(JSON.parse(run(['list', '--json']).stdout).map((p: { name: string }) => p.name)).toContain('mutex');
  });
});

describe('bad protocols and contradictory arguments', () => {
  const bad = join(dir, 'bad');
  mkdirSync(bad);
  const module = (name: string, text: string) => {
    writeFileSync(join(bad, name), text);
    return join(bad, name);
  };
  const machine = `import { setup } from 'xstate';\nconst machine = setup({}).createMachine({});\n`;
  const noDefault = module('no-default.mjs', `${machine}export default { name: 'x', description: 'd', variants: [{ name: 'a', description: 'd', machine, durable: () => ({}) }], properties: [{ name: 'p', kind: 'always', holds: () => true }], defaults: {} };\n`);
  const badBreaks = module('bad-breaks.mjs', `${machine}export default { name: 'x', description: 'd', defaultVariant: 'a', variants: [{ name: 'a', description: 'd', breaks: 'nope', machine, durable: () => ({}) }], properties: [{ name: 'p', kind: 'always', holds: () => true }], defaults: {} };\n`);
  const badEarly = module('bad-early.mjs', `${machine}export default { name: 'x', description: 'd', defaultVariant: 'a', variants: [{ name: 'a', description: 'd', machine, durable: () => ({}), beforeFlush: { sends: 'ack' } }], properties: [{ name: 'p', kind: 'always', holds: () => true }], defaults: {} };\n`);
  const idle = module('idle.mjs', `${machine}export default { name: 'idle', description: 'd', defaultVariant: 'a', variants: [{ name: 'a', description: 'd', machine, durable: () => ({}) }], properties: [{ name: 'p', kind: 'always', holds: () => true }], defaults: {}, clients: () => [] };\n`);
  const notTs = module('broken.ts', 'export default { name: ;\n');
  const badConfig = module('coordkit.config.js', 'export default { protocol: "./x.js" };\n');
  symlinkSync(resolve('node_modules'), join(bad, 'node_modules'));

  it.each([
    [['check', '--protocol', noDefault], /is missing 'defaultVariant' \(the name of its verified variant: one of a\)/],
    [['list', '--protocol', noDefault], /is missing 'defaultVariant'/],
    [['cluster', '--protocol', noDefault], /is missing 'defaultVariant'/],
    [['check', '--protocol', badBreaks], /variant a breaks 'nope', which is not one of its properties/],
    [['check', '--protocol', badEarly], /variants\[0\] \(a\): 'beforeFlush' must be \{ sends\?: \[message types\], notes\?: \[note types\] \}/],
    [['cluster', '--protocol', idle], /idle ships no cluster script and enables no client request in its initial state: give --script FILE/],
    [['check', '--protocol', notTs], /cannot load --protocol .*broken\.ts: .*compile it with `npx tsc` and give the \.js file/],
    [['check', 'mutex', '--protocol', TPC_JS], /give a primitive name or --protocol FILE, not both \('mutex' and --protocol/],
    [['simulate', 'mutex', '--protocol', TPC_JS], /not both/],
    [['list', '--protocol', TPC_JS, '--config', badConfig], /give --protocol FILE or --config FILE, not both/],
    [['list', '--config', badConfig], /must default-export \{ protocols: \[/],
    [['list', 'mutex'], /unexpected argument 'mutex'/],
    [['all', '--config', join(bad, 'none.js')], /cannot load --config .*none\.js: no such file/],
  ])('%j: one-line error, exit 2', (args, message) => expectUsageError(run(args), message));
});

describe('check', () => {
  it('finds the bug of a TypeScript protocol on explore threads, which load it from source too', () => {
    const r = run(['check', '--protocol', PING, '--variant', 'wrong-sender', '--workers', '2', '--mode', 'explore', '--json']);
    expect(r.status, r.stderr).toBe(1);
    const v = JSON.parse(r.stdout).violations[0];
    expect(v.invariant).toBe('a ping is noted with its sender');
    expect(v.replay).toContain(`coordkit check --protocol ${PING} --variant wrong-sender`);
  });

  it('names a configured protocol in the working directory', () => {
    const r = run(['check', 'two-phase-commit', '--variant', 'commit-early', '--mode', 'explore', '--json'], dir);
    expect(r.status, r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).violations[0].replay).toMatch(/^coordkit check two-phase-commit --variant commit-early/);
  });
});

describe('simulate', () => {
  it('runs the scenario beside a protocol module', () => {
    const out = join(dir, 'sim-ping');
    const r = run(['simulate', '--protocol', PING, '--out', out, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).files.length).toBeGreaterThan(1);
    const sequence = readFileSync(join(out, 'sequence.mmd'), 'utf8');
    expect(sequence).toContain('title ping scenario seed (seed 1)');
    expect(sequence).toContain('Note over N2: t=5 ms client client.ping');
  });

  it('generates a scenario from the client requests of a protocol that has none', () => {
    const out = join(dir, 'sim-tpc');
    const r = run(['simulate', '--protocol', TPC_JS, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/two-phase-commit · scenario default · variant two-phase · 4 nodes/);
    expect(r.stdout).toContain(`replay: coordkit simulate --protocol ${TPC_JS} --seed 1`);
    expect(readFileSync(join(out, 'sequence.mmd'), 'utf8')).toMatch(/t=0 ms client client\.abort/);
  });
});

describe('all and report', () => {
  it('all checks every configured protocol, catches each buggy variant and reports them', () => {
    const r = run(['all', '--out', 'out-all'], dir, 120_000);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const results = JSON.parse(readFileSync(join(dir, 'out-all', 'results.json'), 'utf8'));
    expect(results.map((x: { primitive: string; variant: string }) => `${x.primitive} ${x.variant}`)).toEqual(['ping ping', 'ping wrong-sender', 'two-phase-commit two-phase', 'two-phase-commit commit-early']);
    const md = readFileSync(join(dir, 'out-all', 'index.md'), 'utf8');
    expect(md).toContain('### ping: seed');
    expect(md).toContain('### two-phase-commit: default');
    expect(md).toContain('replay: `coordkit check ping --variant wrong-sender');
  }, 240_000);

  it('report --protocol shows the protocol, its scenario, counterexample and machine', () => {
    const out = join(dir, 'out-report');
    const r = run(['report', '--protocol', PING, '--out', out, '--runs', '5'], undefined, 120_000);
    expect(r.status, r.stderr).toBe(0);
    const md = readFileSync(join(out, 'index.md'), 'utf8');
    expect(md).toContain('Primitives: ping.');
    expect(md).toContain(`replay: \`coordkit simulate --protocol ${PING} --scenario seed --seed 1\``);
    expect(md).toContain('### ping · wrong-sender: a ping is noted with its sender');
    expect(md).toContain('### ping (ping)');
  }, 240_000);
});

describe('schemas, nodes and clusters', () => {
  it('schemas --protocol --out writes the protocol schema from its own types and the envelope', () => {
    const out = join(dir, 'tpc-schemas');
    const r = run(['schemas', '--protocol', TPC_TS, '--out', out], undefined, 100_000);
    expect(r.status, r.stderr).toBe(0);
    const schema = JSON.parse(readFileSync(join(out, 'two-phase-commit.schema.json'), 'utf8'));
    expect(schema.$id).toBe('urn:coordkit:schema:two-phase-commit');
    expect(schema.definitions.Message).toEqual({ $ref: '#/definitions/TpcMessage' });
    expect(JSON.stringify(schema.definitions.TpcClient)).toContain('client.prepare');
    expect(existsSync(join(out, 'envelope.schema.json'))).toBe(true);
    const wire = JSON.parse(readFileSync(join(out, 'two-phase-commit.wire.schema.json'), 'utf8'));
    expect(wire.$id).toBe('urn:coordkit:schema:two-phase-commit.wire');
    expect(wire.definitions.PeerFrame.properties.msg.$ref).toBe('#/definitions/Message');
    expect(readFileSync(join(out, 'two-phase-commit.md'), 'utf8')).toMatch(/^# two-phase-commit: behaviour\n[\s\S]*```mermaid\nstateDiagram-v2[\s\S]*## States\n/);
  });

  it('a compiled module finds the declarations beside it when its types file is not there', () => {
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}\n');
    const tsc = spawnSync(process.execPath, [resolve('node_modules/typescript/bin/tsc'), '--declaration', '--strict', '--skipLibCheck', '--target', 'es2022', '--module', 'nodenext', '--outDir', join(dir, 'out'), PING], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    rmSync(join(dir, 'package.json'));
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);
    const fromJs = run(['schemas', '--protocol', join(dir, 'out', 'ping.js')], undefined, 100_000);
    expect(fromJs.status, fromJs.stderr).toBe(0);
    const fromTs = run(['schemas', '--protocol', PING, '--out', join(dir, 'from-ts')], undefined, 100_000);
    expect(fromTs.status, fromTs.stderr).toBe(0);
    const schema = (folder: string) => JSON.parse(readFileSync(join(folder, 'ping.schema.json'), 'utf8'));
    expect(schema(join(dir, 'out', 'schemas')).definitions).toEqual(schema(join(dir, 'from-ts')).definitions);
    expect(Object.keys(schema(join(dir, 'from-ts')).definitions)).toEqual(['Message', 'Client', 'Note', 'PingClient', 'PingMessage', 'PingNote']);
  }, 240_000);

  it('a missing schema is one line naming the command that writes it', () => {
    expectUsageError(run(['cluster', '--protocol', PING, '--out', join(dir, 'c0')]), new RegExp(`no schema ${join(dir, 'schemas')}/envelope.schema.json: generate it with \`coordkit schemas --protocol ${PING}\``));
  });

  it('a TypeScript protocol runs as TCP nodes with the schemas generated beside it, asked for its client requests', () => {
    const gen = run(['schemas', '--protocol', PING], undefined, 100_000);
    expect(gen.status, gen.stderr).toBe(0);
    expect(existsSync(join(dir, 'schemas', 'ping.schema.json'))).toBe(true);
    const r = run(['cluster', '--protocol', PING, '--nodes', '3', '--out', join(dir, 'c-ping'), '--json'], undefined, 90_000);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.steps.filter((s: string) => s.includes('client {"type":"client.ping"}'))).toHaveLength(3);
    expect(report.properties.violations).toEqual([]);
    expect(report.divergences).toEqual([]);
  }, 240_000);

  it('a buggy variant over TCP is caught on the real trace', () => {
    const r = run(['cluster', '--protocol', PING, '--variant', 'wrong-sender', '--nodes', '2', '--out', join(dir, 'c-bug'), '--json'], undefined, 90_000);
    expect(r.status, r.stdout + r.stderr).toBe(1);
    expect(JSON.parse(r.stdout).properties.violations[0].property).toBe('a ping is noted with its sender');
  });

  it('the compiled example runs as TCP nodes with --schemas', () => {
    const r = run(['cluster', '--protocol', TPC_JS, '--schemas', join(dir, 'tpc-schemas'), '--nodes', '3', '--out', join(dir, 'c-tpc'), '--json'], undefined, 90_000);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.steps.some((s: string) => s.includes('client.prepare'))).toBe(true);
    expect(report.records).toBeGreaterThan(5);
  });
});
