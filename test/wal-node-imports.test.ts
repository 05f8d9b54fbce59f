/**
 * What a node process really loads, dynamic imports and requires included (layering.test.ts
 * follows static imports in the sources): a started `coordkit node` has loaded neither
 * TypeScript nor the schema generator, nor another command. Every module resolved is recorded by
 * a loader hook and a wrapper of the CommonJS loader. Needs `npx tsc -p .` first.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
register('./hooks.mjs', import.meta.url);
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

function loadsOf(name: string, args: string[], until: RegExp): Promise<string[]> {
  const file = join(root, `${name}.loads`);
  writeFileSync(file, '');
  const child = spawn(process.execPath, ['--import', join(root, 'record.mjs'), BIN, ...args], { env: { ...process.env, LOADS_FILE: file }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
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

describe('what a node process loads', () => {
  it('a started node has loaded no TypeScript, no schema generator and no other command', async () => {
    const loads = await loadsOf('node', ['node', '--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', '2=127.0.0.1:1', '--data', join(root, 'data'), '--insecure'], /listening on/);
    expect(loads.some((l) => l.endsWith('/runtime/node-host.js'))).toBe(true);
    expect(loads.some((l) => l.includes('node_modules/xstate/'))).toBe(true);
    expect(loads.filter((l) => FORBIDDEN.test(l))).toEqual([]);
    // The kit's validators come compiled beside the schemas: ajv is not even loaded.
    expect(loads.filter((l) => l.includes('node_modules/ajv/'))).toEqual([]);
    // Only the primitive it runs: building the others' machines is CPU a node does not need.
    expect(loads.some((l) => l.includes('/machines/election/'))).toBe(true);
    expect(loads.filter((l) => /\/machines\/(?!election\/)[^/]+\//.test(l))).toEqual([]);
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
