/** A property found violated, with the run that shows it. */
import type { Property } from '../protocol.js';
import type { StepRecord } from '../sim/simulator.js';

export interface Violation {
  invariant: string;
  kind: Property['kind'];
  mode: 'explore' | 'walk';
  /** Indices into the enabled choices, one per step, from the initial world. */
  path: number[];
  /** What each step did (initial node starts excluded). */
  steps: StepRecord[];
  /** The command that replays it. */
  replay: string;
  /**
   * A `sometimes` property no searched world satisfied, from a search that did not reach every
   * world: what kept it from being a proof (the bound or limit, and the flag that raises it).
   * Absent when the search was exhaustive: then no reachable world satisfies it.
   */
  notReached?: string;
  /** A liveness violation: the fairness of the fair phase that ends the run, in words. */
  fairness?: string;
  /** Walk only: the fast-check seed and shrunk path. */
  seed?: number;
  counterexamplePath?: string;
}
