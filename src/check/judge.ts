/**
 * Judges each newly discovered world against a model's properties, for both search orders:
 * `always` properties in every world, `eventually` properties in quiescent worlds and after fair
 * phases, and which `sometimes` properties some world has satisfied. A violation is rebuilt by
 * replaying the choices that led to the world (and, for a fair phase, the phase after them).
 *
 * Fair phases (src/check/liveness.ts) run from every world with no message in flight (the moments
 * between exchanges, where the search's bounds cut nothing): fault-free, and under each fairness
 * the properties ask for (each set of f nodes crashed for good, cut off for good, cut off then
 * rejoining). So `eventually` does not depend on the world ever going quiet: a protocol whose
 * timers never stop (a follower always awaits its leader) is judged by where its fair runs get.
 */
import type { Property, WorldView } from '../protocol.js';
import type { Simulator } from '../sim/simulator.js';
import { inFlightCount, type World } from '../sim/world.js';
import type { SearchOrder } from './explore.js';
import { describeFairness, fairnessChoices, FAULT_FREE, goalsUnder, livenessPhase, reliablePast, type Fairness } from './liveness.js';
import type { Model } from './model.js';
import { replay } from './replay.js';
import { replayCommand } from './replay-command.js';
import type { Violation } from './violation.js';

export class Judge {
  readonly violations: Violation[] = [];
  /** Set once a violation is found, unless every violation is wanted. */
  stop = false;
  private readonly always: Property[];
  private readonly eventually: Property[];
  private readonly pendingSometimes: Set<Property>;
  private readonly failed = new Set<string>();
  /** Verdicts of history-only properties, per shared ghost history. */
  private readonly verdicts = new Map<Property, WeakMap<object, boolean>>();

  /** The command that replays a violation this judge reports. */
  readonly replayCommand: string;
  /** Fault-free first, then every fairness the properties ask for. */
  private readonly fairness: Fairness[];
  /** Worlds fair phases started from, and phases run. */
  readonly fair = { starts: 0, phases: 0, quiescent: 0 };

  constructor(private readonly model: Model, private readonly sim: Simulator, search: SearchOrder, private readonly all = false, private readonly until?: string) {
    this.replayCommand = replayCommand(model, 'explore') + (search === 'dfs' ? ' --search dfs' : '');
    const { properties } = model.protocol;
    this.always = properties.filter((p) => p.kind === 'always');
    this.eventually = properties.filter((p) => p.kind === 'eventually');
    this.pendingSometimes = new Set(properties.filter((p) => p.kind === 'sometimes'));
    this.fairness = this.eventually.length ? [FAULT_FREE, ...fairnessChoices(model.protocol, sim.n)] : [];
  }

  /** Checks `world`; `path` gives the choice indices that reach it, asked for only on a violation. */
  judge(world: World, path: () => number[]): void {
    // The simulator's reused view: nothing here keeps it past this call.
    const view = this.sim.view(world, true);
    for (let i = 0; i < this.always.length; i++) this.check(this.always[i], view, path);
    if (view.quiescent) {
      this.fair.quiescent++;
      for (const p of this.eventually) if (!p.rejoin && !p.tolerates && (!p.reliable || reliablePast(world))) this.check(p, view, path);
    }
    if (this.pendingSometimes.size) for (const p of this.pendingSometimes) if (p.holds(view)) this.pendingSometimes.delete(p);
    if (this.fairness.length && !this.stop && inFlightCount(world) === 0) this.fairPhases(world, path);
  }

  private check(p: Property, view: WorldView, path: () => number[]): void {
    if (this.failed.has(p.name) || this.holds(p, view)) return;
    this.failed.add(p.name);
    const choices = path();
    const { steps } = replay(this.model, choices, this.sim);
    this.violations.push({ invariant: p.name, kind: p.kind, mode: 'explore', path: choices, steps, replay: this.replayCommand });
    if (!this.all || p.name === this.until) this.stop = true;
  }

  /** Runs each fair phase from `world`; a property a phase leaves unmet is violated. */
  private fairPhases(world: World, path: () => number[]): void {
    this.fair.starts++;
    const { config, protocol } = this.model;
    for (const fairness of this.fairness) {
      const { goals, rejoin } = goalsUnder(protocol, this.sim.n, fairness, world);
      if (![...goals, ...rejoin].some((p) => !this.failed.has(p.name))) continue;
      this.fair.phases++;
      const live = livenessPhase(this.sim, world, config.livenessSteps, undefined, fairness);
      const unmet = live.unmet.filter((p) => !this.failed.has(p.name));
      if (!unmet.length) continue;
      const choices = path();
      const { steps } = replay(this.model, choices, this.sim);
      steps.push(...live.steps);
      for (const p of unmet) {
        this.failed.add(p.name);
        this.violations.push({ invariant: p.name, kind: p.kind, mode: 'explore', path: choices, steps, replay: this.replayCommand, fairness: describeFairness(fairness) });
      }
      if (!this.all || unmet.some((p) => p.name === this.until)) {
        this.stop = true;
        return;
      }
    }
  }

  /** Names of the `sometimes` properties no world judged so far satisfies. */
  get unsatisfied(): string[] {
    return [...this.pendingSometimes].map((p) => p.name);
  }

  /** Takes note of `sometimes` properties that worlds judged elsewhere (another thread) satisfy. */
  satisfiedElsewhere(names: Iterable<string>): void {
    const satisfied = new Set(names);
    for (const p of this.pendingSometimes) if (satisfied.has(p.name)) this.pendingSometimes.delete(p);
  }

  private holds(p: Property, view: WorldView): boolean {
    if (p.reads !== 'history') return p.holds(view);
    let memo = this.verdicts.get(p);
    if (!memo) this.verdicts.set(p, (memo = new WeakMap()));
    let verdict = memo.get(view.history);
    if (verdict === undefined) memo.set(view.history, (verdict = p.holds(view)));
    return verdict;
  }
}
