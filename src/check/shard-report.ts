/**
 * What one shard established (see shard.ts), for `check --shard` to print and emit as JSON: only
 * its violations are verdicts; whether a property holds is for `coordkit merge` of every shard.
 */
import type { CheckReport } from './run-checks.js';
import { reportJson } from './summary.js';
import { boundsCut, stopReason, verdict, type PropertyVerdict, type Verdict } from './verdict.js';
import { PREFIXES_PER_SHARD, type ShardPrefix, type ShardSpec } from './shard.js';

export interface ShardRun {
  spec: ShardSpec;
  /** With an exploration. */
  prefix?: ShardPrefix;
  /** With a walk: the block of the seed's runs this shard took, of `of`. */
  runs?: { first: number; count: number; of: number };
}

const count = (n: number) => n.toLocaleString('en-US');

export function shardVerdict(r: CheckReport, run: ShardRun): Verdict {
  const { index, count: n } = run.spec;
  const who = `shard ${index}/${n}`;
  const e = r.explore;
  const reached = (name: string) => (e !== undefined && !e.unsatisfied.includes(name)) || (r.walk !== undefined && !r.walk.unsatisfied.includes(name));
  const properties = verdict(r).properties.map((p): PropertyVerdict => {
    if (p.status === 'violated') return p;
    if (p.kind === 'sometimes' && reached(p.name)) return { ...p, status: 'reached', detail: '' };
    return { ...p, status: 'not-established', detail: p.kind === 'sometimes' ? `not reached in ${who}'s share` : `${who}'s share only: no violation` };
  });
  const failed = properties.filter((p) => p.status === 'violated');
  let extent: string | undefined;
  if (e && run.prefix) {
    const p = run.prefix;
    const split =
      p.depth === null
        ? `${who}: the search did not go past the split depth${run.spec.depth === undefined ? ` (no level had ${count(PREFIXES_PER_SHARD * n)} worlds to deal)` : ''}, so this shard searched all it reached, as every shard does`
        : `${who}: the ${count(p.states)} worlds down to depth ${p.depth} are searched by every shard; below, this shard searches its ${count(p.share)} of the ${count(p.frontier)} worlds at depth ${p.depth}`;
    const stop = stopReason(e, r.maxStates);
    const cuts = boundsCut(e, r.model.config);
    const share = stop ? `not searched to the end: ${stop}` : cuts.length ? `searched within the bounds; not expanded: ${cuts.join('; ')}` : 'searched to the end, no bound cut it';
    extent = `${split}; its share ${share}`;
  }
  const b = run.runs;
  const walked = !b ? '' : b.count ? `; walk: runs ${count(b.first)} to ${count(b.first + b.count - 1)} of the seed's ${count(b.of)}` : `; walk: none of the seed's ${count(b.of)} runs`;
  const summary = failed.length
    ? `FAIL: ${failed.map((p) => p.name).join(', ')}`
    : `${who.toUpperCase()}: NO VIOLATION in this shard's share${walked}; 'coordkit merge' of every shard's --json result gives the verdict`;
  return { outcome: failed.length ? 'fail' : 'no-violation-found', extent, properties, summary };
}

/** The `check --shard --json` object: `check --json`'s, with the shard's verdict and what `merge` needs. */
export function shardJson(r: CheckReport, run: ShardRun) {
  const v = shardVerdict(r, run);
  return {
    ...reportJson(r),
    // The exploration ran before the other checks, which alone runChecks times.
    elapsedMs: Math.round(r.elapsedMs + (r.explore?.elapsedMs ?? 0)),
    outcome: v.outcome,
    summary: v.summary,
    extent: v.extent,
    properties: v.properties,
    violations: r.violations.map((x) => ({
      invariant: x.invariant,
      kind: x.kind,
      mode: x.mode,
      steps: x.steps.length,
      path: x.path,
      replay: x.replay,
      // A walk's failing run, by its number in the seed's sequence (the first part of its path).
      ...(x.counterexamplePath ? { run: Number(x.counterexamplePath.split(':')[0]) } : {}),
    })),
    shard: { index: run.spec.index, count: run.spec.count, depth: run.spec.depth ?? null, prefix: run.prefix ?? null, runs: run.runs ?? null },
    config: r.model.config,
    unsatisfied: { explore: r.explore?.unsatisfied ?? null, walk: r.walk?.unsatisfied ?? null },
  };
}

export type ShardJson = ReturnType<typeof shardJson>;
