/**
 * `coordkit report [--out DIR] [--runs R] [--max-states M] [--protocol FILE]... [--config FILE]`:
 * checks every protocol (the kit's primitives, the `--protocol` files, or the protocols of
 * `coordkit.config.js`): its verified variant by exploration and walks, each buggy variant by
 * exploration at the configuration that reveals it; writes DIR/index.md and DIR/index.html.
 */
import { checkEveryVariant } from '../check/check-every-variant.js';
import { writeReport } from '../report/write-report.js';
import { DEFAULT_MAX_STATES } from './check.js';
import { parse } from './parse.js';
import { resolveProtocols, withRef } from './protocol-source.js';
import { intArg, UsageError } from './usage-error.js';

const USAGE = 'coordkit report [--out DIR] [--runs R] [--max-states M] [--seed S] [--protocol FILE]... [--config FILE]';

export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      out: { type: 'string', help: 'DIR  where index.md and index.html go (default: report)' },
      runs: { type: 'string', help: 'R  random runs per verified variant (default 100)' },
      'max-states': { type: 'string', help: 'S  distinct worlds explored per model at most (default 500,000, as check)' },
      seed: { type: 'string', help: 'S  seed of the walks (default 1)' },
      protocol: { type: 'string', multiple: true, help: 'FILE  a protocol module of your own (repeatable)' },
      config: { type: 'string', help: 'FILE  a coordkit.config.js naming your protocols' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
  const sources = await resolveProtocols({ protocol: values.protocol, config: values.config });
  const runs = intArg('runs', values.runs, 1, 1_000_000) ?? 100;
  const maxStates = intArg('max-states', values['max-states'], 1, 100_000_000) ?? DEFAULT_MAX_STATES;
  const seed = intArg('seed', values.seed, 0, 2 ** 31 - 1) ?? 1;
  const { reports, failures } = checkEveryVariant(sources.map((s) => s.protocol), {
    runs,
    maxStates,
    seed,
    onStart: (p, v) => process.stderr.write(`checking ${p} ${v}...\n`),
  });
  for (const r of reports) withRef(sources.find((s) => s.protocol === r.model.protocol)!, r.violations);
  const { files, diagrams } = writeReport(values.out ?? 'report', reports, { protocols: sources, seed, notRun: failures });
  for (const f of failures) process.stderr.write(`coordkit: check could not run: ${f}\n`);
  process.stdout.write(`wrote ${files.join(', ')} (${diagrams} diagrams)\n`);
  return failures.length ? 1 : 0;
}
