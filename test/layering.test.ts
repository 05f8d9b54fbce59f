/**
 * The layers the design relies on, checked on the sources: machines and invariants are pure
 * (no Node module, no clock, no randomness, no timers), the runtime interprets machines
 * without the simulator's or checkers' internals, and src/ names no primitive.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const path = join(dir, f);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

const imports = (file: string) => [...readFileSync(file, 'utf8').matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
/** Source without comments, so that prose may name what code may not use. */
const code = (file: string) => readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');

describe('layering', () => {
  const pure = [...sources('machines'), ...sources('invariants'), ...sources('examples/two-phase-commit')];

  it.each(pure.map((f) => [f]))('%s is pure: no Node module, clock, randomness or timer', (file) => {
    for (const spec of imports(file)) {
      expect(spec, `${file} imports ${spec}`).toMatch(/^(\.|xstate$)/);
      if (spec.startsWith('.')) expect(spec, `${file} imports ${spec}`).not.toMatch(/\/(runtime|sim|check|cli|report|trace)\//);
    }
    expect(code(file)).not.toMatch(/\b(Date|Math\.random|setTimeout|setInterval|performance|process)\b/);
  });

  it.each(sources('src/runtime').map((f) => [f]))('%s does not reach into the simulator or the checkers', (file) => {
    for (const spec of imports(file)) expect(spec, `${file} imports ${spec}`).not.toMatch(/\.\.\/(sim|check)\//);
  });

  it('machines/kit.ts loads each primitive of machines/index.ts under its name, in order', async () => {
    const { protocols } = await import('../machines/index.js');
    const { kitLoaders } = await import('../machines/kit.js');
    expect(Object.keys(kitLoaders)).toEqual(protocols.map((p) => p.name));
    for (const p of protocols) expect(await kitLoaders[p.name](), p.name).toBe(p);
  });

  it('src/ names no primitive: primitives register themselves in machines/index.ts', () => {
    for (const file of sources('src')) expect(code(file), file).not.toMatch(/\b(election|consensus|mutex|barrier)\b/i);
  });
});

/** Modules a file loads when it runs: static imports and re-exports, not `import type`, not dynamic `import()`. */
const runtimeImports = (file: string) =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s+(?!type\b)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm)].map((m) => m[1]);

/** Every module `roots` load, transitively: sources by path, packages by name. */
function loadedBy(roots: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const spec of runtimeImports(file)) {
      if (spec.startsWith('.')) visit(join(dirname(file), spec).replace(/\.js$/, '.ts'));
      else packages.add(spec);
    }
  };
  roots.forEach(visit);
  return { files, packages };
}

describe('build-time tools stay off the run-time path', () => {
  // What a node process loads: the command (every subcommand it imports statically) and the runtime.
  const roots = ['src/cli.ts', 'src/cli/node.ts', ...sources('src/runtime').filter((f) => !f.endsWith('schema-gen.ts'))];
  const { files, packages } = loadedBy(roots);

  it('no run-time module loads every primitive (a node loads the one it runs, when it is named)', () => {
    expect([...files].filter((f) => f.startsWith('machines/') && f !== 'machines/kit.ts')).toEqual([]);
  });

  it('no run-time module loads the schema generator or TypeScript', () => {
    expect(files.size).toBeGreaterThan(20);
    expect([...files].filter((f) => f.endsWith('schema-gen.ts'))).toEqual([]);
    for (const tool of ['typescript', 'typescript-json-schema', 'tsx', 'tsx/esm/api']) expect(packages.has(tool), tool).toBe(false);
  });

  it('the check is not vacuous: the generator itself loads both', () => {
    const generator = loadedBy(['src/cli/schemas.ts']);
    expect([...generator.files].some((f) => f.endsWith('schema-gen.ts'))).toBe(true);
    expect(generator.packages.has('typescript-json-schema')).toBe(true);
  });
});
