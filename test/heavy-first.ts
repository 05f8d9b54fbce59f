/**
 * The order test files start in: the longest first, so that on two workers the last file to
 * start is a short one and neither worker idles while the other finishes a long file. Vitest
 * orders by the durations of earlier runs when it has them (not on a fresh clone, as in CI);
 * the files named here are the longest on a fresh clone and go first either way.
 */
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/** Longest first (durations of one full run on two workers, README "Tests"). */
export const HEAVY_FIRST = ['test/package-contract.test.ts', 'test/shard-merge.test.ts', 'test/mutate.test.ts', 'test/user-protocols.test.ts', 'test/explorer-browser.test.ts'];

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
