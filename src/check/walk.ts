/**
 * Random exploration with fast-check: a run is an array of integers, each picking one of the
 * enabled choices (index modulo count). `always` properties are checked after every step; then a
 * fair, fault-free liveness phase must meet every `eventually` property. fast-check shrinks a
 * failing run to a minimal one; its seed and path replay it exactly.
 */
import fc from 'fast-check';
import type { Property } from '../protocol.js';
import { Simulator } from '../sim/simulator.js';
import { livenessPhase } from './liveness.js';
import type { Model } from './model.js';
import { replay } from './replay.js';
import { replayCommand } from './replay-command.js';
import type { Violation } from './violation.js';

export interface WalkOptions {
  runs?: number;
  /** Choices per run at most. */
  maxSteps?: number;
  seed?: number;
  /** fast-check's counterexample path, to replay one run. */
  path?: string;
  /** Skip the liveness phase. */
  safetyOnly?: boolean;
}

export interface WalkResult {
  runs: number;
  steps: number;
  elapsedMs: number;
  seed: number;
  violations: Violation[];
  reached: Set<string>;
  sim: Simulator;
}

interface RunOutcome {
  property: Property;
  /** Steps of the prefix before the violation (liveness violations: the whole prefix). */
  prefix: number;
  liveness: boolean;
}

function runOnce(sim: Simulator, choices: readonly number[], safetyOnly: boolean, sometimes: Set<Property>, counter: { steps: number }): RunOutcome | null {
  const always = sim.protocol.properties.filter((p) => p.kind === 'always');
  let world = sim.initial().world;
  const judge = (): Property | undefined => {
    const view = sim.view(world);
    for (const p of sometimes) if (p.holds(view)) sometimes.delete(p);
    return always.find((p) => !p.holds(view));
  };
  let bad = judge();
  if (bad) return { property: bad, prefix: 0, liveness: false };
  let taken = 0;
  for (const index of choices) {
    if (!sim.withinBounds(world)) break;
    const enabled = sim.enabled(world);
    if (!enabled.length) break;
    world = sim.step(world, enabled[index % enabled.length]).world;
    taken++;
    counter.steps++;
    bad = judge();
    if (bad) return { property: bad, prefix: taken, liveness: false };
  }
  if (safetyOnly) return null;
  const live = livenessPhase(sim, world, sim.config.livenessSteps);
  counter.steps += live.steps.length;
  return live.unmet.length ? { property: live.unmet[0], prefix: taken, liveness: true } : null;
}

export function walk(model: Model, options: WalkOptions = {}): WalkResult {
  const started = performance.now();
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const sometimes = new Set(model.protocol.properties.filter((p) => p.kind === 'sometimes'));
  const counter = { steps: 0 };
  const maxSteps = options.maxSteps ?? (model.config.maxDepth || 60);
  const safetyOnly = !!options.safetyOnly;
  const runs = options.runs ?? 300;
  const property = fc.property(fc.array(fc.nat({ max: 0xffff }), { maxLength: maxSteps }), (choices) => runOnce(sim, choices, safetyOnly, sometimes, counter) === null);
  const details = fc.check(property, { numRuns: runs, seed: options.seed, path: options.path });
  const violations: Violation[] = [];
  if (details.failed && details.counterexample) {
    const [choices] = details.counterexample;
    const outcome = runOnce(sim, choices, safetyOnly, new Set(), { steps: 0 })!;
    const path = choices.slice(0, outcome.prefix);
    const { steps } = replay(model, path, sim);
    const p = outcome.property;
    violations.push({
      invariant: p.name,
      kind: p.kind,
      mode: 'walk',
      path,
      steps,
      seed: details.seed,
      counterexamplePath: details.counterexamplePath ?? undefined,
      replay: replayCommand(model, 'walk', details.counterexamplePath ?? undefined, details.seed),
    });
  } else if (!options.path) {
    for (const p of sometimes) {
      violations.push({ invariant: p.name, kind: p.kind, mode: 'walk', path: [], steps: [], seed: details.seed, replay: replayCommand(model, 'walk', undefined, details.seed) });
    }
  }
  return {
    runs: details.numRuns,
    steps: counter.steps,
    elapsedMs: performance.now() - started,
    seed: details.seed,
    violations,
    reached: sim.stepper.reached,
    sim,
  };
}
