/**
 * `coordkit all` (`npm start`): checks every protocol (the kit's primitives, the `--protocol`
 * files, or the protocols of `coordkit.config.js`) at its default configuration,
 * and every other variant at the configuration that reveals it (buggy ones must be caught with
 * the invariant they name), prints a summary table and writes the results and the report.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { checkEveryVariant } from '../check/check-every-variant.js';
import { formatTable, reportJson, summaryRow } from '../check/summary.js';
import { writeReport } from '../report/write-report.js';
import { parse } from './parse.js';
import { resolveProtocols, withRef } from './protocol-source.js';
import { UsageError } from './usage-error.js';

const USAGE = 'coordkit all [--out DIR] [--protocol FILE]... [--config FILE]';

export async function allCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      out: { type: 'string', help: 'DIR  where results.json, summary.md and the report go (default: report)' },
      protocol: { type: 'string', multiple: true, help: 'FILE  a protocol module of your own (repeatable; default: the built-ins, or the config\'s)' },
      config: { type: 'string', help: 'FILE  a coordkit.config.js naming your protocols (default: ./coordkit.config.js if present)' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}': all checks every protocol it is given (usage: ${USAGE})`);
  const sources = await resolveProtocols({ protocol: values.protocol, config: values.config });
  const outDir = values.out ?? 'report';
  const { reports, failures } = checkEveryVariant(sources.map((s) => s.protocol), {
    progress: true,
    onStart: (p, v) => process.stderr.write(`checking ${p} ${v}...\n`),
  });
  for (const r of reports) withRef(sources.find((s) => s.protocol === r.model.protocol)!, r.violations);
  const rows = reports.map(summaryRow);
  const table = formatTable(rows);
  process.stdout.write(table + '\n');
  for (const f of failures) process.stderr.write(`coordkit: check could not run: ${f}\n`);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(reports.map(reportJson), null, 2) + '\n');
  writeFileSync(join(outDir, 'summary.md'), '# coordkit check results\n\n```\n' + table + '\n```\n');
  const { files, diagrams } = writeReport(outDir, reports, { protocols: sources, notRun: failures });
  process.stdout.write(`results written to ${outDir}/: results.json, summary.md, ${files.map((f) => basename(f)).join(', ')} (${diagrams} diagrams)\n`);
  return failures.length === 0 && rows.every((r) => r.verdict === 'ok') ? 0 : 1;
}
