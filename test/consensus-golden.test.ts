/**
 * The seed's consensus flow as drawn, judged by the explorer: its shortest counterexample to
 * `agreement` is kept as golden files (prose trace and Mermaid sequence diagram), read in review
 * like etcd's interaction tests. Regenerate with `UPDATE_GOLDEN=1 npx vitest run test/consensus-golden.test.ts`
 * and commit the diff only if you understand it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { consensus } from '../machines/consensus/index.js';
import { describeRun } from '../src/check/describe-run.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { sequenceDiagram } from '../src/trace/sequence-diagram.js';

const golden = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

function matchesGolden(name: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden(name), actual);
  expect(actual).toBe(readFileSync(golden(name), 'utf8'));
}

describe('consensus: the seed\'s flow as drawn', () => {
  const model = createModel(consensus, { variant: 'as-drawn', nodes: 3 });
  const result = explore(model);
  const violation = result.violations.find((v) => v.invariant === 'agreement');

  it('violates agreement with two proposers and no fault at all', () => {
    expect(violation).toBeDefined();
    expect(model.config.faults).toEqual([]);
    expect(model.config.params.proposers).toEqual([1, 2]);
  });

  it('reproduces the golden counterexample trace exactly', () => {
    matchesGolden('consensus-as-drawn.trace.txt', describeRun(violation!.steps, 3).join('\n') + '\n');
  });

  it('reproduces the golden Mermaid sequence diagram exactly', () => {
    matchesGolden('consensus-as-drawn.mmd', sequenceDiagram(violation!.steps, 3, 'consensus as-drawn: agreement') + '\n');
  });

  it('the counterexample is the explorer\'s replayable path', () => {
    // Exploration is deterministic: the command alone reproduces it, and its path replays it.
    expect(violation!.replay).toBe('coordkit check consensus --variant as-drawn --nodes 3 --network unordered --faults none --mode explore');
    // Both nodes applied on commit before their value was chosen, and they differ.
    const applied = violation!.steps.flatMap((s) => s.notes.filter((n: any) => n.type === 'applied').map((n: any) => `${s.node}:${n.value}`));
    expect(applied).toEqual(['1:scale_up', '2:scale_down']);
  });
});
