/**
 * `coordkit all` (`npm start`): checks every registered primitive at its default configuration,
 * and every other variant at the configuration that reveals it (buggy ones must be caught with
 * the invariant they name), prints a summary table and writes the results and the report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkEveryVariant } from '../check/check-every-variant.js';
import { formatTable, reportJson, summaryRow } from '../check/summary.js';
import { writeReport } from '../report/write-report.js';
import { parse } from './parse.js';
import { registered } from './registry.js';
import { UsageError } from './usage-error.js';

export async function allCommand(args: string[]): Promise<number> {
  const usage = 'coordkit all [--out DIR]';
  const { values, positionals } = parse(args, { out: { type: 'string', help: 'DIR  where results.json, summary.md and the report go (default: report)' } }, usage);
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}': all checks every registered primitive (usage: ${usage})`);
  const outDir = values.out ?? 'report';
  const { reports, failures } = checkEveryVariant(registered(), {
    progress: true,
    onStart: (p, v) => process.stderr.write(`checking ${p} ${v}...\n`),
  });
  const rows = reports.map(summaryRow);
  const table = formatTable(rows);
  process.stdout.write(table + '\n');
  for (const f of failures) process.stderr.write(`coordkit: check could not run: ${f}\n`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(reports.map(reportJson), null, 2) + '\n');
  writeFileSync(join(outDir, 'summary.md'), '# coordkit check results\n\n```\n' + table + '\n```\n');
  const { files, diagrams } = writeReport(outDir, reports, { notRun: failures });
  process.stdout.write(`results written to ${outDir}/: results.json, summary.md, ${files.map((f) => basename(f)).join(', ')} (${diagrams} diagrams)\n`);
  return failures.length === 0 && rows.every((r) => r.verdict === 'ok') ? 0 : 1;
}
