/**
 * One node's pure step: the machine's transition on a snapshot rebuilt from (state value,
 * context), with the returned actions turned into plain effects. Results are memoized per
 * (node state, event): the function is pure, and node-local state spaces are far smaller than
 * the cluster's, so most cluster steps never re-run the machine.
 *
 * It does what xstate's `transition()` does, collecting the actions to execute instead of
 * running them, but with one inert actor scope for the stepper: `transition()` builds a new one
 * per call, constructing an actor and its initial snapshot each time, which cost more than the
 * step itself. Node machines spawn no children, so nothing lives in the shared scope.
 */
import { initialTransition, type AnyActorScope, type AnyStateMachine, type AnyStateNode, type AnyTransitionDefinition, type StateValue } from 'xstate';
import { coveredState, coveredTransition } from './covered.js';
import { effectsOf, flattenValue, type Effect } from '../machine-effects.js';
import type { NodeInput, Property, StepOutput } from '../protocol.js';
import { STEP_BROKEN } from '../step-property.js';
import { canonical } from '../canonical.js';
import { inertScope } from '../inert-scope.js';
import { Interner } from './interner.js';
import { freezeNew, thrownWhy } from '../freeze-new.js';

/** A node's machine state, interned: equal states share one object and one id. */
export interface LocalState {
  id: number;
  /** Flattened state value: `leader`, `candidate.pre`. */
  state: string;
  value: StateValue;
  context: any;
}

export interface NodeStepResult {
  next: LocalState;
  effects: Effect[];
}

export class NodeStepper {
  readonly states = new Interner<LocalState>();
  /** Event keys as small integers: a memoized step is found by (state, event id) without building a string. */
  private readonly events = new Interner<string>();
  private readonly inits = new Map<string, NodeStepResult>();
  /**
   * steps[state id][event id]: memoized steps from that state (kept here: interned states stay
   * plain data). Arrays, not maps: event ids are small and dense, and the explorer looks a step
   * up on every transition.
   */
  private steps: (NodeStepResult[] | undefined)[] = [];
  private cached = 0;
  /**
   * What the steps covered of the machine's definition, for coverage: every state node a node
   * was in or entered and every declared transition taken (see covered.ts). Recorded when a
   * step first runs, so memoized steps cost nothing here.
   */
  readonly reached = new Set<string>();

  private readonly scope: AnyActorScope;
  private collected: unknown[] = [];

  /** `stepProperties`: properties judged on each step (Property.step); a broken one adds a STEP_BROKEN note to the step's effects. */
  constructor(readonly machine: AnyStateMachine, private readonly cacheLimit = 2_000_000, private readonly stepProperties: readonly Property[] = []) {
    this.scope = inertScope(machine, (action) => this.collected.push(action));
  }

  /** The interned state with this value and context. */
  internState(value: StateValue, context: unknown): LocalState {
    const state = flattenValue(value);
    const key = state + '\u0001' + canonical(context);
    const candidate: LocalState = { id: this.states.size, state, value, context };
    const interned = this.states.values[this.states.id(key, candidate)];
    // Frozen as a node host freezes it (trace-context.ts): a machine that edits its context in
    // place fails here, on the step that does it, as it would fail in a node.
    if (interned === candidate) freezeNew(context);
    return interned;
  }

  private check(snapshot: any, what: string): void {
    if (snapshot.status === 'error') throw new Error(`machine ${this.machine.id} failed on ${what}: ${snapshot.error}`);
  }

  /** The state a node starts in (or restarts in, with its durable context restored). */
  init(input: NodeInput): NodeStepResult {
    const key = 'init\u0001' + canonical(input);
    const hit = this.inits.get(key);
    if (hit) return hit;
    const [snapshot, actions] = initialTransition(this.machine, input);
    this.check(snapshot, 'init');
    // The initial states, even those an eventless transition leaves at once.
    this.cover(snapshot, [], this.machine.root.initial?.target ?? []);
    const result = { next: this.internState(snapshot.value, snapshot.context), effects: effectsOf(actions) };
    this.inits.set(key, result);
    return result;
  }

  /** Records the transitions taken, the states they entered (even on the way), and the states now active. */
  private cover(snapshot: any, taken: readonly AnyTransitionDefinition[], entered: readonly AnyStateNode[] = []): void {
    for (const node of entered) this.reached.add(coveredState(node));
    for (const t of taken) {
      this.reached.add(coveredTransition(t));
      for (const target of t.target ?? []) this.reached.add(coveredState(target));
    }
    for (const node of snapshot._nodes as AnyStateNode[]) if (node.path.length) this.reached.add(coveredState(node));
  }

  /** The id of an event key: a string that identifies the event exactly. */
  eventId(eventKey: string): number {
    return this.events.id(eventKey, eventKey);
  }

  /** The memoized step of `local` on the event with this id, if it ran before. */
  memo(local: LocalState, eventId: number): NodeStepResult | undefined {
    const byEvent = this.steps[local.id];
    return byEvent === undefined ? undefined : byEvent[eventId];
  }

  /** Feeds one event to a node. `eventKey` must identify the event exactly. */
  step(local: LocalState, event: { type: string }, eventKey: string): NodeStepResult {
    const eventId = this.eventId(eventKey);
    return this.memo(local, eventId) ?? this.run(local, event, eventId);
  }

  /** Runs the machine on `event` (with id `eventId`) from `local`, and memoizes the result. */
  run(local: LocalState, event: { type: string }, eventId: number): NodeStepResult {
    const snapshot = this.machine.resolveState({ value: local.value, context: local.context });
    this.collected = [];
    let next;
    try {
      next = this.machine.transition(snapshot, event, this.scope);
    } catch (err) {
      throw new Error(`machine ${this.machine.id} threw on ${event.type}: ${thrownWhy(err)}`);
    }
    const actions = this.collected as Parameters<typeof effectsOf>[0];
    this.check(next, event.type);
    const result = { next: this.internState(next.value, next.context), effects: effectsOf(actions) };
    if (this.stepProperties.length) {
      const out: StepOutput = { sends: [], notes: [] };
      for (const e of result.effects) {
        if (e.kind === 'send') out.sends.push({ to: e.to, msg: e.msg });
        else if (e.kind === 'note') out.notes.push(e.note);
      }
      for (const p of this.stepProperties) {
        if (!p.step!(local, event, result.next, out)) result.effects.push({ kind: 'note', note: { type: STEP_BROKEN, property: p.name } });
      }
    }
    this.cover(next, this.machine.getTransitionData(snapshot, event as never));
    if (this.cached >= this.cacheLimit) {
      this.steps = [];
      this.cached = 0;
    }
    (this.steps[local.id] ??= [])[eventId] = result;
    this.cached++;
    return result;
  }
}

export { effectsOf, flattenValue, type Effect };
