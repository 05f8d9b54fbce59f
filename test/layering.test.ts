/**
 * The layers the design relies on, checked on the sources: machines and invariants are pure
 * (no Node module, no clock, no randomness, no timers), the runtime interprets machines
 * without the simulator's or checkers' internals, and src/ names no primitive.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
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

  it('src/ names no primitive: primitives register themselves in machines/index.ts', () => {
    for (const file of sources('src')) expect(code(file), file).not.toMatch(/\b(election|consensus|mutex|barrier)\b/i);
  });
});
