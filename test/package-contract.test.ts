/**
 * The package as a user gets it: `npm pack`, installed into a copy of fixtures/user-project/ (a
 * token ring, a protocol of its own) outside the repository, compiled by its own strict tsconfig
 * against the installed declarations, its vitest suite run, and the installed `coordkit` command
 * run on it. Then the README's walk-through: `coordkit init`, install, the generated tests.
 * Installs come from the npm cache (`npm ci` filled it) and fall back to the registry only for
 * what the cache lacks.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'coordkit-contract-'));
const fixture = join(work, 'user-project');
let tarball = '';

/** The environment of a user's shell: nothing of this test run's npm script or vitest worker. */
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|VITEST|NODE_OPTIONS$|NODE_ENV$)/i.test(k)));
env.NO_COLOR = '1';

interface Ran {
  status: number | null;
  out: string;
}

function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): Ran {
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? `\n${r.error.message}` : ''}`;
  return { status: r.status, out };
}

/** `npm install` of the packed kit (and the project's other dependencies), offline when the cache has everything. */
function installKit(dir: string): Ran {
  const args = ['install', '--no-audit', '--no-fund', tarball];
  const offline = run('npm', ['--offline', ...args], dir, 300_000);
  return offline.status === 0 || !/ENOTCACHED/.test(offline.out) ? offline : run('npm', ['--prefer-offline', ...args], dir, 600_000);
}

/** The installed `coordkit` command of the project in `from`, run in `cwd`. */
const coordkit = (cwd: string, args: string[], timeoutMs?: number, from = cwd) => run(process.execPath, [join(from, 'node_modules', 'coordkit', 'bin', 'coordkit.js'), ...args], cwd, timeoutMs);

beforeAll(() => {
  const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT, 120_000);
  expect(packed.status, packed.out).toBe(0);
  const [info] = JSON.parse(packed.out.slice(packed.out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, info.filename);
  cpSync(join(ROOT, 'fixtures', 'user-project'), fixture, { recursive: true });
  const installed = installKit(fixture);
  expect(installed.status, installed.out).toBe(0);
}, 900_000);

// Two installed projects: removing them takes long on a busy disk.
afterAll(() => rmSync(work, { recursive: true, force: true }), 300_000);

describe('the packed package', () => {
  it('ships the built entry points, their declarations and sources, and nothing of test/', () => {
    const pkg = join(fixture, 'node_modules', 'coordkit');
    const manifest = JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      for (const file of typeof target === 'string' ? [target] : Object.values(target)) expect(existsSync(join(pkg, file)), `${subpath} -> ${file}`).toBe(true);
    }
    expect(existsSync(join(pkg, 'dist', 'src', 'index.d.ts.map'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'src', 'index.js.map'))).toBe(true);
    expect(existsSync(join(pkg, 'src', 'index.ts')), 'the sources the maps point to').toBe(true);
    expect(existsSync(join(pkg, 'templates', 'init', 'src', 'protocol.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'test'))).toBe(false);
    expect(existsSync(join(pkg, 'dist', 'test'))).toBe(false);
    expect(existsSync(join(pkg, 'fixtures'))).toBe(false);
    // V8's code cache of the node bundle is made by a start on the machine that runs it, never shipped.
    expect(existsSync(join(pkg, 'dist', 'src', 'cli', 'node-bundle.v8cache'))).toBe(false);
  });
});

describe('a user project built against the packed package (fixtures/user-project)', () => {
  it('compiles under its own strict tsconfig, importing coordkit, coordkit/trace and coordkit/vitest', () => {
    const tsc = run(process.execPath, [join(fixture, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], fixture);
    expect(tsc.status, tsc.out).toBe(0);
    expect(existsSync(join(fixture, 'dist', 'protocol.js'))).toBe(true);
  });

  it('passes its own vitest suite: every property at 3 and 5 nodes by explore and walk, the buggy variant caught', () => {
    const vitest = run(process.execPath, [join(fixture, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--dir', 'src'], fixture, 300_000);
    expect(vitest.status, vitest.out).toBe(0);
    expect(vitest.out).toMatch(/Tests\s+12 passed \(12\)/);
  }, 330_000);

  it('coordkit check --protocol: the verified variant passes, the buggy one is caught (exit 1)', () => {
    const ok = coordkit(fixture, ['check', '--protocol', 'dist/protocol.js']);
    expect(ok.status, ok.out).toBe(0);
    const bad = coordkit(fixture, ['check', '--protocol', 'dist/protocol.js', '--variant', 'keep-token']);
    expect(bad.status, bad.out).toBe(1);
    expect(bad.out).toContain('at most one node holds the token');
  }, 300_000);

  it('coordkit all --config: checks every variant of the protocols the config names', () => {
    const all = coordkit(fixture, ['all', '--config', 'coordkit.config.js', '--out', 'all-report'], 300_000);
    expect(all.status, all.out).toBe(0);
    expect(all.out).toMatch(/token-ring\s+single-token/);
    expect(all.out).toMatch(/token-ring\s+keep-token/);
  }, 330_000);

  it('coordkit schemas --protocol --out, then the protocol over TCP with those schemas (coordkit cluster)', () => {
    const schemas = coordkit(fixture, ['schemas', '--protocol', 'dist/protocol.js', '--out', 'schemas']);
    expect(schemas.status, schemas.out).toBe(0);
    expect(readdirSync(join(fixture, 'schemas'))).toEqual(expect.arrayContaining(['token-ring.schema.json', 'envelope.schema.json']));
    const cluster = coordkit(fixture, ['cluster', '--protocol', 'dist/protocol.js', '--script', 'cluster.json', '--schemas', 'schemas', '--out', 'run', '--json'], 180_000);
    expect(cluster.status, cluster.out).toBe(0);
    const report = JSON.parse(cluster.out.slice(cluster.out.indexOf('{'))) as { ok: boolean; properties: { checked: string[] } };
    expect(report.ok).toBe(true);
    expect(report.properties.checked).toContain('at most one node holds the token');
    // Not vacuous: the token really went round the ring of real processes.
    const trace = readFileSync(join(fixture, 'run', 'trace.ndjson'), 'utf8');
    expect(trace.match(/"type":"token"/g)?.length ?? 0).toBeGreaterThanOrEqual(3);
  }, 330_000);

  it('coordkit simulate --protocol with its own scenario, and coordkit report with its config', () => {
    const sim = coordkit(fixture, ['simulate', '--protocol', 'dist/protocol.js', '--scenario', 'scenario.json', '--out', 'sim']);
    expect(sim.status, sim.out).toBe(0);
    const drawn = readdirSync(join(fixture, 'sim')).map((f) => readFileSync(join(fixture, 'sim', f), 'utf8')).join('\n');
    expect(drawn).toContain('sequenceDiagram');
    const report = coordkit(fixture, ['report', '--config', 'coordkit.config.js', '--out', 'report'], 300_000);
    expect(report.status, report.out).toBe(0);
    expect(readFileSync(join(fixture, 'report', 'index.md'), 'utf8')).toContain('token-ring');
  }, 450_000);
});

/** The shell block of the README's "Your own primitive, in your own CI" section, one command a line. */
function walkThrough(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Your own primitive, in your own CI'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1];
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

describe("the README's walk-through: coordkit init, npm install, npm test", () => {
  it('runs as written, against the packed package', () => {
    const lines = walkThrough();
    expect(lines[0]).toMatch(/^npx coordkit init \S+$/);
    const name = lines[0].split(' ').at(-1)!;
    let cwd = join(work, 'walk-through');
    mkdirSync(cwd);
    for (const line of lines) {
      const [command, ...args] = line.split(/\s+/);
      let r: Ran;
      if (command === 'cd') {
        cwd = join(cwd, args[0]);
        continue;
      } else if (line === 'npm install') r = installKit(cwd);
      else if (command === 'npx' && args[0] === 'coordkit') r = coordkit(cwd, args.slice(1), 300_000, existsSync(join(cwd, 'node_modules', 'coordkit')) ? cwd : fixture);
      else r = run(command, args, cwd, 300_000);
      expect(r.status, `${line}\n${r.out}`).toBe(0);
      if (line === 'npm test') expect(r.out).toMatch(/Tests\s+10 passed \(10\)/);
      // `all` in the project covers the protocol its coordkit.config.js names.
      if (line === 'npx coordkit all') expect(r.out).toMatch(new RegExp(`${name}\\s+first-ack`));
    }
  }, 1_500_000);
});
