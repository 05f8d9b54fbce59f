/** Runs the chosen checks on one model and gathers what they found, with coverage. */
import { coverage, machineGraph, NOT_MEASURED, type Coverage } from './coverage.js';
import { explore, type ExploreResult, type SearchOrder } from './explore.js';
import type { Model } from './model.js';
import { progressPrinter } from './progress.js';
import { replayCommand } from './replay-command.js';
import { notReachedReason } from './verdict.js';
import type { Violation } from './violation.js';
import { walk, type WalkResult } from './walk.js';

export interface CheckReport {
  model: Model;
  mode: 'explore' | 'walk' | 'both';
  explore?: ExploreResult;
  walk?: WalkResult;
  coverage: Coverage;
  violations: Violation[];
  elapsedMs: number;
  /** The --max-states limit the exploration ran under, if any. */
  maxStates?: number;
}

export interface RunOptions {
  mode: 'explore' | 'walk' | 'both';
  search?: SearchOrder;
  runs?: number;
  maxStates?: number;
  /** The exploration's hint of how many worlds it will find (ExploreOptions.expectStates). */
  expectStates?: number;
  seed?: number;
  path?: string;
  progress?: boolean;
  /** An exploration already run (on several threads, or a shard's): used instead of exploring again. */
  explored?: ExploreResult;
  /**
   * A shard of a split check (shard.ts): its walk takes the seed's runs from `firstRun` on, and
   * `sometimes` properties it did not reach are left to the merge of every shard.
   */
  shard?: { firstRun: number };
  /**
   * Keep looking after a violation, for each property not yet violated (default): an expected
   * liveness loss does not hide a safety bug. False: stop at the first.
   */
  all?: boolean;
  /** With `all`: stop once this property is violated (a buggy variant's named property). */
  until?: string;
}

export function runChecks(model: Model, options: RunOptions): CheckReport {
  const started = performance.now();
  const report: CheckReport = { model, mode: options.mode, maxStates: options.maxStates, coverage: NOT_MEASURED, violations: [], elapsedMs: 0 };
  const reached = new Set<string>();
  if (options.mode !== 'walk') {
    if (options.explored) report.explore = options.explored;
    else {
      const printer = options.progress ? progressPrinter(`explore ${model.protocol.name}`) : undefined;
      report.explore = explore(model, { search: options.search, maxStates: options.maxStates, expectStates: options.expectStates, onProgress: printer?.update, all: options.all ?? true, until: options.until });
      printer?.done();
    }
    report.violations.push(...report.explore.violations);
    report.explore.reached.forEach((t) => reached.add(t));
  }
  // Stopping at the first violation: a violation the exploration found ends the check.
  const done = options.all === false && report.violations.length > 0;
  if (options.mode !== 'explore' && !done) {
    report.walk = walk(model, { runs: options.runs, seed: options.seed, path: options.path, firstRun: options.shard?.firstRun, all: options.all ?? true, until: options.until });
    report.violations.push(...report.walk.violations);
    report.walk.reached.forEach((t) => reached.add(t));
  }
  report.coverage = coverage(machineGraph(model.variant.machine), reached);
  if (!options.path && !options.shard && report.violations.length === 0) report.violations.push(...unreached(report));
  report.elapsedMs = performance.now() - started;
  return report;
}

/**
 * `sometimes` properties that neither the exploration nor the walks reached: violations, each
 * saying what kept it from being a proof when the search did not reach every world.
 */
function unreached(report: CheckReport): Violation[] {
  const { model, explore: e, walk: w } = report;
  const notReached = notReachedReason(report);
  return model.protocol.properties
    .filter((p) => p.kind === 'sometimes' && (!e || e.unsatisfied.includes(p.name)) && (!w || w.unsatisfied.includes(p.name)))
    .map((p) => ({
      invariant: p.name,
      kind: p.kind,
      mode: e ? 'explore' : 'walk',
      path: [],
      steps: [],
      replay: e ? replayCommand(model, 'explore') + (e.search === 'dfs' ? ' --search dfs' : '') : replayCommand(model, 'walk', undefined, w!.seed),
      ...(notReached ? { notReached } : {}),
    }));
}
