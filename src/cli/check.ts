/** `coordkit check <primitive>`: explore and/or walk one model; exit 0 when every property holds, 1 on a violation. */
import { FAULTS, NETWORKS, type CheckConfig, type FaultName, type NetworkName, type Protocol } from '../protocol.js';
import { runChecks, type CheckReport } from '../check/run-checks.js';
import { SEARCH_ORDERS, type ExploreResult, type SearchOrder } from '../check/explore.js';
import { exploreParallel } from '../check/explore-parallel.js';
import { progressPrinter } from '../check/progress.js';
import { reportJson } from '../check/summary.js';
import { createModel } from '../check/model.js';
import { describeRun } from '../check/describe-run.js';
import { sequenceDiagram } from '../trace/sequence-diagram.js';
import { exploreLink } from '../viewer/explore-link.js';
import { parse } from './parse.js';
import { resolveProtocol, withRef } from './protocol-source.js';
import { choiceArg, intArg, listArg, UsageError } from './usage-error.js';

const USAGE =
  'coordkit check <primitive> [--variant V] [--nodes N] [--mode explore|walk|both] [--network fifo|unordered|unordered-duplicating] [--faults loss,dup,crash,partition] [--max-depth D] [--search bfs|dfs] [--workers N] [--runs R] [--seed S] [--path P] [--symmetry on|off] [--param NAME=VALUE]... [--json] [--explore-link] [--protocol FILE | --config FILE]';
const MODES = ['explore', 'walk', 'both'] as const;

export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      variant: { type: 'string' },
      nodes: { type: 'string' },
      mode: { type: 'string' },
      network: { type: 'string' },
      faults: { type: 'string' },
      'max-depth': { type: 'string' },
      'max-states': { type: 'string' },
      search: { type: 'string' },
      workers: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      path: { type: 'string' },
      json: { type: 'boolean' },
      'explore-link': { type: 'boolean' },
      protocol: { type: 'string' },
      config: { type: 'string' },
      symmetry: { type: 'string' },
      param: { type: 'string', multiple: true },
    },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const source = await resolveProtocol({ name: positionals[0], protocol: values.protocol, config: values.config });
  const protocol: Protocol = source.protocol;
  if (values.variant !== undefined) choiceArg('variant', values.variant, protocol.variants.map((v) => v.name));
  const seed = values.seed === undefined ? undefined : Number(values.seed);
  if (seed !== undefined && !Number.isInteger(seed)) throw new UsageError(`--seed must be an integer, got '${values.seed}'`);
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) throw new UsageError(`--path must be fast-check's path, numbers joined by ':', got '${values.path}'`);
  const overrides: Partial<CheckConfig> = {
    variant: values.variant,
    nodes: intArg('nodes', values.nodes, 2, 7),
    network: choiceArg<NetworkName>('network', values.network, NETWORKS),
    faults: listArg<FaultName>('fault', values.faults, FAULTS),
    maxDepth: intArg('max-depth', values['max-depth'], 0, 10_000),
    symmetry: values.symmetry === undefined ? undefined : choiceArg('symmetry', values.symmetry, ['on', 'off'] as const) === 'on',
    params: paramArgs(protocol, values.param),
  };
  const mode = choiceArg('mode', values.mode, MODES) ?? (values.path !== undefined ? 'walk' : 'both');
  const model = createModel(protocol, overrides);
  const problem = protocol.checkParams?.(model.config);
  if (problem) throw new UsageError(problem);
  const workers = intArg('workers', values.workers, 1, 64) ?? 1;
  let search = choiceArg<SearchOrder>('search', values.search, SEARCH_ORDERS);
  if (workers > 1) {
    if (search === 'bfs') throw new UsageError('--workers runs a depth-first search: drop --search bfs or use --search dfs');
    if (model.config.symmetry && protocol.symmetry) throw new UsageError(`--workers cannot reduce ${protocol.name} by symmetry: add --symmetry off`);
    search = 'dfs';
  }
  if (search === 'dfs' && model.config.maxDepth > 0) {
    throw new UsageError(`--search dfs cannot honour a depth bound (max depth ${model.config.maxDepth}); use --search bfs, or --max-depth 0 to lift it`);
  }
  const maxStates = intArg('max-states', values['max-states'], 1, 100_000_000);
  let explored: ExploreResult | undefined;
  if (workers > 1 && mode !== 'walk') {
    const printer = values.json ? undefined : progressPrinter(`explore ${protocol.name} (${workers} threads)`);
    explored = await exploreParallel(model, { workers, module: source.moduleUrl, maxStates, onProgress: printer?.update });
    printer?.done();
  }
  const report = runChecks(model, {
    mode,
    search,
    explored,
    runs: intArg('runs', values.runs, 1, 1_000_000),
    maxStates,
    seed,
    path: values.path,
    progress: !values.json,
  });
  withRef(source, report.violations);
  if (values.json) process.stdout.write(JSON.stringify(reportJson(report)) + '\n');
  else printReport(report, values['explore-link'] ? (path) => exploreLink(source.ref, model, path) : undefined);
  return report.violations.length ? 1 : 0;
}

/**
 * `--param NAME=VALUE`, repeatable: a primitive's own knob (`requests=2`, `proposers=1,2`). The
 * value is JSON when it parses as JSON, a list of numbers when comma-separated, else a string.
 */
export function paramArgs(protocol: Protocol, raw: string[] | undefined): Record<string, unknown> | undefined {
  if (!raw) return undefined;
  const known = new Set([...Object.keys(protocol.defaults.params ?? {}), ...protocol.variants.flatMap((v) => Object.keys(v.reveal?.params ?? {}))]);
  const params: Record<string, unknown> = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param takes NAME=VALUE, got '${item}'`);
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!known.has(name)) throw new UsageError(`unknown param '${name}' of ${protocol.name} (choose from: ${[...known].join(', ') || 'none'})`);
    if (/^\d+(,\d+)+$/.test(value)) params[name] = value.split(',').map(Number);
    else {
      try {
        params[name] = JSON.parse(value);
      } catch {
        params[name] = value;
      }
    }
  }
  return params;
}

function printReport(r: CheckReport, link?: (path: number[]) => { command: string; url: string }): void {
  const { protocol, config } = r.model;
  const out: string[] = [];
  const params = Object.entries(config.params).map(([k, v]) => ` · ${k} ${JSON.stringify(v)}`).join('');
  out.push(`${protocol.name} · variant ${config.variant} · ${config.nodes} nodes · ${config.network} network · faults ${config.faults.join(',') || 'none'}${params}`);
  if (r.explore) {
    const e = r.explore;
    const bound = config.maxDepth ? `, depth bound ${config.maxDepth}` : '';
    out.push(`explore (${e.search}${e.threads > 1 ? ` on ${e.threads} threads` : ''}): ${e.states.toLocaleString('en-US')} distinct states, ${e.transitions.toLocaleString('en-US')} transitions, depth ${e.depth}${bound}, ${Math.round(e.elapsedMs)} ms (${e.statesPerSecond.toLocaleString('en-US')} states/s)${e.complete ? '' : ', cut short by --max-states'}`);
    if (e.complete) out.push(e.bounded ? `bounded: ${e.bounded.toLocaleString('en-US')} worlds at a bound (in flight, round or depth) were not expanded` : 'exhaustive: no bound cut the search');
  }
  if (r.walk) out.push(`walk: ${r.walk.runs} runs, ${r.walk.steps.toLocaleString('en-US')} steps, seed ${r.walk.seed}, ${Math.round(r.walk.elapsedMs)} ms`);
  out.push(`coverage of the node machine: ${(r.coverage.states * 100).toFixed(0)}% of states, ${(r.coverage.transitions * 100).toFixed(0)}% of transitions`);
  for (const p of protocol.properties) {
    const bad = r.violations.filter((v) => v.invariant === p.name);
    out.push(`  ${bad.length ? 'VIOLATED' : 'ok      '} ${p.kind.padEnd(10)} ${p.name}${bad.length ? ` (${bad.map((v) => v.mode).join(', ')})` : ''}`);
  }
  // A run that breaks several properties at once is printed once, naming them all.
  const runs = new Map<string, typeof r.violations>();
  for (const v of r.violations) {
    const key = v.steps.length ? `${v.mode} ${v.path.join(':')} ${v.steps.length}` : `${v.mode} ${v.invariant}`;
    runs.set(key, [...(runs.get(key) ?? []), v]);
  }
  for (const same of runs.values()) {
    const v = same[0];
    out.push('', `violation of ${same.map((x) => `'${x.invariant}' (${x.kind})`).join(', ')} found by ${v.mode}${v.steps.length ? ` in ${v.steps.length} steps` : ''}:`);
    if (!v.steps.length) out.push(v.kind === 'sometimes' ? '  no reachable world satisfies it' : '  it fails in the initial world');
    out.push(...describeRun(v.steps, config.nodes));
    if (v.steps.length) out.push('', '```mermaid', sequenceDiagram(v.steps, config.nodes, `${protocol.name} ${config.variant}: ${same.map((x) => x.invariant).join(', ')}`), '```');
    out.push(`replay: ${v.replay}`);
    if (link && v.steps.length) {
      const l = link(v.path);
      out.push(`explore: ${l.command}, then open ${l.url}`);
    }
  }
  out.push('', r.violations.length ? `FAIL: ${[...new Set(r.violations.map((v) => v.invariant))].join(', ')}` : 'PASS: every property holds');
  process.stdout.write(out.join('\n') + '\n');
}
