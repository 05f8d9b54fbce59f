/**
 * Joins the `check --shard i/n --json` results of one model into one verdict (see shard.ts). The
 * shards together cover the space only when every one of 1..n is there and searched its share to
 * the end; a property holds only then. Violations are real wherever they were found: each
 * property's shortest exploration run and earliest walk run are kept.
 */
import { canonical } from '../canonical.js';
import type { CheckConfig } from '../protocol.js';
import type { ShardJson } from './shard-report.js';
import { boundsCut, outcomeOf, type PropertyStatus, type PropertyVerdict } from './verdict.js';

/** A file that is not a shard result, or does not belong with the others: one line. */
export class MergeError extends Error {}

export interface MergeInput {
  file: string;
  result: unknown;
}

type Shard = ShardJson & { file: string };
type Cut = { inFlight: number; round: number; depth: number };

export interface MergedViolation {
  invariant: string;
  kind: string;
  mode: 'explore' | 'walk';
  steps: number;
  path: number[];
  replay: string;
  /** The shard whose run this is, and every shard that found the property violated the same way (mode). */
  shard: number;
  foundBy: number[];
  run?: number;
}

export interface Merged {
  outcome: 'pass' | 'no-violation-found' | 'fail';
  summary: string;
  extent?: string;
  primitive: string;
  variant: string;
  nodes: number;
  mode: string;
  search?: string;
  shards: { count: number; present: number[]; missing: number[]; slowest: { index: number; elapsedMs: number } };
  prefix: Shard['shard']['prefix'];
  /** Summed over the shards: worlds searched by several shards are counted by each. */
  states: number;
  transitions: number;
  complete: boolean;
  exhaustive: boolean;
  bounded: number;
  cut?: Cut;
  walk?: { runs: number; planned: number; seed: number };
  unsharded?: { states: number; transitions: number; elapsedMs: number; stateRatio: number; transitionRatio: number };
  properties: PropertyVerdict[];
  violations: MergedViolation[];
}

const count = (n: number) => n.toLocaleString('en-US');
const named = (n: number) => (i: number) => `${i}/${n}`;

function isShard(x: unknown): x is ShardJson {
  const r = x as ShardJson;
  return (
    !!r && typeof r === 'object' && !!r.shard && typeof r.shard === 'object' && Number.isInteger(r.shard.index) && Number.isInteger(r.shard.count) &&
    !!r.config && typeof r.config === 'object' && typeof r.primitive === 'string' && typeof r.mode === 'string' &&
    Array.isArray(r.properties) && Array.isArray(r.violations) && typeof r.states === 'number' && typeof r.transitions === 'number' &&
    typeof r.elapsedMs === 'number' && !!r.unsatisfied && typeof r.unsatisfied === 'object'
  );
}

/** What must be the same on every shard, each named as the error says it. */
function sameness(r: ShardJson): [string, unknown][] {
  const { variant, nodes, network, faults, params, ...options } = r.config as CheckConfig;
  return [
    ['protocol', r.primitive],
    ['variant', variant],
    ['node count', nodes],
    ['network', network],
    ['faults', faults],
    ['parameters', params],
    ['options (bounds, symmetry)', options],
    ['mode', r.mode],
    ['shard count', r.shard.count],
    ['search', r.search ?? null],
    ['split (depth, worlds)', r.shard.prefix && [r.shard.prefix.depth, r.shard.prefix.frontier]],
    ['walk seed and runs', r.walk && r.shard.runs && [r.walk.seed, r.shard.runs.of]],
  ];
}

function checkInputs(inputs: MergeInput[]): Shard[] {
  if (!inputs.length) throw new MergeError('no shard results to merge');
  const shards: Shard[] = [];
  for (const { file, result } of inputs) {
    if (!isShard(result)) throw new MergeError(`${file}: not the result of 'coordkit check --shard i/n --json'`);
    const first = shards[0];
    if (first) {
      const want = sameness(first);
      sameness(result).forEach(([what, value], k) => {
        if (canonical(value) !== canonical(want[k][1])) throw new MergeError(`${file}: ${what} ${canonical(value)} differs from ${first.file}'s ${canonical(want[k][1])}: shards of different checks`);
      });
      const twice = shards.find((s) => s.shard.index === result.shard.index);
      if (twice) throw new MergeError(`${file}: shard ${result.shard.index}/${result.shard.count} is also ${twice.file}`);
    }
    shards.push({ ...result, file });
  }
  return shards.sort((a, b) => a.shard.index - b.shard.index);
}

/** Per property and mode, the shortest exploration run or the earliest walk run; shortest first. */
function mergeViolations(shards: Shard[]): MergedViolation[] {
  const best = new Map<string, MergedViolation>();
  for (const s of shards) {
    for (const v of s.violations) {
      const key = `${v.mode} ${v.invariant}`;
      const mine: MergedViolation = { invariant: v.invariant, kind: v.kind, mode: v.mode, steps: v.steps, path: v.path, replay: v.replay, shard: s.shard.index, foundBy: [s.shard.index], ...(v.run !== undefined ? { run: v.run } : {}) };
      const known = best.get(key);
      if (!known) best.set(key, mine);
      else {
        const better = v.mode === 'walk' ? (v.run ?? Infinity) < (known.run ?? Infinity) : v.steps < known.steps;
        best.set(key, { ...(better ? mine : known), foundBy: [...known.foundBy, s.shard.index] });
      }
    }
  }
  return [...best.values()].sort((a, b) => a.steps - b.steps);
}

export function mergeShards(inputs: MergeInput[], unshardedInput?: MergeInput): Merged {
  const shards = checkInputs(inputs);
  const first = shards[0];
  const n = first.shard.count;
  const name = named(n);
  const present = shards.map((s) => s.shard.index);
  const missing = Array.from({ length: n }, (_, k) => k + 1).filter((i) => !present.includes(i));
  const explored = first.mode !== 'walk';
  const prefix = first.shard.prefix;
  const config = first.config as CheckConfig;
  const violations = mergeViolations(shards);

  // Worlds above the split are counted by every shard, their cuts too: once here.
  const cut: Cut = { inFlight: 0, round: 0, depth: 0 };
  if (explored) {
    for (const k of ['inFlight', 'round', 'depth'] as const) {
      const above = prefix?.depth === null ? 0 : (prefix?.cut[k] ?? 0);
      cut[k] = prefix?.depth === null ? Math.max(...shards.map((s) => s.cut?.[k] ?? 0)) : above + shards.reduce((sum, s) => sum + (s.cut?.[k] ?? 0) - above, 0);
    }
  }
  const bounded = cut.inFlight + cut.round + cut.depth;
  const stoppedShards = shards.filter((s) => explored && !s.complete);
  const complete = explored && missing.length === 0 && stoppedShards.length === 0;
  const exhaustive = complete && bounded === 0;
  const states = shards.reduce((sum, s) => sum + s.states, 0);
  const walkRuns = shards.reduce((sum, s) => sum + (s.walk?.runs ?? 0), 0);
  const walked = first.walk ? `${count(walkRuns)} random runs` : '';
  const gaps = [
    missing.length ? `shard${missing.length > 1 ? 's' : ''} ${missing.map(name).join(', ')} missing` : '',
    ...stoppedShards.map((s) => `shard ${name(s.shard.index)} ${s.stopped === 'violation' ? 'stopped at its first violation' : s.stopped === 'max-states' ? `was cut short by --max-states ${s.maxStates}` : 'was cut short: its visited set filled up'}`),
  ].filter(Boolean);
  const cuts = boundsCut({ cut }, config);
  const extent = !explored
    ? undefined
    : gaps.length
      ? `not exhaustive: ${gaps.join('; ')}; the rest of the space was not searched`
      : cuts.length
        ? `bounded: every shard searched its share within the bounds; not expanded (summed over the shards): ${cuts.join('; ')}`
        : 'exhaustive: every shard searched its share to the end, no bound cut the search: together they searched every reachable world';

  const reached = (p: string) => shards.some((s) => (s.unsatisfied.explore !== null && !s.unsatisfied.explore.includes(p)) || (s.unsatisfied.walk !== null && !s.unsatisfied.walk.includes(p)));
  const searched = [explored && !complete ? `${count(states)} worlds (${gaps.join('; ')})` : '', walked].filter(Boolean).join(' and ');
  const properties = first.properties.map(({ name: p, kind }): PropertyVerdict => {
    const status = (s: PropertyStatus, detail = '') => ({ name: p, kind, status: s, detail });
    const bad = violations.filter((v) => v.invariant === p);
    if (bad.length) return status('violated', `found by ${[...new Set(bad.map((v) => v.mode))].join(' and ')}`);
    if (kind === 'sometimes') {
      if (reached(p)) return status('reached');
      if (violations.length) return status('not-established', 'not reached; the checks stopped at a violation first');
      if (exhaustive) return status('not-reached', 'no reachable world satisfies it: every shard searched its share to the end');
      if (complete) return status('not-reached', `no world within the bounds reaches it, ${cuts.join('; ')}`);
      return status('not-reached', `not reached in ${searched}`);
    }
    if (exhaustive) return status('holds');
    if (complete) return status('holds-within-bounds', 'within the bounds');
    return status('not-established', `not established: no violation in ${searched}`);
  });
  // With nothing failed, every sometimes property was reached: not reaching one fails the check.
  const { outcome, summary } = outcomeOf(properties, { exhaustive, searched });

  const slowest = shards.reduce((a, b) => (b.elapsedMs > a.elapsedMs ? b : a));
  return {
    outcome,
    summary,
    extent,
    primitive: first.primitive,
    variant: first.variant,
    nodes: first.nodes,
    mode: first.mode,
    ...(explored ? { search: first.search } : {}),
    shards: { count: n, present, missing, slowest: { index: slowest.shard.index, elapsedMs: slowest.elapsedMs } },
    prefix,
    states,
    transitions: shards.reduce((sum, s) => sum + s.transitions, 0),
    complete,
    exhaustive,
    bounded,
    ...(explored ? { cut } : {}),
    ...(first.walk ? { walk: { runs: walkRuns, planned: first.shard.runs?.of ?? walkRuns, seed: first.walk.seed } } : {}),
    ...(unshardedInput ? { unsharded: againstUnsharded(unshardedInput, first, states, shards) } : {}),
    properties,
    violations,
  };
}

/** The unsharded search's counts, and the shards' work against them. */
function againstUnsharded({ file, result }: MergeInput, first: Shard, states: number, shards: Shard[]): NonNullable<Merged['unsharded']> {
  const u = result as Omit<ShardJson, 'shard'> & { shard?: unknown };
  if (!u || typeof u !== 'object' || typeof u.states !== 'number' || typeof u.primitive !== 'string' || !('params' in u)) throw new MergeError(`${file}: not the result of 'coordkit check --json'`);
  if (u.shard !== undefined) throw new MergeError(`${file}: a shard's result, not the unsharded check's`);
  for (const key of ['primitive', 'variant', 'nodes', 'network', 'faults', 'params'] as const) {
    if (canonical(u[key]) !== canonical(first[key])) throw new MergeError(`${file}: ${key} ${canonical(u[key])} differs from the shards' ${canonical(first[key])}`);
  }
  if (!u.complete) throw new MergeError(`${file}: the unsharded search did not finish (${u.stopped ?? 'no exploration'}), so it does not count the space`);
  const transitions = shards.reduce((sum, s) => sum + s.transitions, 0);
  return { states: u.states, transitions: u.transitions, elapsedMs: u.elapsedMs, stateRatio: states / u.states, transitionRatio: transitions / u.transitions };
}
