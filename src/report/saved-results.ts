/**
 * Check results read back from the `results.json` that `coordkit all` and `coordkit report`
 * write, so that a report renders without checking again. Counterexamples are stored as their
 * choice paths and replayed on the simulator to draw them; a path that no longer replays (the
 * protocol changed since) is an error that says to check again.
 */
import { existsSync, readFileSync } from 'node:fs';
import { NOT_MEASURED } from '../check/coverage.js';
import type { ExploreResult } from '../check/explore.js';
import { createModel } from '../check/model.js';
import type { CheckReport } from '../check/run-checks.js';
import type { reportJson } from '../check/summary.js';
import type { Violation } from '../check/violation.js';
import type { Protocol } from '../protocol.js';
import type { WalkResult } from '../check/walk.js';
import { followPath } from '../viewer/run-view.js';

type Saved = ReturnType<typeof reportJson>;

export class StaleResults extends Error {}

/** The reports saved in `file`, for the protocols given; undefined when there is no such file. */
export function loadSavedReports(file: string, protocols: readonly Protocol[]): CheckReport[] | undefined {
  if (!existsSync(file)) return undefined;
  let saved: Saved[];
  try {
    saved = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new StaleResults(`${file} is not readable JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(saved)) throw new StaleResults(`${file} is not a list of check results`);
  return saved.map((entry, i) => {
    const protocol = protocols.find((p) => p.name === entry?.primitive);
    if (!protocol) throw new StaleResults(`${file}[${i}] is about '${String(entry?.primitive)}', which is not among the protocols reported`);
    const variant = protocol.variants.find((v) => v.name === entry.variant);
    if (!variant) throw new StaleResults(`${file}[${i}]: ${protocol.name} has no variant '${String(entry.variant)}' any more`);
    const model = createModel(protocol, { variant: entry.variant, nodes: entry.nodes, network: entry.network, faults: entry.faults, params: entry.params });
    const violations: Violation[] = entry.violations.map((v) => {
      if (!Array.isArray(v.path)) throw new StaleResults(`${file} holds no counterexample paths (an older coordkit wrote it)`);
      const run = followPath(model, v.path);
      if (run.error) throw new StaleResults(`${file}: the counterexample of ${protocol.name} ${entry.variant} no longer replays (${run.error.split(';')[0]})`);
      return { invariant: v.invariant, kind: v.kind, mode: v.mode, path: v.path, steps: run.records, replay: v.replay, ...(v.notReached ? { notReached: v.notReached } : {}) };
    });
    const explore =
      entry.mode === 'walk'
        ? undefined
        : ({ search: entry.search ?? 'bfs', threads: entry.threads ?? 1, states: entry.states, transitions: entry.transitions, depth: entry.depth, elapsedMs: entry.elapsedMs, statesPerSecond: entry.statesPerSecond, complete: entry.complete, stopped: entry.stopped, cut: entry.cut ?? { inFlight: 0, round: 0, depth: 0 }, unsatisfied: violations.filter((v) => v.kind === 'sometimes' && v.mode === 'explore').map((v) => v.invariant), bounded: entry.bounded, violations: violations.filter((v) => v.mode === 'explore'), indexBytes: 0, reached: new Set() } as unknown as ExploreResult);
    const walk = entry.walk ? ({ ...entry.walk, elapsedMs: 0, violations: violations.filter((v) => v.mode === 'walk'), reached: new Set() } as unknown as WalkResult) : undefined;
    return {
      model,
      mode: entry.mode as CheckReport['mode'],
      explore,
      walk,
      coverage: entry.coverage.measured ? { measured: true, states: entry.coverage.states ?? 0, transitions: entry.coverage.transitions ?? 0, unreachedStates: [], unreachedTransitions: [] } : NOT_MEASURED,
      violations,
      elapsedMs: entry.elapsedMs,
      maxStates: entry.maxStates,
    };
  });
}
