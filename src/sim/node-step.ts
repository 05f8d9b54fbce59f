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
import { createActor, initialTransition, type AnyActorScope, type AnyStateMachine, type StateValue } from 'xstate';
import { effectsOf, flattenValue, type Effect } from '../machine-effects.js';
import type { NodeInput } from '../protocol.js';
import { canonical } from '../canonical.js';
import { Interner } from './interner.js';

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
  private readonly cache = new Map<string, NodeStepResult>();
  /** Node-level transitions reached, as `from|event|to` (for coverage). */
  readonly reached = new Set<string>();

  private readonly scope: AnyActorScope;
  private collected: unknown[] = [];

  constructor(readonly machine: AnyStateMachine, private readonly cacheLimit = 2_000_000) {
    const self = createActor(machine);
    this.scope = {
      self,
      defer: () => {},
      id: '',
      logger: () => {},
      sessionId: '',
      stopChild: () => {},
      system: self.system,
      emit: () => {},
      actionExecutor: (action: unknown) => {
        this.collected.push(action);
      },
    } as unknown as AnyActorScope;
  }

  /** The interned state with this value and context. */
  internState(value: StateValue, context: unknown): LocalState {
    const state = flattenValue(value);
    const key = state + '\u0001' + canonical(context);
    const candidate: LocalState = { id: this.states.size, state, value, context };
    return this.states.values[this.states.id(key, candidate)];
  }

  private check(snapshot: any, what: string): void {
    if (snapshot.status === 'error') throw new Error(`machine ${this.machine.id} failed on ${what}: ${snapshot.error}`);
  }

  /** The state a node starts in (or restarts in, with its durable context restored). */
  init(input: NodeInput): NodeStepResult {
    const key = 'init\u0001' + canonical(input);
    const hit = this.cache.get(key);
    if (hit) return hit;
    const [snapshot, actions] = initialTransition(this.machine, input);
    this.check(snapshot, 'init');
    const result = { next: this.internState(snapshot.value, snapshot.context), effects: effectsOf(actions) };
    this.cache.set(key, result);
    return result;
  }

  /** Feeds one event to a node. `eventKey` must identify the event exactly. */
  step(local: LocalState, event: { type: string }, eventKey: string): NodeStepResult {
    const key = local.id + '\u0001' + eventKey;
    const hit = this.cache.get(key);
    if (hit) return hit;
    const snapshot = this.machine.resolveState({ value: local.value, context: local.context });
    this.collected = [];
    const next = this.machine.transition(snapshot, event, this.scope);
    const actions = this.collected as Parameters<typeof effectsOf>[0];
    this.check(next, event.type);
    const result = { next: this.internState(next.value, next.context), effects: effectsOf(actions) };
    this.reached.add(local.state + '|' + event.type + '|' + result.next.state);
    if (this.cache.size >= this.cacheLimit) this.cache.clear();
    this.cache.set(key, result);
    return result;
  }
}

export { effectsOf, flattenValue, type Effect };
