import { describe, expect, it } from 'vitest';
import twoPhaseCommit from '../examples/two-phase-commit/index.js';
import { protocolCases } from '../src/check/protocol-cases.js';

const FILE = 'dist/examples/two-phase-commit/index.js';
const run = (c: { run(): void }) => {
  try {
    c.run();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
};

describe('protocolCases (what coordkit/vitest runs)', () => {
  it('names one case per property by explore and by walk, and one per buggy variant; all hold for a correct protocol', () => {
    const cases = protocolCases(twoPhaseCommit, { protocolFile: FILE, runs: 200, seed: 1 });
    expect(cases.map((c) => c.name)).toEqual([
      'two-phase: always no resource manager commits while another aborts (explore)',
      'two-phase: always no resource manager commits while another aborts (walk)',
      'two-phase: sometimes a transaction commits (explore)',
      'two-phase: sometimes a transaction commits (walk)',
      'two-phase: sometimes a transaction aborts (explore)',
      'two-phase: sometimes a transaction aborts (walk)',
      'commit-early: breaks no resource manager commits while another aborts (explore)',
    ]);
    for (const c of cases) expect(run(c), c.name).toBeUndefined();
  });

  it('fails a verified variant that is wrong, with the run and a replay command for the protocol file', () => {
    const wrong = { ...twoPhaseCommit, defaultVariant: 'commit-early' };
    const [explored, walked] = protocolCases(wrong, { protocolFile: FILE, runs: 500, seed: 7 }).map(run);
    expect(explored).toMatch(/^'no resource manager commits while another aborts' violated \(explore, variant commit-early, 4 nodes\):\n\s+1\. /);
    expect(explored).toContain(`replay: coordkit check --protocol ${FILE} --variant commit-early --nodes 4`);
    expect(walked).toContain(`replay: coordkit check --protocol ${FILE} --variant commit-early --nodes 4`);
    expect(walked).toMatch(/--mode walk --seed=7 --path \S+/);
  });

  it('fails a buggy variant whose declared violation is not the one found, or is never found', () => {
    const mislabelled = { ...twoPhaseCommit, variants: twoPhaseCommit.variants.map((v) => (v.breaks ? { ...v, breaks: 'a transaction aborts' } : v)) };
    const buggy = protocolCases(mislabelled, { runs: 50 }).at(-1)!;
    expect(run(buggy)).toMatch(/^expected 'a transaction aborts' to be violated, found another violation first:\n'no resource manager commits while another aborts' violated/);
    const harmless = { ...twoPhaseCommit, variants: twoPhaseCommit.variants.map((v) => (v.breaks ? { ...v, machine: twoPhaseCommit.variants[0].machine } : v)) };
    expect(run(protocolCases(harmless, { runs: 50 }).at(-1)!)).toMatch(/^expected 'no resource manager commits while another aborts' to be violated, but every one of the [\d,]+ reachable states satisfies it$/);
  });

  it('establishes nothing from an exploration cut short', () => {
    const [explored] = protocolCases(twoPhaseCommit, { maxStates: 10, runs: 50 }).map(run);
    expect(explored).toBe("'no resource manager commits while another aborts' not established: the exploration was cut short at 10 states (maxStates 10): raise maxStates or lower the bounds");
  });
});
