/**
 * `coordkit all` (`npm start`): checks every registered primitive at its default configuration,
 * and every buggy variant at the configuration that reveals it (the checker must find the named
 * violation), prints a summary table and writes the results under report/.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { createModel } from '../check/model.js';
import { runChecks, type CheckReport } from '../check/run-checks.js';
import { parse } from './parse.js';
import { registered } from './registry.js';
import { toJson } from './check.js';
import { writeReport } from '../report/write-report.js';

export interface SummaryRow {
  primitive: string;
  variant: string;
  mode: string;
  states: number;
  timeMs: number;
  /** What the checks found: `pass`, or the violated properties. */
  found: string;
  /** `ok` when the result is the expected one (correct variants pass, buggy ones are caught). */
  verdict: 'ok' | 'UNEXPECTED';
}

export function summaryRow(report: CheckReport): SummaryRow {
  const broken = [...new Set(report.violations.map((v) => v.invariant))];
  const expected = report.model.variant.breaks;
  const ok = expected ? broken.includes(expected) : broken.length === 0;
  return {
    primitive: report.model.protocol.name,
    variant: report.model.config.variant,
    mode: report.mode,
    states: report.explore?.states ?? 0,
    timeMs: Math.round(report.elapsedMs),
    found: broken.length ? `violates ${broken.join(', ')}` : 'pass',
    verdict: ok ? 'ok' : 'UNEXPECTED',
  };
}

export function formatTable(rows: SummaryRow[]): string {
  const header = ['primitive', 'variant', 'mode', 'states', 'time', 'result', 'verdict'];
  const cells = rows.map((r) => [r.primitive, r.variant, r.mode, r.states.toLocaleString('en-US'), `${r.timeMs} ms`, r.found, r.verdict]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((x, i) => x.padEnd(widths[i])).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export async function allCommand(args: string[]): Promise<number> {
  const { values } = parse(args, { out: { type: 'string' }, quick: { type: 'boolean' } }, 'coordkit all [--out DIR] [--quick]');
  const outDir = values.out ?? 'report';
  const reports: CheckReport[] = [];
  for (const protocol of registered()) {
    for (const variant of protocol.variants) {
      const isDefault = variant.name === protocol.defaultVariant;
      if (!isDefault && !variant.breaks && values.quick) continue;
      const model = createModel(protocol, { variant: variant.name });
      process.stderr.write(`checking ${protocol.name} ${variant.name}...\n`);
      reports.push(runChecks(model, { mode: isDefault ? 'both' : 'explore', progress: true }));
    }
  }
  const rows = reports.map(summaryRow);
  const table = formatTable(rows);
  process.stdout.write(table + '\n');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'results.json'), JSON.stringify(reports.map(toJson), null, 2) + '\n');
  writeFileSync(join(outDir, 'summary.md'), '# coordkit check results\n\n```\n' + table + '\n```\n');
  const { files, diagrams } = writeReport(outDir, reports);
  process.stdout.write(`results written to ${outDir}/: results.json, summary.md, ${files.map((f) => basename(f)).join(', ')} (${diagrams} diagrams)\n`);
  return rows.every((r) => r.verdict === 'ok') ? 0 : 1;
}
