/**
 * Golden files: each shipped scenario's trace, as prose, and its Mermaid diagrams. A change to
 * the machines, the timed simulation or the renderers shows up here as a readable diff.
 * Regenerate with `UPDATE_GOLDEN=1 npx vitest run test/trace-golden.test.ts`, and commit the
 * diff only if you understand it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { runShippedScenarios } from '../src/report/write-report.js';
import { builtIns } from '../src/cli/protocol-source.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const update = process.env.UPDATE_GOLDEN === '1';

function golden(file: string, actual: string): void {
  const path = join(GOLDEN, file);
  if (update) writeFileSync(path, actual);
  expect(existsSync(path), `${file} is missing: run UPDATE_GOLDEN=1 npx vitest run test/trace-golden.test.ts`).toBe(true);
  expect(actual, `${file} differs (UPDATE_GOLDEN=1 regenerates it)`).toBe(readFileSync(path, 'utf8'));
}

const kit = await builtIns();

describe('scenario golden files', () => {
  const runs = runShippedScenarios(kit);

  it('ships a scenario for every registered primitive', () => {
    expect(new Set(runs.map((r) => r.scenario.primitive))).toEqual(new Set(protocols.map((p) => p.name)));
  });

  for (const r of runs) {
    const stem = `scenario-${r.scenario.primitive}-${r.scenario.name}`;
    it(`${stem}: trace`, () => golden(`${stem}.trace.txt`, r.traceLines.join('\n') + '\n'));
    for (const d of r.diagrams) it(`${stem}: ${d.name} diagram`, () => golden(`${stem}.${d.name}.mmd`, d.mermaid + '\n'));
  }
});
