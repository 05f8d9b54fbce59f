/**
 * What a node process really loads, dynamic imports and requires included (layering.test.ts
 * follows static imports in the sources): a started `coordkit node` has loaded neither
 * TypeScript nor the schema generator, nor another command. Every module resolved is recorded by
 * a loader hook and a wrapper of the CommonJS loader, and every file compiled as a vm.Script (the
 * bundle, see below) by a wrapper of vm.Script. Needs `npx tsc -p .` first.
 *
 * A node runs from one bundled file (bin/node-bundle.cjs builds it from dist/): the modules bundled
 * into it are listed beside it and held to the same rules. Within the bundle a module runs when the
 * same import would run it unbundled (a dynamic import stays a call), so which modules a node runs
 * is checked on the unbundled node (COORDKIT_NODE_BUNDLE=0), where the recorder sees each one.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const BIN = join(__dirname, '..', 'bin', 'coordkit.js');
const root = mkdtempSync(join(tmpdir(), 'coordkit-imports-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

writeFileSync(
  join(root, 'hooks.mjs'),
  `import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.LOADS_FILE, resolved.url + '\\n');
  return resolved;
}
`,
);
writeFileSync(
  join(root, 'record.mjs'),
  `import Module, { register } from 'node:module';
import { appendFileSync } from 'node:fs';
import vm from 'node:vm';
register('./hooks.mjs', import.meta.url);
// The node bundle is compiled as a vm.Script (with its code cache), not through require.
const Script = vm.Script;
vm.Script = class extends Script {
  constructor(code, options) {
    super(code, options);
    if (options?.filename) appendFileSync(process.env.LOADS_FILE, options.filename + '\\n');
  }
};
const load = Module._load;
Module._load = function (request, parent, isMain) {
  try {
    appendFileSync(process.env.LOADS_FILE, Module._resolveFilename(request, parent, isMain) + '\\n');
  } catch {}
  return load.apply(this, arguments);
};
`,
);

/** Build-time tools, the other commands' modules, and certificate making (a node reads its PEM files with node:tls alone). */
const FORBIDDEN = /node_modules\/(typescript|typescript-json-schema|tsx|mermaid|playwright-core|@xstate\/graph|@peculiar\/x509)\/|\/runtime\/schema-gen\.js|\/cli\/(check|report|explore|simulate|all|schemas|init|cluster|conform|certs)\.js/;

function loadsOf(name: string, args: string[], until: RegExp, env: Record<string, string> = {}): Promise<string[]> {
  const file = join(root, `${name}.loads`);
  writeFileSync(file, '');
  const child = spawn(process.execPath, ['--import', join(root, 'record.mjs'), BIN, ...args], { env: { ...process.env, ...env, LOADS_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return new Promise((resolve, reject) => {
    const kill = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name}: no ${until} within 30 s`));
    }, 30_000);
    let text = '';
    const seen = (d: Buffer) => {
      text += d;
      if (until.test(text)) {
        clearTimeout(kill);
        child.kill('SIGKILL');
        child.once('exit', () => resolve(readFileSync(file, 'utf8').split('\n').filter(Boolean)));
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
  });
}

const NODE_ARGS = ['node', '--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', '2=127.0.0.1:1', '--insecure'];
const ROOT = join(__dirname, '..');

describe('what a node process loads', () => {
  it('a started node has loaded no TypeScript, no schema generator and no other command', async () => {
    const loads = await loadsOf('node', [...NODE_ARGS, '--data', join(root, 'data')], /listening on/, { COORDKIT_NODE_BUNDLE: '0' });
    expect(loads.some((l) => l.endsWith('/runtime/node-host.js'))).toBe(true);
    expect(loads.some((l) => l.includes('node_modules/xstate/'))).toBe(true);
    expect(loads.filter((l) => FORBIDDEN.test(l))).toEqual([]);
    // The kit's validators come compiled beside the schemas: ajv is not even loaded.
    expect(loads.filter((l) => l.includes('node_modules/ajv/'))).toEqual([]);
    // Only the primitive it runs: building the others' machines is CPU a node does not need.
    expect(loads.some((l) => l.includes('/machines/election/'))).toBe(true);
    expect(loads.filter((l) => /\/machines\/(?!election\/)[^/]+\//.test(l))).toEqual([]);
  }, 40_000);

  it('a bundled node runs its one file, and that file holds no TypeScript, schema generator, other command or ajv', async () => {
    // Built (when dist/ is newer) before the run: building loads esbuild, which a start of a built bundle does not.
    const { currentBundle, INPUTS } = createRequire(__filename)('../bin/node-bundle.cjs') as { currentBundle: () => string; INPUTS: string };
    const bundle = currentBundle();
    const loads = (await loadsOf('bundled', [...NODE_ARGS, '--data', join(root, 'bundled')], /listening on/)).map((l) => l.replace(/^file:\/\//, ''));
    expect(loads).toContain(bundle);
    // Nothing but the launcher, the bundle and Node's own modules: no file of dist/ or node_modules/ beside it.
    expect(loads.filter((l) => !isBuiltin(l) && !l.startsWith(join(ROOT, 'bin') + '/') && l !== bundle)).toEqual([]);
    const inputs = JSON.parse(readFileSync(INPUTS, 'utf8')) as string[];
    const paths = inputs.map((f) => '/' + f);
    expect(paths.some((l) => l.endsWith('/runtime/node-host.js'))).toBe(true);
    expect(paths.some((l) => l.includes('node_modules/xstate/'))).toBe(true);
    expect(paths.filter((l) => FORBIDDEN.test(l) || l.includes('node_modules/ajv/') || /\/src\/cli\.js$/.test(l))).toEqual([]);
  }, 40_000);

  it('the recorder sees what the schema command loads (the check above is not vacuous)', async () => {
    const loads = await loadsOf('schemas', ['schemas', '--help'], /usage/);
    expect(loads.some((l) => /node_modules\/typescript-json-schema\//.test(l))).toBe(true);
    expect(loads.some((l) => /node_modules\/typescript\//.test(l))).toBe(true);
  }, 40_000);

  it('the recorder sees every primitive a command that covers them all loads', async () => {
    const loads = await loadsOf('list', ['list'], /barrier/);
    for (const name of ['election', 'consensus', 'mutex', 'barrier']) expect(loads.some((l) => l.includes(`/machines/${name}/`)), name).toBe(true);
  }, 40_000);
});
