/**
 * `coordkit report [--out DIR] [--rerun] [--runs R] [--max-states M] [--protocol FILE]... [--config FILE]`:
 * renders DIR/index.md and DIR/index.html from the last check results (DIR/results.json, as
 * `coordkit all` leaves them); with `--rerun` (or `--runs`, `--max-states`), or when there are none, first checks every
 * protocol (the kit's primitives, the `--protocol` files, or the protocols of
 * `coordkit.config.js`): its verified variant by exploration and walks, each buggy variant by
 * exploration at the configuration that reveals it, and saves the results there.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { reportJson } from '../check/summary.js';
import { loadSavedReports, StaleResults } from '../report/saved-results.js';
import { checkEveryVariant } from '../check/check-every-variant.js';
import { writeReport } from '../report/write-report.js';
import { DEFAULT_MAX_STATES } from './check.js';
import { parse } from './parse.js';
import { resolveProtocols, withRef } from './protocol-source.js';
import { intArg, UsageError } from './usage-error.js';

const USAGE = 'coordkit report [--out DIR] [--rerun] [--runs R] [--max-states M] [--seed S] [--protocol FILE]... [--config FILE]';

export async function reportCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      out: { type: 'string', help: 'DIR  where index.md and index.html go (default: report)' },
      rerun: { type: 'boolean', help: 'check again instead of rendering the last results.json' },
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
  const outDir = values.out ?? 'report';
  const resultsFile = join(outDir, 'results.json');
  let saved;
  // Asking for other check bounds is asking to check again.
  if (!(values.rerun || values.runs !== undefined || values['max-states'] !== undefined)) {
    try {
      saved = loadSavedReports(resultsFile, sources.map((s) => s.protocol));
    } catch (err) {
      if (err instanceof StaleResults) throw new UsageError(`${err.message}: check again with \`coordkit report --rerun\``);
      throw err;
    }
  }
  let reports;
  let failures: string[] = [];
  if (saved) {
    reports = saved;
    process.stderr.write(`rendering the check results in ${resultsFile} (--rerun checks again)\n`);
  } else {
    ({ reports, failures } = checkEveryVariant(sources.map((s) => s.protocol), {
      runs,
      maxStates,
      seed,
      onStart: (p, v) => process.stderr.write(`checking ${p} ${v}...\n`),
    }));
    for (const r of reports) withRef(sources.find((s) => s.protocol === r.model.protocol)!, r.violations);
    if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
    writeFileSync(resultsFile, JSON.stringify(reports.map(reportJson), null, 2) + '\n');
  }
  const { files, diagrams } = writeReport(outDir, reports, { protocols: sources, seed, notRun: failures });
  for (const f of failures) process.stderr.write(`coordkit: check could not run: ${f}\n`);
  process.stdout.write(`wrote ${files.join(', ')} (${diagrams} diagrams)\n`);
  return failures.length ? 1 : 0;
}
