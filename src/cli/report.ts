/**
 * `coordkit report [--out DIR] [--runs R] [--max-states M]`: checks every primitive (its verified
 * variant by exploration and walks, each buggy variant by exploration at the configuration that
 * reveals it) and writes DIR/index.md and DIR/index.html.
 */
import { createModel } from '../check/model.js';
import { runChecks, type CheckReport } from '../check/run-checks.js';
import { writeReport } from '../report/write-report.js';
import { parse } from './parse.js';
import { registered } from './registry.js';
import { intArg, UsageError } from './usage-error.js';

const USAGE = 'coordkit report [--out DIR] [--runs R] [--max-states M] [--seed S]';

export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, { out: { type: 'string' }, runs: { type: 'string' }, 'max-states': { type: 'string' }, seed: { type: 'string' } }, USAGE);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
  const runs = intArg('runs', values.runs, 1, 1_000_000) ?? 100;
  const maxStates = intArg('max-states', values['max-states'], 1, 100_000_000) ?? 200_000;
  const seed = intArg('seed', values.seed, 0, 2 ** 31 - 1) ?? 1;
  const reports: CheckReport[] = [];
  const failures: string[] = [];
  for (const protocol of registered()) {
    for (const variant of protocol.variants) {
      const isDefault = variant.name === protocol.defaultVariant;
      if (!isDefault && !variant.breaks) continue;
      process.stderr.write(`checking ${protocol.name} ${variant.name}...\n`);
      try {
        reports.push(runChecks(createModel(protocol, { variant: variant.name }), { mode: isDefault ? 'both' : 'explore', runs, maxStates, seed }));
      } catch (err) {
        failures.push(`${protocol.name} ${variant.name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
  const { files, diagrams } = writeReport(values.out ?? 'report', reports, { seed, notRun: failures });
  for (const f of failures) process.stderr.write(`coordkit: check could not run: ${f}\n`);
  process.stdout.write(`wrote ${files.join(', ')} (${diagrams} diagrams)\n`);
  return failures.length ? 1 : 0;
}
