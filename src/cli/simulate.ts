/** `coordkit simulate <primitive> --scenario NAME|FILE [--seed S] [--out DIR]`: one timed run, its diagrams and metrics. */
import { join } from 'node:path';
import { simulateTimed } from '../sim/timed.js';
import { loadScenario, ScenarioError } from '../sim/timed-scenario.js';
import { metricsTables, tableText } from '../trace/metrics-tables.js';
import { renderRun, writeRun } from '../trace/render-run.js';
import { parse } from './parse.js';
import { findProtocol, registered } from './registry.js';
import { UsageError } from './usage-error.js';

const USAGE = 'coordkit simulate <primitive> --scenario NAME|FILE [--seed S] [--out DIR] [--json]';

export async function simulateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(args, {
      scenario: { type: 'string', help: 'NAME|FILE  a scenario of the primitive, or a scenario file (required)' },
      seed: { type: 'string', help: 'S  seed of latencies and jitter (default 1)' },
      out: { type: 'string', help: 'DIR  where the diagrams and metrics go' },
      json: { type: 'boolean', help: 'print the metrics as JSON' },
    }, USAGE);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const protocol = findProtocol(positionals[0]);
  if (!values.scenario) throw new UsageError(`--scenario is required (usage: ${USAGE})`);
  if (values.seed !== undefined && !/^\d+$/.test(values.seed)) throw new UsageError(`--seed must be a whole number, got '${values.seed}'`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  let scenario;
  try {
    scenario = loadScenario(values.scenario, registered(), protocol.name);
  } catch (err) {
    if (err instanceof ScenarioError) throw new UsageError(err.message);
    throw err;
  }
  const rendered = renderRun(scenario, simulateTimed(protocol, scenario, seed));
  const dir = values.out ?? join('report', 'simulate', `${protocol.name}-${scenario.name}`);
  const files = writeRun(dir, rendered);
  if (values.json) {
    process.stdout.write(JSON.stringify({ ...rendered.metrics, violations: rendered.run.violations, files }) + '\n');
  } else {
    const out = [`${protocol.name} · scenario ${scenario.name} · variant ${rendered.run.trace.variant} · ${scenario.nodes} nodes · seed ${seed} · replay: coordkit simulate ${protocol.name} --scenario ${values.scenario} --seed ${seed}`, ''];
    for (const t of metricsTables(rendered.metrics)) out.push(tableText(t), '');
    const broken = rendered.run.violations;
    out.push(broken.length ? `VIOLATED: ${broken.map((v) => `${v.property} at t=${v.atMs} ms`).join(', ')}` : 'every always-property held at every step');
    out.push(`wrote ${files.join(', ')}`);
    process.stdout.write(out.join('\n') + '\n');
  }
  return rendered.run.violations.length ? 1 : 0;
}
