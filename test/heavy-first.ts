/**
 * The order test files start in: the longest first, so that on two workers the last file to
 * start is a short one and neither worker idles while the other finishes a long file. Vitest
 * orders by the durations of earlier runs when it has them (not on a fresh clone, as in CI, where
 * it starts the largest files first); the files named here are the longest and go first either way.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first, as one full run on two workers measured them. */
export const HEAVY_FIRST = ['test/package-contract.test.ts', 'test/user-protocols.test.ts', 'test/explorer-browser.test.ts', 'test/node-counts.test.ts', 'test/election.test.ts', 'test/report-html.test.ts', 'test/mutate.test.ts', 'test/shard-merge.test.ts'];

export default class HeavyFirst extends BaseSequencer {
  async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = HEAVY_FIRST.findIndex((name) => f.moduleId.endsWith(name));
      return i < 0 ? HEAVY_FIRST.length : i;
    };
    const sorted = await super.sort(files);
    return sorted.map((f, i) => ({ f, i })).sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f);
  }
}
