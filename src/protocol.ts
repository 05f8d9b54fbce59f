/**
 * The contract between a primitive and the kit. A primitive is one XState v5 machine per node
 * plus named invariants; hosts (the simulator, the timed simulator, the TCP runtime) feed it
 * events and interpret the actions it returns. Nothing in src/ names a primitive.
 */
import type { AnyStateMachine } from 'xstate';

/**
 * Nodes are numbered 1..n, as in the seed's Node1..Node5 (n at most MAX_NODES = 32).
 * @TJS-type integer
 * @minimum 1
 * @maximum 32
 */
export type NodeId = number;

/**
 * Node ids (the item bounds repeat NodeId's).
 * @items.type integer
 * @items.minimum 1
 * @items.maximum 32
 */
export type NodeIdList = NodeId[];

/** What a machine emits with `emit({ type: 'send', to, msg })`: `to` is a node or every other node. */
export interface SendEmit<M = unknown> {
  type: 'send';
  to: NodeId | 'others';
  msg: M;
}

/**
 * What a machine emits with `emit({ type: 'note', note })`: an observable fact (elected, decided,
 * entered critical section, ...). Notes form the ghost history invariants speak of, appear in
 * traces, and are what the runtime reports back to clients.
 */
export interface NoteEmit<N = unknown> {
  type: 'note';
  note: N;
}

/** Input every node machine receives: its own id, the cluster size, what survived a crash. */
export interface NodeInput<D = object> {
  id: NodeId;
  n: number;
  /** The durable part of the context, present after a restart. */
  restored?: D;
}

/** A node as invariants and client generators see it. */
export interface NodeView<C = any> {
  id: NodeId;
  /** The machine's state value, flattened to a dotted string (`leader`, `candidate.pre`). */
  state: string;
  context: C;
  up: boolean;
  /**
   * Client requests this node has received, when the model counts them (the checker, for a
   * protocol with a client generator); absent where they are not counted (a real trace).
   */
  requests?: number;
}

/** A note together with the node that emitted it. */
export interface GhostNote<N = any> {
  node: NodeId;
  note: N;
}

/** An in-flight message. */
export interface InFlight<M = any> {
  from: NodeId;
  to: NodeId;
  msg: M;
}

/** What an invariant reads: every node, the ghost history, the network. */
export interface WorldView<C = any, N = any, M = any> {
  n: number;
  nodes: NodeView<C>[];
  /** Every note ever emitted, in emission order (duplicates of the same fact kept once). */
  history: GhostNote<N>[];
  inFlight: InFlight<M>[];
  /** No message in flight and no timer pending: nothing can happen without a client. */
  quiescent: boolean;
}

/** Nodes cut off by a partition that healed, with the worlds at the cut and at the heal. */
export interface Rejoin<V extends WorldView = WorldView> {
  nodes: NodeId[];
  cut: V;
  heal: V;
}

/**
 * A named property. `always`: holds in every reachable world. `sometimes`: holds in at least
 * one (catches a vacuous model). `eventually`: holds in every quiescent world and comes to hold
 * in every fair liveness phase (src/check/liveness.ts), under the fairness it tolerates.
 */
export interface Property<V extends WorldView = WorldView> {
  name: string;
  kind: 'always' | 'sometimes' | 'eventually';
  /**
   * True when the property holds in this world. `rejoin`: for a `rejoin` property, the nodes that
   * were cut off and the worlds when they were cut off and when they came back (absent
   * elsewhere: such a property then holds).
   */
  holds(world: V, rejoin?: Rejoin<V>): boolean;
  /**
   * `eventually` only: how many nodes may stay down for good (crashed, or cut off by a partition
   * that never heals) with the property still required of the others, who see them as down: a
   * majority protocol tolerates ⌊(n − 1)/2⌋. The checker chooses which nodes and when.
   */
  tolerates?(n: number): number;
  /**
   * `eventually` with `tolerates` only: judged when nodes cut off come back. The checker keeps
   * them cut off until the others satisfy every property that tolerates them, heals, runs fairly
   * a while, then asks `holds(end, { nodes, cut, heal })`.
   */
  rejoin?: boolean;
  /**
   * `eventually` only: the property assumes reliable links and crash-stop failures, as the
   * consensus literature's termination does; judged only after runs that lost no message, cut no
   * link and crashed no node (the nodes a fair phase keeps down are the crashed ones).
   */
  reliable?: boolean;
  /**
   * `history` when the property reads nothing but the ghost history (and the model's fixed set
   * of node ids): the explorer then judges it once per distinct history (worlds share
   * histories), not once per world.
   */
  reads?: 'history';
  /**
   * `always` only: a property of each node step (see src/step-property.ts, which builds such
   * properties): true when the step from `before` on `event` to `after`, sending and noting
   * `out`, obeys it. Every step a node's machine takes is judged; a broken one enters the ghost
   * history.
   */
  step?(before: NodeStep, event: { type: string }, after: NodeStep, out: StepOutput): boolean;
}

/** What one node step sent and noted. */
export interface StepOutput<M = any, N = any> {
  sends: { to: NodeId | 'others'; msg: M }[];
  notes: N[];
}

/** A node's machine state before or after one step, as a step property sees it. */
export interface NodeStep<C = any> {
  /** The state value, flattened as in NodeView. */
  state: string;
  context: C;
}

/** Client requests a node may receive in a world, given how many it has already received. */
export type ClientGenerator<C = any> = (node: NodeView<C>, used: number, config: ProtocolConfig) => { type: string }[];

/** A named variant of a primitive's machine. Buggy ones name the invariant they break. */
export interface Variant {
  name: string;
  description: string;
  /** The invariant a checker must find violated; absent for correct variants. */
  breaks?: string;
  /** The smallest configuration that reveals the bug (merged over the defaults). */
  reveal?: Partial<CheckConfig>;
  machine: AnyStateMachine;
  /** Picks the durable part of a context: what survives a crash. */
  durable(context: any): object;
  /**
   * Message and note types the machine may let leave before the state of the step that emits
   * them is on disk (a leader's accept request, sent while its own acceptance is written: one
   * flush off the critical path). The TCP host sends a step's messages and notes before its
   * flush when every one of them is listed (and nothing of an earlier step still waits); the
   * checker then lets a crash land before that flush (`crash N before its last write reached the
   * disk`), restarting the node from the state on disk before the step, with what it sent
   * already out. Absent: every send waits for its step's flush.
   */
  beforeFlush?: { sends?: readonly string[]; notes?: readonly string[] };
}

export type NetworkName = 'fifo' | 'unordered' | 'unordered-duplicating';
export const NETWORKS: readonly NetworkName[] = ['fifo', 'unordered', 'unordered-duplicating'];
export type FaultName = 'loss' | 'dup' | 'crash' | 'partition';
export const FAULTS: readonly FaultName[] = ['loss', 'dup', 'crash', 'partition'];

/** Everything that fixes one finite model of a primitive. */
export interface CheckConfig {
  nodes: number;
  variant: string;
  network: NetworkName;
  faults: FaultName[];
  /** Worlds where some node's round (term, generation, ...) exceeds this are not expanded. */
  maxRound: number;
  /** Worlds with more messages in flight than this are not expanded. */
  maxInFlight: number;
  maxCrashes: number;
  maxDrops: number;
  maxDuplicates: number;
  maxPartitions: number;
  /** Reduce by symmetry when the primitive declares its node ids interchangeable (up to 4 nodes). */
  symmetry: boolean;
  /** Exploration depth bound (0: none). */
  maxDepth: number;
  /** Steps of the fair, fault-free liveness phase after a walk. */
  livenessSteps: number;
  /** Primitive-specific knobs (e.g. which nodes propose, requests per node). */
  params: Record<string, unknown>;
}

/** The part of a CheckConfig that a primitive's own hooks read. */
export type ProtocolConfig = Pick<CheckConfig, 'nodes' | 'params'>;

/** Named scenario for timed simulation and the runtime (see src/sim/timed.ts). */
export interface ScenarioRef {
  name: string;
  description: string;
  file: string;
}

/**
 * A parameter a primitive reads from `config.params`, declared so that `--param NAME=VALUE` is
 * checked when given (a bad value is a usage error, not a vacuous run). `int`: a whole number;
 * `ints`: comma-separated whole numbers; bounds apply to each number, `'nodes'` meaning the
 * model's node count.
 */
export interface ParamSpec {
  type: 'int' | 'ints' | 'string' | 'boolean';
  min?: number;
  max?: number | 'nodes';
  description: string;
}

/** A primitive: its machine and variants, messages, properties, and defaults. */
export interface Protocol {
  name: string;
  description: string;
  /** Variants by name; `defaultVariant` is the verified one. */
  variants: Variant[];
  defaultVariant: string;
  properties: Property[];
  defaults: Partial<CheckConfig>;
  /**
   * Defaults that depend on the node count (applied over `defaults`): a bound that fits 3 nodes,
   * such as the messages one broadcast puts in flight, may cut every run of 6 short.
   */
  defaultsFor?(nodes: number): Partial<CheckConfig>;
  /** The params `--param` may set, with their types; undeclared ones are taken as JSON. */
  params?: Record<string, ParamSpec>;
  /**
   * Bounds that replace the defaults when fault injection is on: every fault kind multiplies
   * the space, so a depth bound usually joins the round and in-flight bounds.
   */
  faultBounds?: Partial<CheckConfig>;
  /**
   * Further configurations the default check runs besides the default model: the smallest in
   * which a family of bugs bites (4 nodes, where self plus one vote is no longer a majority; a
   * retry round; a third proposer), each with its own bounds. `coordkit check` runs them for the
   * verified variant when no option shapes the model; `npm start` explores them.
   */
  alsoCheck?: { why: string; config: Partial<CheckConfig> }[];
  /**
   * Note types kept in the ghost history the properties read (default: all). Other notes still
   * reach traces and clients but do not make worlds distinct.
   */
  ghost?: string[];
  /**
   * The part of the ghost history the properties need, as a subset of it: the search keeps
   * only that, so worlds that differ in history the properties cannot tell apart are one world.
   * Machines never read the history, so this changes no behaviour; it is sound when every
   * property gives the same verdict on the summary as on the whole history, now and after any
   * later notes (keep, say, the largest grant rather than every grant). Tests can compare a
   * search with and without it.
   */
  ghostSummary?(history: GhostNote[]): GhostNote[];
  /**
   * Client requests enabled at a node, given how many it has received: each node's count is
   * part of every world, so that a generator can bound them (one proposal per node).
   */
  clients?: ClientGenerator;
  /**
   * Moves a node may make on its own whenever its state allows (TLA+'s actions that receive no
   * message: a resource manager preparing, a coordinator giving up), fed to the machine like
   * client requests. Nothing counts them, so they add no state of their own to a world: prefer
   * this to `clients` when the node's state alone says what it may do.
   */
  spontaneous?: (node: NodeView, config: ProtocolConfig) => { type: string }[];
  /**
   * Declares node ids interchangeable (every node runs the same code, no id is special) and
   * names the fields that hold node ids in contexts, messages, timers and notes, for symmetry
   * reduction. Properties must not single out an id either.
   */
  symmetry?: { idFields: string[] };
  /** The node's round for the maxRound bound (term, ballot, generation). */
  round?(context: any): number;
  /**
   * What a node's `client.status` reports as its round, when not `round` (a protocol whose
   * bound counts rounds of several terms reports the term it is in).
   */
  statusRound?(context: any): number;
  /**
   * Note types by which a machine refuses the client request it is handling (a write at a node
   * that is not the leader, naming the leader to ask). The TCP host answers such a request with
   * an `error` carrying the note instead of a `reply`.
   */
  refusals?: string[];
  /** What is wrong with a configuration's params, in one line; undefined when nothing is. */
  checkParams?(config: ProtocolConfig): string | undefined;
  /** Host-side jitter for named timers: the delay is drawn in [delay, delay * factor]. */
  timerJitter?: Record<string, number>;
  /**
   * A resource a client session holds, such as a lock: the client requests that take and give
   * it back, and the notes that say the node was granted it and gave it back. A node holds at
   * most one at a time. The TCP host then ties it to the connection (session) whose acquire
   * the machine acted on: a release from any other session is refused, and when the session
   * stops renewing its lease (every request it sends renews it, disconnected or not) the host
   * gives the resource back by feeding the machine the release request a client would send, so
   * traces and their replay stay honest. Absent: client requests are anonymous.
   */
  sessions?: SessionSpec;
  /**
   * Message, note and client types for schema generation (`coordkit schemas`): the file, relative
   * to the module that exports the protocol (the kit's own primitives: to the package; a compiled
   * module may find the `.d.ts` beside it instead of the `.ts`), and the type names.
   */
  types?: { file: string; message: string; client: string; note: string };
  /**
   * Absolute folder of the generated schemas the runtime validates frames with
   * (`fileURLToPath(new URL('./schemas/', import.meta.url))`); default: `schemas/` beside the module.
   */
  schemaDir?: string;
  /**
   * Absolute folder of timed scenarios (`<name>.json`, `seed` first) and cluster scripts
   * (`cluster/seed.json` is the default); default: `scenarios/` beside the module, if present.
   */
  scenarioDir?: string;
  /** Sample messages for @xstate/graph's shortest paths through one node's machine (path-based tests). */
  sampleEvents?(config: ProtocolConfig): { type: string }[];
}

/** See `Protocol.sessions`. */
export interface SessionSpec {
  /** The client request that asks for the resource; it may carry `leaseMs`. */
  acquire: string;
  /** The client request that gives it back. */
  release: string;
  /** The note that says the node was granted it (what the client waits for). */
  granted: string;
  /** The note that says the node gave it back. */
  released: string;
  /**
   * Lease lengths in ms: the one used when the acquire names none, and the range it may name
   * (the schema of the acquire request must say the same).
   */
  leaseMs: { default: number; min: number; max: number };
}
