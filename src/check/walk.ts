/**
 * Random exploration with fast-check: a run is a swarm profile and an array of integers, each
 * picking one of the enabled choices (index modulo count); half the profiles inject faults at
 * dangerous moments (`buggify`). `always` properties are checked after every step, `eventually`
 * ones in every quiescent world with every node up; then a fair, fault-free liveness phase must
 * meet every `eventually` property. Walks are bounded by
 * their length only, not by the explorer's round and in-flight bounds. fast-check shrinks a
 * failing run to a minimal one; its seed and path replay it exactly.
 */
import fc from 'fast-check';
import { canonical } from '../canonical.js';
import type { NodeId, Property } from '../protocol.js';
import { Simulator } from '../sim/simulator.js';
import { describeFairness, fairnessChoices, FAULT_FREE, livenessPhase, reliablePast, type Fairness } from './liveness.js';
import type { Model } from './model.js';
import type { Choice, ChoiceKind } from '../sim/choice.js';
import type { StepRecord } from '../sim/simulator.js';
import type { World } from '../sim/world.js';
import { replayCommand } from './replay-command.js';
import type { Violation } from './violation.js';

/** Runs of a walk unless told otherwise. */
export const DEFAULT_RUNS = 1000;

export interface WalkOptions {
  runs?: number;
  /** Choices per run at most. */
  maxSteps?: number;
  seed?: number;
  /**
   * fast-check's counterexample path, to replay exactly that run (no other run is tried, nothing
   * is shrunk). With `all`, the run is judged again without each property it violated, so every
   * property it violates is reported, each at the step where it first fails: a violation found by
   * an `all` search (others excluded) replays even when the same run breaks another property first.
   */
  path?: string;
  /** Start the seed's sequence of runs at this one (a shard's block of runs); the first violation ends the walk. Ignored with `path`. */
  firstRun?: number;
  /** Skip the liveness phase. */
  safetyOnly?: boolean;
  /** Shrink a failing run to a minimal one (default); off, the first failing run is reported as found. */
  shrink?: boolean;
  /**
   * Keep looking past a violation: the same seed's runs are walked again without the violated
   * property, until every property is violated or the runs are spent. Off: the first violation ends the walk.
   */
  all?: boolean;
  /** With `all`: stop once this property is violated. */
  until?: string;
}

export interface WalkResult {
  runs: number;
  /** One run replayed by its `path`, judged again without each property it broke. */
  replay: boolean;
  steps: number;
  elapsedMs: number;
  seed: number;
  violations: Violation[];
  /** `sometimes` properties no run reached. */
  unsatisfied: string[];
  /** For each violated property, the runs it took to find it (the failing run included). */
  runsToFind: Record<string, number>;
  reached: Set<string>;
  sim: Simulator;
}

interface RunOutcome {
  property: Property;
  /** Steps of the prefix before the violation (liveness violations: the whole prefix). */
  prefix: number;
  liveness: boolean;
  /** The fair phase's fairness, for a liveness violation. */
  fairness?: Fairness;
}

/** Choice kinds a swarm profile can mute (deliveries never are). */
const MUTABLE: readonly ChoiceKind[] = ['timer', 'client', 'drop', 'duplicate', 'crash', 'restart', 'partition', 'heal'];
/** Profile bit: prefer deliveries on three steps out of four, as a fair network would. */
const DELIVERY_BIAS = 1 << MUTABLE.length;
/** Profile bit: inject faults at dangerous moments (see `buggify`), at one of four rates. */
const BUGGIFY = DELIVERY_BIAS << 1;
const RATE_SHIFT = MUTABLE.length + 2;
const PROFILES = 1 << (RATE_SHIFT + 2);
/** The kinds buggify injects, as swarm mute bits. */
const INJECTED = (['crash', 'drop', 'duplicate'] as const).reduce((bits, kind) => bits | (1 << MUTABLE.indexOf(kind)), 0);

/**
 * Swarm testing (Groce et al. 2012): each run mutes a random subset of choice kinds, so that
 * some runs are all deliveries and duplications, others all crashes and timeouts; some runs
 * also favour deliveries. A muted kind is still taken when nothing else is enabled.
 */
function swarm(enabled: Choice[], profile: number, index: number): Choice[] {
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

/** The node whose last step made it a target for fault injection, and why. */
interface Hot {
  node: NodeId;
  /** Its durable part changed: a crash now tests what it wrote. */
  wrote: boolean;
}

/**
 * Fault injection biased toward the moments where crash bugs hide, as FoundationDB's buggify
 * and TigerBeetle's VOPR do: right after a node wrote durable state, between a message sent and
 * its answer (the sender crashes, or the message is lost or doubled), while a round is under way
 * (another node's timer fires into it) and while a node is down (it comes back soon, into the
 * round it left). A random crash rarely lands there: most steps are deliveries, and a run has a
 * small crash budget, which a crash at a quiet moment spends for nothing; so in a buggify run
 * only buggify crashes, drops and duplicates. The run's integers decide, so a seed replays
 * exactly; the profile's rate (1/2 to 1/16 of the moments after a durable write, half that after
 * a send alone) varies where the first fault lands from run to run. After a step that let its
 * messages leave before its flush (Variant.beforeFlush), half of those crashes land before that
 * flush. Muted kinds do not apply: buggify picks from every enabled choice.
 */
function buggify(enabled: Choice[], profile: number, index: number, hot: Hot | null): Choice | undefined {
  const roll = index >>> 12;
  const rate = 8 >> ((profile >> RATE_SHIFT) & 3);
  const at = (pool: Choice[]) => (pool.length ? pool[(index >>> 2) % pool.length] : undefined);
  if (hot && roll < (hot.wrote ? rate : rate >> 1 || 1)) {
    const node = hot.node;
    // A crash before the flush of what it let leave early, if it may come: the likeliest of all to bite.
    const lost = hot.wrote ? enabled.find((c) => c.kind === 'crash' && c.node === node && c.lost) : undefined;
    if (lost && roll & 1) return lost;
    const injected = at(enabled.filter((c) => (c.kind === 'crash' && c.node === node) || ((c.kind === 'drop' || c.kind === 'duplicate') && c.from === node)));
    if (injected) return injected;
  }
  // A round under way: another node's timer fires into it (a rival election, a retry).
  if (hot && roll >= 14) {
    const node = hot.node;
    const rival = at(enabled.filter((c) => c.kind === 'timer' && c.node !== node));
    if (rival) return rival;
  }
  if (roll >= 4) return at(enabled.filter((c) => c.kind === 'restart'));
  return undefined;
}

/**
 * One run's walker: picks the step each integer names and remembers which node is at a
 * dangerous moment. Runs and their replays both go through it, so they take the same steps.
 */
class Walker {
  world: World;
  private hot: Hot | null = null;

  constructor(private readonly sim: Simulator, private readonly profile: number) {
    this.world = sim.initial().world;
  }

  /** Takes the step `index` picks; undefined when nothing is enabled. */
  step(index: number, enabled = this.sim.enabled(this.world)): { choice: Choice; record: StepRecord } | undefined {
    const { sim, profile } = this;
    const forced = profile & BUGGIFY ? buggify(enabled, profile, index, this.hot) : undefined;
    // In a buggify run, budgeted faults are buggify's to place: a random one would spend the budget.
    const pool = forced ? [forced] : swarm(enabled, profile & BUGGIFY ? (profile & (BUGGIFY - 1)) | INJECTED : profile, index);
    if (!pool.length) return undefined;
    const choice = forced ?? pool[(index >>> 2) % pool.length];
    const before = this.world;
    const { world, record } = sim.step(before, choice);
    this.world = world;
    this.hot = profile & BUGGIFY ? hotAfter(sim, before, world, record) : null;
    return { choice, record };
  }
}

/** The node a step leaves at a dangerous moment: it wrote durable state or sent a message. */
function hotAfter(sim: Simulator, before: World, after: World, record: StepRecord): Hot | null {
  const node = record.node;
  if (node === undefined) return null;
  const was = before.nodes[node - 1].local;
  const now = after.nodes[node - 1].local;
  if (!now) return null;
  const wrote = !was || canonical(sim.variant.durable(was.context)) !== canonical(sim.variant.durable(now.context));
  return wrote || record.sends.length ? { node, wrote } : null;
}

/** One run; properties in `excluded` (already violated) are not judged. */
function runOnce(sim: Simulator, profile: number, choices: readonly number[], safetyOnly: boolean, sometimes: Set<Property>, counter: { steps: number }, fairness: Fairness | undefined, excluded: ReadonlySet<Property>): RunOutcome | null {
  const judged = sim.protocol.properties.filter((p) => !excluded.has(p));
  const always = judged.filter((p) => p.kind === 'always');
  // Those that tolerate nodes down, judge a rejoin or assume reliable links are judged by the fair phases.
  const eventually = judged.filter((p) => p.kind === 'eventually' && !p.rejoin && !p.tolerates);
  const walker = new Walker(sim, profile);
  // `eventually` properties hold in every quiescent world, as the explorer judges them; a walk
  // judges those where every node is up and no link is cut (the liveness phase judges the rest
  // once it has restarted and healed them).
  const judge = (): Property | undefined => {
    const world = walker.world;
    const view = sim.view(world);
    for (const p of sometimes) if (p.holds(view)) sometimes.delete(p);
    const bad = always.find((p) => !p.holds(view));
    if (bad || !view.quiescent || world.partition !== 0 || !view.nodes.every((v) => v.up)) return bad;
    return eventually.find((p) => (!p.reliable || reliablePast(world)) && !p.holds(view));
  };
  let bad = judge();
  if (bad) return { property: bad, prefix: 0, liveness: false };
  let taken = 0;
  for (const index of choices) {
    if (!walker.step(index)) break;
    taken++;
    counter.steps++;
    bad = judge();
    if (bad) return { property: bad, prefix: taken, liveness: false };
  }
  if (safetyOnly) return null;
  // Fault-free first, then under the fairness this run picked (some nodes kept down).
  for (const f of fairness ? [FAULT_FREE, fairness] : [FAULT_FREE]) {
    const live = livenessPhase(sim, walker.world, sim.config.livenessSteps, sometimes, f);
    counter.steps += live.steps.length;
    const unmet = live.unmet.filter((p) => !excluded.has(p));
    if (unmet.length) return { property: unmet[0], prefix: taken, liveness: true, fairness: f };
  }
  return null;
}

/** The run's steps, the same run as plain indices into the full enabled lists, and where it ends. */
function replaySwarm(sim: Simulator, profile: number, choices: readonly number[]): { steps: StepRecord[]; path: number[]; world: World } {
  const walker = new Walker(sim, profile);
  const steps: StepRecord[] = [];
  const path: number[] = [];
  for (const index of choices) {
    // Choices are fresh objects on every call: find the pick in the same list it came from.
    const enabled = sim.enabled(walker.world);
    const picked = walker.step(index, enabled);
    if (!picked) break;
    path.push(enabled.indexOf(picked.choice));
    steps.push(picked.record);
  }
  return { steps, path, world: walker.world };
}

export function walk(model: Model, options: WalkOptions = {}): WalkResult {
  const started = performance.now();
  const sim = new Simulator(model.protocol, model.variant, model.config);
  const sometimes = new Set(model.protocol.properties.filter((p) => p.kind === 'sometimes'));
  const counter = { steps: 0 };
  const maxSteps = options.maxSteps ?? Math.max(model.config.maxDepth, 60);
  const safetyOnly = !!options.safetyOnly;
  const runs = options.runs ?? DEFAULT_RUNS;
  const fairness = fairnessChoices(model.protocol, sim.n);
  const run = fc.tuple(fc.noBias(fc.nat({ max: PROFILES - 1 })), fc.array(fc.nat({ max: 0xffff }), { minLength: Math.min(maxSteps, 8), maxLength: maxSteps, size: 'max' }), fc.nat({ max: Math.max(0, fairness.length - 1) }));
  const violations: Violation[] = [];
  const excluded = new Set<Property>();
  const runsToFind: Record<string, number> = {};
  const judged = model.protocol.properties.filter((p) => p.kind !== 'sometimes' && !(safetyOnly && p.kind === 'eventually')).length;
  let details: fc.RunDetails<[[number, number[], number]]>;
  let seed = options.seed;
  let numRuns = 0;
  const replay = options.path !== undefined;
  // fast-check's path of one number starts its sequence of runs there.
  const from = options.path ?? (options.firstRun === undefined ? undefined : String(options.firstRun));
  // A shard's block ends at its first violation; a replay and a whole walk go on past each one.
  const goOn = options.all && (replay || options.firstRun === undefined);
  // One search per violated property: the next one looks only for properties not yet violated.
  do {
    const property = fc.property(run, ([profile, choices, fair]) => runOnce(sim, profile, choices, safetyOnly, sometimes, counter, fairness[fair], excluded) === null);
    details = fc.check(property, { numRuns: replay ? 1 : runs, seed, path: from, endOnFailure: replay || options.shrink === false });
    seed = details.seed;
    numRuns += details.numRuns;
    if (!details.failed || !details.counterexample) break;
    const [[profile, choices, fair]] = details.counterexample;
    const outcome = runOnce(sim, profile, choices, safetyOnly, new Set(), { steps: 0 }, fairness[fair], excluded)!;
    const { steps, path, world } = replaySwarm(sim, profile, choices.slice(0, outcome.prefix));
    // A liveness violation shows the fair phase too: what the cluster did instead of converging.
    if (outcome.liveness) steps.push(...livenessPhase(sim, world, sim.config.livenessSteps, undefined, outcome.fairness).steps);
    const p = outcome.property;
    violations.push({
      invariant: p.name,
      kind: p.kind,
      mode: 'walk',
      path,
      steps,
      ...(outcome.fairness?.down.length ? { fairness: describeFairness(outcome.fairness) } : {}),
      seed: details.seed,
      counterexamplePath: details.counterexamplePath ?? undefined,
      replay: replayCommand(model, 'walk', details.counterexamplePath ?? undefined, details.seed),
    });
    excluded.add(p);
    runsToFind[p.name] = details.numRuns;
  } while (goOn && excluded.size < judged && !(options.until && options.until in runsToFind));
  return {
    runs: replay ? 1 : numRuns,
    replay,
    steps: counter.steps,
    elapsedMs: performance.now() - started,
    seed: seed!,
    violations,
    unsatisfied: [...sometimes].map((p) => p.name),
    runsToFind,
    reached: sim.stepper.reached,
    sim,
  };
}
