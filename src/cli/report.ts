/**
 * `coordkit report [--out DIR] [--runs R] [--max-states M]`: checks every primitive (its verified
 * variant by exploration and walks, each buggy variant by exploration at the configuration that
 * reveals it) and writes DIR/index.md and DIR/index.html.
 */
import { checkEveryVariant } from '../check/check-every-variant.js';
import { writeReport } from '../report/write-report.js';
import { parse } from './parse.js';
import { registered } from './registry.js';
import { intArg, UsageError } from './usage-error.js';

const USAGE = 'coordkit report [--out DIR] [--runs R] [--max-states M] [--seed S]';

export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
      out: { type: 'string', help: 'DIR  where index.md and index.html go (default: report)' },
      runs: { type: 'string', help: 'R  random runs per verified variant (default 100)' },
      'max-states': { type: 'string', help: 'S  distinct worlds explored per model at most (default 200,000)' },
      seed: { type: 'string', help: 'S  seed of the walks (default 1)' },
    }, USAGE);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
  const runs = intArg('runs', values.runs, 1, 1_000_000) ?? 100;
  const maxStates = intArg('max-states', values['max-states'], 1, 100_000_000) ?? 200_000;
  const seed = intArg('seed', values.seed, 0, 2 ** 31 - 1) ?? 1;
  const { reports, failures } = checkEveryVariant(registered(), {
    runs,
    maxStates,
    seed,
    onStart: (p, v) => process.stderr.write(`checking ${p} ${v}...\n`),
  });
  const { files, diagrams } = writeReport(values.out ?? 'report', reports, { seed, notRun: failures });
  for (const f of failures) process.stderr.write(`coordkit: check could not run: ${f}\n`);
  process.stdout.write(`wrote ${files.join(', ')} (${diagrams} diagrams)\n`);
  return failures.length ? 1 : 0;
}
