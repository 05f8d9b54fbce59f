/**
 * Random exploration with fast-check: a run is a swarm profile and an array of integers, each
 * picking one of the enabled choices (index modulo count). `always` properties are checked after every step; then a
 * fair, fault-free liveness phase must meet every `eventually` property. Walks are bounded by
 * their length only, not by the explorer's round and in-flight bounds. fast-check shrinks a
 * failing run to a minimal one; its seed and path replay it exactly.
 */
import fc from 'fast-check';
import type { Property } from '../protocol.js';
import { Simulator } from '../sim/simulator.js';
import { livenessPhase } from './liveness.js';
import type { Model } from './model.js';
import type { Choice, ChoiceKind } from '../sim/choice.js';
import type { StepRecord } from '../sim/simulator.js';
import type { World } from '../sim/world.js';
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
  /** Shrink a failing run to a minimal one (default); off, the first failing run is reported as found. */
  shrink?: boolean;
}

export interface WalkResult {
  runs: number;
  steps: number;
  elapsedMs: number;
  seed: number;
  violations: Violation[];
  /** `sometimes` properties no run reached. */
  unsatisfied: string[];
  reached: Set<string>;
  sim: Simulator;
}

interface RunOutcome {
  property: Property;
  /** Steps of the prefix before the violation (liveness violations: the whole prefix). */
  prefix: number;
  liveness: boolean;
}

/** Choice kinds a swarm profile can mute (deliveries never are). */
const MUTABLE: readonly ChoiceKind[] = ['timer', 'client', 'drop', 'duplicate', 'crash', 'restart', 'partition', 'heal'];
/** Profile bit: prefer deliveries on three steps out of four, as a fair network would. */
const DELIVERY_BIAS = 1 << MUTABLE.length;
const PROFILES = DELIVERY_BIAS << 1;

/**
 * Swarm testing (Groce et al. 2012): each run mutes a random subset of choice kinds, so that
 * some runs are all deliveries and duplications, others all crashes and timeouts; some runs
 * also favour deliveries. A muted kind is still taken when nothing else is enabled.
 */
function swarm(enabled: Choice[], profile: number, index: number): Choice[] {
  if (profile === 0) return enabled;
  let kept = enabled.filter((c) => {
    const bit = MUTABLE.indexOf(c.kind);
    return bit < 0 || ((profile >> bit) & 1) === 0;
  });
  if (profile & DELIVERY_BIAS && index % 4 !== 0) {
    const deliveries = kept.filter((c) => c.kind === 'deliver');
    if (deliveries.length) kept = deliveries;
  }
  return kept.length ? kept : enabled;
}

/** The step a run's integer picks. */
function pick(sim: Simulator, world: World, profile: number, index: number, enabled = sim.enabled(world)): { choice: Choice; next: World; record: StepRecord } | undefined {
  const pool = swarm(enabled, profile, index);
  if (!pool.length) return undefined;
  const choice = pool[(index >>> 2) % pool.length];
  const { world: next, record } = sim.step(world, choice);
  return { choice, next, record };
}

function runOnce(sim: Simulator, profile: number, choices: readonly number[], safetyOnly: boolean, sometimes: Set<Property>, counter: { steps: number }): RunOutcome | null {
  const always = sim.protocol.properties.filter((p) => p.kind === 'always');
  const eventually = sim.protocol.properties.filter((p) => p.kind === 'eventually');
  let world = sim.initial().world;
  // `eventually` properties hold in every quiescent world, as the explorer judges them; a walk
  // judges those where every node is up and no link is cut (the liveness phase judges the rest
  // once it has restarted and healed them).
  const judge = (): Property | undefined => {
    const view = sim.view(world);
    for (const p of sometimes) if (p.holds(view)) sometimes.delete(p);
    const bad = always.find((p) => !p.holds(view));
    if (bad || !view.quiescent || world.partition !== 0 || !view.nodes.every((v) => v.up)) return bad;
    return eventually.find((p) => !p.holds(view));
  };
  let bad = judge();
  if (bad) return { property: bad, prefix: 0, liveness: false };
  let taken = 0;
  for (const index of choices) {
    const picked = pick(sim, world, profile, index);
    if (!picked) break;
    world = picked.next;
    taken++;
    counter.steps++;
    bad = judge();
    if (bad) return { property: bad, prefix: taken, liveness: false };
  }
  if (safetyOnly) return null;
  const live = livenessPhase(sim, world, sim.config.livenessSteps, sometimes);
  counter.steps += live.steps.length;
  return live.unmet.length ? { property: live.unmet[0], prefix: taken, liveness: true } : null;
}

/** The run's steps, the same run as plain indices into the full enabled lists, and where it ends. */
function replaySwarm(sim: Simulator, profile: number, choices: readonly number[]): { steps: StepRecord[]; path: number[]; world: World } {
  let world = sim.initial().world;
  const steps: StepRecord[] = [];
  const path: number[] = [];
  for (const index of choices) {
    // Choices are fresh objects on every call: find the pick in the same list it came from.
    const enabled = sim.enabled(world);
    const picked = pick(sim, world, profile, index, enabled);
    if (!picked) break;
    path.push(enabled.indexOf(picked.choice));
    world = picked.next;
    steps.push(picked.record);
  }
  return { steps, path, world };
}

export function walk(model: Model, options: WalkOptions = {}): WalkResult {
  const started = performance.now();
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const sometimes = new Set(model.protocol.properties.filter((p) => p.kind === 'sometimes'));
  const counter = { steps: 0 };
  const maxSteps = options.maxSteps ?? Math.max(model.config.maxDepth, 60);
  const safetyOnly = !!options.safetyOnly;
  const runs = options.runs ?? 1000;
  const run = fc.tuple(fc.nat({ max: PROFILES - 1 }), fc.array(fc.nat({ max: 0xffff }), { minLength: Math.min(maxSteps, 8), maxLength: maxSteps, size: 'max' }));
  const property = fc.property(run, ([profile, choices]) => runOnce(sim, profile, choices, safetyOnly, sometimes, counter) === null);
  const details = fc.check(property, { numRuns: runs, seed: options.seed, path: options.path, endOnFailure: options.shrink === false });
  const violations: Violation[] = [];
  if (details.failed && details.counterexample) {
    const [[profile, choices]] = details.counterexample;
    const outcome = runOnce(sim, profile, choices, safetyOnly, new Set(), { steps: 0 })!;
    const { steps, path, world } = replaySwarm(sim, profile, choices.slice(0, outcome.prefix));
    // A liveness violation shows the fair phase too: what the cluster did instead of converging.
    if (outcome.liveness) steps.push(...livenessPhase(sim, world, sim.config.livenessSteps).steps);
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
  }
  return {
    runs: details.numRuns,
    steps: counter.steps,
    elapsedMs: performance.now() - started,
    seed: details.seed,
    violations,
    unsatisfied: [...sometimes].map((p) => p.name),
    reached: sim.stepper.reached,
    sim,
  };
}
