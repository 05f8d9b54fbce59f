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
  /** Walk only: the fast-check seed and shrunk path. */
  seed?: number;
  counterexamplePath?: string;
}
