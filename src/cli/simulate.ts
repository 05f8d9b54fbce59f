/**
 * `coordkit simulate <primitive> [--scenario NAME|FILE] [--seed S] [--out DIR]`: one timed run,
 * its diagrams and metrics. Without --scenario: the protocol's `seed` scenario (its first, if it
 * has no `seed`), or a generated one when it has none.
 */
import { join } from 'node:path';
import { simulateTimed } from '../sim/timed.js';
import { defaultScenario } from '../sim/default-scenario.js';
import { loadScenario, ScenarioError, shippedScenarios } from '../sim/timed-scenario.js';
import { metricsTables, tableText } from '../trace/metrics-tables.js';
import { renderRun, writeRun } from '../trace/render-run.js';
import { parse } from './parse.js';
import { PROTOCOL_OPTIONS, resolveProtocol } from './protocol-source.js';
import { UsageError } from './usage-error.js';

const USAGE = 'coordkit simulate <primitive> [--scenario NAME|FILE] [--seed S] [--out DIR] [--json] [--protocol FILE | --config FILE]';

export async function simulateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      scenario: { type: 'string', help: "NAME|FILE  a scenario of the protocol, or a scenario file (default: its first, or one made from its client requests)" },
      seed: { type: 'string', help: 'S  seed of latencies and jitter (default 1)' },
      out: { type: 'string', help: 'DIR  where the diagrams and metrics go' },
      json: { type: 'boolean', help: 'print the metrics as JSON' },
      ...PROTOCOL_OPTIONS,
    },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const source = await resolveProtocol({ name: positionals[0], protocol: values.protocol, config: values.config });
  const { protocol } = source;
  if (values.seed !== undefined && !/^\d+$/.test(values.seed)) throw new UsageError(`--seed must be a whole number, got '${values.seed}'`);
  const seed = values.seed === undefined ? 1 : Number(values.seed);
  const named = values.scenario ?? shippedScenarios(source.scenarioDir)[0];
  let scenario;
  try {
    scenario = named === undefined ? defaultScenario(protocol) : loadScenario(named, [protocol], protocol.name, source.scenarioDir);
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
    const out = [`${protocol.name} · scenario ${scenario.name} · variant ${rendered.run.trace.variant} · ${scenario.nodes} nodes · seed ${seed} · replay: coordkit simulate ${source.ref}${named === undefined ? '' : ` --scenario ${named}`} --seed ${seed}`, ''];
    for (const t of metricsTables(rendered.metrics)) out.push(tableText(t), '');
    const broken = rendered.run.violations;
    out.push(broken.length ? `VIOLATED: ${broken.map((v) => `${v.property} at t=${v.atMs} ms`).join(', ')}` : 'every always-property held at every step');
    out.push(`wrote ${files.join(', ')}`);
    process.stdout.write(out.join('\n') + '\n');
  }
  return rendered.run.violations.length ? 1 : 0;
}
