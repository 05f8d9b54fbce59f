/** `coordkit check <primitive>`: explore and/or walk one model; exit 0 when every property holds, 1 on a violation. */
import { FAULTS, NETWORKS, type CheckConfig, type FaultName, type NetworkName, type Protocol } from '../protocol.js';
import { runChecks, type CheckReport } from '../check/run-checks.js';
import { SEARCH_ORDERS, type ExploreResult, type SearchOrder } from '../check/explore.js';
import { exploreParallel } from '../check/explore-parallel.js';
import { progressPrinter } from '../check/progress.js';
import { reportJson } from '../check/summary.js';
import { STATUS_LABELS as LABELS, verdict } from '../check/verdict.js';
import { createModel } from '../check/model.js';
import { describeRun } from '../check/describe-run.js';
import { sequenceDiagram } from '../trace/sequence-diagram.js';
import { paramArgs } from './param-args.js';
import { exploreLink } from '../viewer/explore-link.js';
import { parse } from './parse.js';
import { PROTOCOL_OPTIONS, resolveProtocol, withRef } from './protocol-source.js';
import { choiceArg, intArg, listArg, UsageError } from './usage-error.js';
import { parseShard, runBlock, SHARD_SEED, type ShardSpec } from '../check/shard.js';
import { exploreShard } from '../check/shard-explore.js';
import { shardJson, shardVerdict, type ShardRun } from '../check/shard-report.js';
import { DEFAULT_RUNS } from '../check/walk.js';

const USAGE =
  'coordkit check <primitive> [--variant V] [--nodes N] [--mode explore|walk|both] [--network fifo|unordered|unordered-duplicating] [--faults loss,dup,crash,partition] [--max-depth D] [--max-states S] [--max-in-flight K] [--max-round R] [--max-crashes|--max-drops|--max-duplicates|--max-partitions C] [--search bfs|dfs] [--workers N] [--expect-states S] [--runs R] [--seed S] [--path P] [--symmetry on|off] [--param NAME=VALUE]... [--shard i/n [--shard-depth D]] [--json] [--explore-link] [--protocol FILE | --config FILE]';
const MODES = ['explore', 'walk', 'both'] as const;
/**
 * Distinct worlds explored unless --max-states says otherwise: every default configuration of
 * the built-in primitives at 3 nodes fits; larger ones are cut here, and the output says so.
 */
export const DEFAULT_MAX_STATES = 500_000;
const BUDGETS = [
  ['max-crashes', 'crash'],
  ['max-drops', 'loss'],
  ['max-duplicates', 'dup'],
  ['max-partitions', 'partition'],
] as const;

/** Options that only one mode reads, given with the other: refused rather than ignored. */
function refuseContradictions(values: Record<string, unknown>, mode: (typeof MODES)[number]): void {
  const only = (flags: string[], modes: string) => {
    for (const f of flags) if (values[f] !== undefined) throw new UsageError(`--${f} does not apply to --mode ${mode} (it applies to ${modes})`);
  };
  if (mode === 'explore') only(['runs', 'seed', 'path'], 'walks: --mode walk or both');
  if (mode === 'walk') only(['max-states', 'search', 'workers', 'expect-states'], 'explorations: --mode explore or both');
  if (values.shard !== undefined && values['expect-states'] !== undefined) throw new UsageError('--expect-states sizes the visited set of a whole exploration, not of a shard: drop it with --shard');
  if (values.path !== undefined && mode !== 'walk') throw new UsageError('--path replays one walk: use it with --mode walk (or no --mode)');
  if (values.path !== undefined && values.seed === undefined) throw new UsageError('--path needs the --seed printed with it');
}

export async function checkCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      variant: { type: 'string', help: 'V the variant to check (default: the verified one)' },
      nodes: { type: 'string', help: 'N nodes, 2 to 16 (what the protocol allows)' },
      mode: { type: 'string', help: 'M explore (every world within the bounds), walk (random runs) or both (default)' },
      network: { type: 'string', help: 'NET fifo, unordered or unordered-duplicating' },
      faults: { type: 'string', help: 'LIST faults to inject: loss,dup,crash,partition or none' },
      'max-depth': { type: 'string', help: 'D depth bound of the exploration (0: none)' },
      'max-states': { type: 'string', help: `S stop exploring after S distinct worlds (default ${DEFAULT_MAX_STATES.toLocaleString('en-US')}; the result then says so)` },
      'max-in-flight': { type: 'string', help: 'K worlds with more than K messages in flight are not expanded' },
      'max-round': { type: 'string', help: 'R worlds where a node is past round R (term, ballot) are not expanded' },
      'max-crashes': { type: 'string', help: 'C crash budget with --faults crash' },
      'max-drops': { type: 'string', help: 'C message-loss budget with --faults loss' },
      'max-duplicates': { type: 'string', help: 'C duplication budget with --faults dup' },
      'max-partitions': { type: 'string', help: 'C partition budget with --faults partition' },
      search: { type: 'string', help: 'ORDER bfs (shortest counterexample) or dfs (less memory)' },
      workers: { type: 'string', help: 'N explore on N threads (depth-first)' },
      'expect-states': { type: 'string', help: 'S size the visited set for about S worlds up front (a previous run\'s count): no pauses while it grows; a wrong S changes no result' },
      runs: { type: 'string', help: 'R random runs of the walk' },
      seed: { type: 'string', help: 'S seed of the walk' },
      path: { type: 'string', help: 'P replay one walk (with --seed): the path a failure printed' },
      shard: { type: 'string', help: 'i/n check only shard i of n (a CI matrix job); coordkit merge joins the --json results' },
      'shard-depth': { type: 'string', help: 'D split the exploration among the shards at depth D (default: the first level with 8 worlds per shard)' },
      json: { type: 'boolean', help: 'print one JSON object instead of text' },
      first: { type: 'boolean', help: 'stop at the first violated property, checking no further configuration (when only pass or fail matters, as in coordkit mutate)' },
      'explore-link': { type: 'boolean', help: 'print, beside each replay command, the browser explorer link that opens the run' },
      ...PROTOCOL_OPTIONS,
      symmetry: { type: 'string', help: 'on|off reduce by symmetry of node ids (default on)' },
      param: { type: 'string', multiple: true, help: 'K=V a parameter of the primitive (repeatable; coordkit list shows them)' },
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
    nodes: intArg('nodes', values.nodes, 2, 16),
    network: choiceArg<NetworkName>('network', values.network, NETWORKS),
    faults: listArg<FaultName>('fault', values.faults, FAULTS),
    maxDepth: intArg('max-depth', values['max-depth'], 0, 10_000),
    maxInFlight: intArg('max-in-flight', values['max-in-flight'], 0, 1_000),
    maxRound: intArg('max-round', values['max-round'], 0, 1_000),
    maxCrashes: intArg('max-crashes', values['max-crashes'], 0, 100),
    maxDrops: intArg('max-drops', values['max-drops'], 0, 100),
    maxDuplicates: intArg('max-duplicates', values['max-duplicates'], 0, 100),
    maxPartitions: intArg('max-partitions', values['max-partitions'], 0, 100),
    symmetry: values.symmetry === undefined ? undefined : choiceArg('symmetry', values.symmetry, ['on', 'off'] as const) === 'on',
  };
  overrides.params = paramArgs(protocol, values.param, createModel(protocol, overrides).config.nodes);
  const mode = choiceArg('mode', values.mode, MODES) ?? (values.path !== undefined ? 'walk' : 'both');
  refuseContradictions(values, mode);
  const model = createModel(protocol, overrides);
  for (const [flag, fault] of BUDGETS) {
    if (values[flag] !== undefined && !model.config.faults.includes(fault)) throw new UsageError(`--${flag} is a budget for --faults ${fault}, which this check does not inject (faults: ${model.config.faults.join(',') || 'none'})`);
  }
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
  const maxStates = intArg('max-states', values['max-states'], 1, 100_000_000) ?? DEFAULT_MAX_STATES;
  const expectStates = intArg('expect-states', values['expect-states'], 1, 1_000_000_000);
  const shard = shardArgs(values, mode);
  const runs = intArg('runs', values.runs, 1, 1_000_000);
  let explored: ExploreResult | undefined;
  let run: ShardRun | undefined;
  if (shard) {
    run = { spec: shard, ...(mode !== 'explore' ? { runs: { ...runBlock(shard, runs ?? DEFAULT_RUNS), of: runs ?? DEFAULT_RUNS } } : {}) };
    if (mode !== 'walk') {
      const printer = values.json ? undefined : progressPrinter(`explore ${protocol.name} shard ${shard.index}/${shard.count}${workers > 1 ? ` (${workers} threads)` : ''}`);
      const done = await exploreShard(model, shard, { search: search ?? 'bfs', workers, module: source.moduleUrl, maxStates, onProgress: printer?.update });
      printer?.done();
      explored = done.explore;
      run.prefix = done.prefix;
    }
  } else if (workers > 1 && mode !== 'walk') {
    const printer = values.json ? undefined : progressPrinter(`explore ${protocol.name} (${workers} threads)`);
    explored = await exploreParallel(model, { workers, module: source.moduleUrl, maxStates, expectStates, onProgress: printer?.update, all: !values.first });
    printer?.done();
  }
  const all = !values.first;
  const report = runChecks(model, {
    all,
    mode,
    search,
    explored,
    runs: run?.runs ? run.runs.count : runs,
    maxStates,
    expectStates,
    seed: seed ?? (shard ? SHARD_SEED : undefined),
    path: values.path,
    progress: !values.json,
    shard: run && { firstRun: run.runs?.first ?? 0 },
  });
  withRef(source, report.violations);
  // The verified variant's default check also runs the configurations where further bug families bite.
  const shaped = ['nodes', 'network', 'faults', 'max-depth', 'max-in-flight', 'max-round', ...BUDGETS.map(([flag]) => flag), 'symmetry', 'param', 'path', 'workers', 'shard'].some((f) => values[f as keyof typeof values] !== undefined);
  const also: CheckReport[] = [];
  for (const { config } of shaped || model.config.variant !== protocol.defaultVariant ? [] : (protocol.alsoCheck ?? [])) {
    if (!all && [report, ...also].some((r) => r.violations.length)) break;
    const more = createModel(protocol, { ...config, variant: model.config.variant });
    const r = runChecks(more, { mode, search, runs, maxStates, seed, progress: !values.json, all });
    withRef(source, r.violations);
    also.push(r);
  }
  const link = (m: typeof model) => (values['explore-link'] ? (path: number[]) => exploreLink(source.ref, m, path) : undefined);
  if (values.json && run) process.stdout.write(JSON.stringify(shardJson(report, run)) + '\n');
  else if (values.json) process.stdout.write(JSON.stringify({ ...reportJson(report), ...(also.length ? { also: also.map(reportJson) } : {}) }) + '\n');
  else {
    printReport(report, link(model), run && shardVerdict(report, run));
    for (const [i, r] of also.entries()) {
      process.stdout.write(`\nalso checked by default (${protocol.alsoCheck![i].why}):\n`);
      printReport(r, link(r.model));
    }
  }
  return [report, ...also].some((r) => r.violations.length) ? 1 : 0;
}

/** `--shard i/n` and `--shard-depth D`, checked against the mode. */
function shardArgs(values: Record<string, unknown>, mode: (typeof MODES)[number]): ShardSpec | undefined {
  const depth = intArg('shard-depth', values['shard-depth'] as string | undefined, 1, 10_000);
  if (values.shard === undefined) {
    if (depth !== undefined) throw new UsageError('--shard-depth needs --shard i/n');
    return undefined;
  }
  const spec = parseShard(values.shard as string);
  if (typeof spec === 'string') throw new UsageError(spec);
  if (values.path !== undefined) throw new UsageError('--path replays one walk run: drop --shard');
  if (values.first) throw new UsageError('--first does not apply to --shard: coordkit merge needs every property a shard found');
  if (depth !== undefined && mode === 'walk') throw new UsageError('--shard-depth splits an exploration: it does not apply to --mode walk');
  return depth === undefined ? spec : { ...spec, depth };
}


function printReport(r: CheckReport, link?: (path: number[]) => { command: string; url: string }, verdicts = verdict(r)): void {
  const { protocol, config } = r.model;
  const out: string[] = [];
  const params = Object.entries(config.params).map(([k, v]) => ` · ${k} ${JSON.stringify(v)}`).join('');
  out.push(`${protocol.name} · variant ${config.variant} · ${config.nodes} nodes · ${config.network} network · faults ${config.faults.join(',') || 'none'}${params}`);
  if (r.explore) {
    const e = r.explore;
    const bound = config.maxDepth ? `, depth bound ${config.maxDepth}` : '';
    out.push(`explore (${e.search}${e.threads > 1 ? ` on ${e.threads} threads` : ''}): ${e.states.toLocaleString('en-US')} distinct states, ${e.transitions.toLocaleString('en-US')} transitions, depth ${e.depth}${bound}, ${Math.round(e.elapsedMs)} ms (${e.statesPerSecond.toLocaleString('en-US')} states/s)`);
    }
  if (verdicts.extent) out.push(verdicts.extent);
  if (r.walk) out.push(`walk: ${r.walk.replay ? 'replayed one run' : `${r.walk.runs} runs`}, ${r.walk.steps.toLocaleString('en-US')} steps, seed ${r.walk.seed}, ${Math.round(r.walk.elapsedMs)} ms`);
  const c = r.coverage;
  out.push(c.measured ? `coverage of the node machine: ${(c.states * 100).toFixed(0)}% of states, ${(c.transitions * 100).toFixed(0)}% of declared transitions` : 'coverage of the node machine: not measured (no node step ran)');
  for (const p of verdicts.properties) out.push(`  ${LABELS[p.status]} ${p.kind.padEnd(10)} ${p.name}${p.detail ? ` (${p.detail})` : ''}`);
  for (const v of r.violations.filter((x) => x.notReached)) out.push('', `'${v.invariant}' (${v.kind}) was not reached: ${v.notReached}`, `replay: ${v.replay}`);
  // A run that breaks several properties at once is printed once, naming them all.
  const runs = new Map<string, typeof r.violations>();
  for (const v of r.violations.filter((x) => !x.notReached)) {
    const key = v.steps.length ? `${v.mode} ${v.path.join(':')} ${v.steps.length}` : `${v.mode} ${v.invariant}`;
    runs.set(key, [...(runs.get(key) ?? []), v]);
  }
  for (const same of runs.values()) {
    const v = same[0];
    const fair = v.fairness ? `, then a fair run with ${v.fairness}` : '';
    out.push('', `violation of ${same.map((x) => `'${x.invariant}' (${x.kind})`).join(', ')} found by ${v.mode}${v.steps.length ? ` in ${v.steps.length} steps${fair}` : ''}:`);
    if (!v.steps.length) out.push(v.kind === 'sometimes' ? '  no reachable world satisfies it (every reachable world was searched)' : '  it fails in the initial world');
    out.push(...describeRun(v.steps, config.nodes));
    if (v.steps.length) out.push('', '```mermaid', sequenceDiagram(v.steps, config.nodes, `${protocol.name} ${config.variant}: ${same.map((x) => x.invariant).join(', ')}`), '```');
    out.push(`replay: ${v.replay}`);
    if (link && v.steps.length) {
      const l = link(v.path);
      out.push(`explore: ${l.command}, then open ${l.url}`);
    }
  }
  out.push('', verdicts.summary);
  process.stdout.write(out.join('\n') + '\n');
}
