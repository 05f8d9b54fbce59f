/**
 * Scenario files for the timed simulation: JSON data naming a primitive, its nodes, per-link
 * latency, client requests and faults at given times, and work each node does. Validated on
 * load; every problem is reported as one line naming the file and the field.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { AnyStateMachine } from 'xstate';
import type { NodeId, Protocol } from '../protocol.js';

/** Latency of a directed link in ms: fixed, or drawn uniformly from [min, max] by the seeded RNG. */
export type LatencyMs = number | { uniform: [number, number] };

/** Which node a client request goes to: a node id, or the lowest-id up node in a state (`{"state":"leader"}`). */
export type Target = NodeId | { state: string };

export type ScenarioEvent =
  | { atMs: number; node: Target; client: { type: string; [k: string]: unknown } }
  | { atMs: number; partition: [NodeId[], NodeId[]] }
  | { atMs: number; heal: true }
  | { atMs: number; crash: NodeId }
  | { atMs: number; restart: NodeId };

/** Work a node does: it starts at a time or when the node notes a fact, lasts `durationMs`, then the node gets the `then` client request. */
export interface WorkItem {
  node: NodeId;
  label: string;
  durationMs: number;
  startAtMs?: number;
  startOnNote?: string;
  then?: { type: string; [k: string]: unknown };
}

/** What the metrics read from a run; every field is optional. */
export interface MetricsSpec {
  /** Message type → protocol phase name (default: the type itself). */
  phases?: Record<string, string>;
  /** Wait per node: from a client request type or note type to a note type. */
  wait?: { from: string; to: string; label?: string };
  /** Completion: the time a note has been emitted by every node (`all`) or by one (`any`). */
  completion?: { note: string; nodes: 'all' | 'any' };
  /** A context field holding an array: its length is the node's queue. */
  queueField?: string;
  /** A context field that is non-null while the node can serve (e.g. the leader it follows). */
  availableField?: string;
}

export interface Scenario {
  primitive: string;
  name: string;
  description: string;
  nodes: number;
  variant?: string;
  network: 'fifo' | 'unordered';
  /** Default latency and per-link overrides keyed `from->to`. */
  latencyMs: { default: LatencyMs; links: Record<string, LatencyMs> };
  untilMs: number;
  events: ScenarioEvent[];
  work: WorkItem[];
  params: Record<string, unknown>;
  metrics: MetricsSpec;
  /** Where it was loaded from (for messages). */
  file: string;
}

/** Bad scenario input: one line, exit code 2. */
export class ScenarioError extends Error {}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The request types a client may send a machine: the `client.` events it handles, or (a machine
 * that names none so) every event it handles.
 */
export function clientRequestTypes(machine: AnyStateMachine): string[] {
  const handled = machine.root.events.filter((e: string) => !e.startsWith('xstate.'));
  const client = handled.filter((e: string) => e.startsWith('client.'));
  return client.length ? client : handled;
}

class Checker {
  /** Request types a client may send (empty: not checked). */
  requestTypes: string[] = [];
  constructor(readonly file: string, readonly n: number) {}
  fail(where: string, what: string): never {
    throw new ScenarioError(`scenario ${this.file}: ${where} ${what}`);
  }
  ms(where: string, v: unknown): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(where, `must be a number of ms, got ${JSON.stringify(v)}`);
    if (v < 0) this.fail(where, `must not be negative, got ${v}`);
    return v;
  }
  node(where: string, v: unknown): NodeId {
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > this.n) this.fail(where, `names unknown node ${JSON.stringify(v)} (nodes are 1..${this.n})`);
    return v as number;
  }
  str(where: string, v: unknown): string {
    if (typeof v !== 'string' || !v) this.fail(where, `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }
  event(where: string, v: unknown): { type: string } {
    if (!isObj(v) || typeof v.type !== 'string') this.fail(where, `must be an event object with a string 'type'`);
    if (this.requestTypes.length && !this.requestTypes.includes(v.type)) this.fail(`${where}.type`, `'${v.type}' is not a request the machine handles (choose from: ${this.requestTypes.join(', ')})`);
    return v as { type: string };
  }
  latency(where: string, v: unknown): LatencyMs {
    if (isObj(v) && Array.isArray(v.uniform) && v.uniform.length === 2) {
      const [lo, hi] = [this.ms(`${where}.uniform[0]`, v.uniform[0]), this.ms(`${where}.uniform[1]`, v.uniform[1])];
      if (hi < lo) this.fail(where, `uniform range is empty: [${lo}, ${hi}]`);
      return { uniform: [lo, hi] };
    }
    if (typeof v === 'number') return this.ms(where, v);
    return this.fail(where, `must be a latency in ms or {"uniform":[min,max]}, got ${JSON.stringify(v)}`);
  }
  only(where: string, obj: Json, keys: string[]): void {
    for (const k of Object.keys(obj)) if (!keys.includes(k)) this.fail(where, `has unknown field '${k}' (expected: ${keys.join(', ')})`);
  }
}

const TOP_KEYS = ['primitive', 'name', 'description', 'nodes', 'variant', 'network', 'latencyMs', 'untilMs', 'events', 'work', 'params', 'metrics'];

function checkEvent(c: Checker, where: string, raw: unknown): ScenarioEvent {
  if (!isObj(raw)) c.fail(where, 'must be an object');
  const atMs = c.ms(`${where}.atMs`, raw.atMs);
  if ('client' in raw) {
    c.only(where, raw, ['atMs', 'node', 'client']);
    const node = isObj(raw.node) ? { state: c.str(`${where}.node.state`, raw.node.state) } : c.node(`${where}.node`, raw.node);
    return { atMs, node, client: c.event(`${where}.client`, raw.client) };
  }
  if ('partition' in raw) {
    c.only(where, raw, ['atMs', 'partition']);
    const sides = raw.partition;
    if (!Array.isArray(sides) || sides.length !== 2 || !sides.every(Array.isArray)) c.fail(`${where}.partition`, 'must be two lists of nodes');
    const [a, b] = (sides as unknown[][]).map((side, i) => side.map((x, j) => c.node(`${where}.partition[${i}][${j}]`, x)));
    const all = [...a, ...b].sort((x, y) => x - y);
    if (all.length !== c.n || all.some((x, i) => x !== i + 1)) c.fail(`${where}.partition`, `must split nodes 1..${c.n} into two sides, each node once`);
    if (!a.length || !b.length) c.fail(`${where}.partition`, 'must have two non-empty sides');
    return { atMs, partition: [a, b] };
  }
  if ('heal' in raw) {
    c.only(where, raw, ['atMs', 'heal']);
    if (raw.heal !== true) c.fail(`${where}.heal`, 'must be true');
    return { atMs, heal: true };
  }
  if ('crash' in raw) {
    c.only(where, raw, ['atMs', 'crash']);
    return { atMs, crash: c.node(`${where}.crash`, raw.crash) };
  }
  if ('restart' in raw) {
    c.only(where, raw, ['atMs', 'restart']);
    return { atMs, restart: c.node(`${where}.restart`, raw.restart) };
  }
  return c.fail(where, 'must have one of client, partition, heal, crash, restart');
}

function checkWork(c: Checker, where: string, raw: unknown): WorkItem {
  if (!isObj(raw)) c.fail(where, 'must be an object');
  c.only(where, raw, ['node', 'label', 'durationMs', 'startAtMs', 'startOnNote', 'then']);
  const item: WorkItem = { node: c.node(`${where}.node`, raw.node), label: c.str(`${where}.label`, raw.label), durationMs: c.ms(`${where}.durationMs`, raw.durationMs) };
  if ((raw.startAtMs === undefined) === (raw.startOnNote === undefined)) c.fail(where, 'needs exactly one of startAtMs, startOnNote');
  if (raw.startAtMs !== undefined) item.startAtMs = c.ms(`${where}.startAtMs`, raw.startAtMs);
  if (raw.startOnNote !== undefined) item.startOnNote = c.str(`${where}.startOnNote`, raw.startOnNote);
  if (raw.then !== undefined) item.then = c.event(`${where}.then`, raw.then) as WorkItem['then'];
  return item;
}

function checkMetrics(c: Checker, raw: unknown): MetricsSpec {
  if (raw === undefined) return {};
  if (!isObj(raw)) c.fail('metrics', 'must be an object');
  c.only('metrics', raw, ['phases', 'wait', 'completion', 'queueField', 'availableField']);
  const m: MetricsSpec = {};
  if (raw.phases !== undefined) {
    if (!isObj(raw.phases)) c.fail('metrics.phases', 'must map message types to phase names');
    m.phases = Object.fromEntries(Object.entries(raw.phases).map(([k, v]) => [k, c.str(`metrics.phases.${k}`, v)]));
  }
  if (raw.wait !== undefined) {
    if (!isObj(raw.wait)) c.fail('metrics.wait', 'must be {"from","to"}');
    m.wait = { from: c.str('metrics.wait.from', raw.wait.from), to: c.str('metrics.wait.to', raw.wait.to) };
    if (raw.wait.label !== undefined) m.wait.label = c.str('metrics.wait.label', raw.wait.label);
  }
  if (raw.completion !== undefined) {
    if (!isObj(raw.completion) || !['all', 'any'].includes(raw.completion.nodes as string)) c.fail('metrics.completion', 'must be {"note": TYPE, "nodes": "all"|"any"}');
    m.completion = { note: c.str('metrics.completion.note', raw.completion.note), nodes: raw.completion.nodes as 'all' | 'any' };
  }
  if (raw.queueField !== undefined) m.queueField = c.str('metrics.queueField', raw.queueField);
  if (raw.availableField !== undefined) m.availableField = c.str('metrics.availableField', raw.availableField);
  return m;
}

/** Validates parsed JSON as a scenario of one of `protocols`. */
export function checkScenario(raw: unknown, file: string, protocols: readonly Protocol[]): Scenario {
  const pre: Checker = new Checker(file, 0);
  if (!isObj(raw)) pre.fail('top level', 'must be a JSON object');
  pre.only('top level', raw, TOP_KEYS);
  const names = protocols.map((p) => p.name);
  const primitive = pre.str('primitive', raw.primitive);
  const protocol = protocols.find((p) => p.name === primitive);
  if (!protocol) pre.fail('primitive', `'${primitive}' is unknown (choose from: ${names.join(', ')})`);
  if (!Number.isInteger(raw.nodes) || (raw.nodes as number) < 1 || (raw.nodes as number) > 16) pre.fail('nodes', `must be a whole number from 1 to 16, got ${JSON.stringify(raw.nodes)}`);
  const c: Checker = new Checker(file, raw.nodes as number);
  const variant = raw.variant === undefined ? undefined : c.str('variant', raw.variant);
  if (variant && !protocol.variants.some((v) => v.name === variant)) {
    c.fail('variant', `'${variant}' is not a variant of ${primitive} (choose from: ${protocol.variants.map((v) => v.name).join(', ')})`);
  }
  c.requestTypes = clientRequestTypes(protocol.variants.find((v) => v.name === (variant ?? protocol.defaultVariant))?.machine ?? protocol.variants[0].machine);
  const network = raw.network ?? 'fifo';
  if (network !== 'fifo' && network !== 'unordered') c.fail('network', `must be fifo or unordered, got ${JSON.stringify(network)}`);
  const lat = raw.latencyMs ?? 0;
  const latencyMs = { default: 0 as LatencyMs, links: {} as Record<string, LatencyMs> };
  if (isObj(lat) && !('uniform' in lat)) {
    c.only('latencyMs', lat, ['default', 'links']);
    latencyMs.default = c.latency('latencyMs.default', lat.default ?? 0);
    if (lat.links !== undefined && !isObj(lat.links)) c.fail('latencyMs.links', 'must map "from->to" to latencies');
    for (const [key, v] of Object.entries((lat.links as Json | undefined) ?? {})) {
      const m = /^(\d+)->(\d+)$/.exec(key);
      if (!m) c.fail(`latencyMs.links`, `key '${key}' must look like "2->1"`);
      c.node(`latencyMs.links["${key}"]`, Number(m[1]));
      c.node(`latencyMs.links["${key}"]`, Number(m[2]));
      latencyMs.links[key] = c.latency(`latencyMs.links["${key}"]`, v);
    }
  } else latencyMs.default = c.latency('latencyMs', lat);
  const untilMs = c.ms('untilMs', raw.untilMs);
  if (untilMs === 0) c.fail('untilMs', 'must be positive');
  if (raw.events !== undefined && !Array.isArray(raw.events)) c.fail('events', 'must be a list');
  if (raw.work !== undefined && !Array.isArray(raw.work)) c.fail('work', 'must be a list');
  if (raw.params !== undefined && !isObj(raw.params)) c.fail('params', 'must be an object');
  return {
    primitive,
    name: raw.name === undefined ? file : c.str('name', raw.name),
    description: raw.description === undefined ? '' : c.str('description', raw.description),
    nodes: c.n,
    variant,
    network,
    latencyMs,
    untilMs,
    events: ((raw.events as unknown[]) ?? []).map((e, i) => checkEvent(c, `events[${i}]`, e)),
    work: ((raw.work as unknown[]) ?? []).map((w, i) => checkWork(c, `work[${i}]`, w)),
    params: (raw.params as Json) ?? {},
    metrics: checkMetrics(c, raw.metrics),
    file,
  };
}

/** Scenario names in a protocol's scenario folder (`<dir>/<name>.json`), `seed` first. */
export function shippedScenarios(dir: string | undefined): string[] {
  if (!dir || !existsSync(dir)) return [];
  const names = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5));
  return names.sort((a, b) => (a === 'seed' ? -1 : b === 'seed' ? 1 : a.localeCompare(b)));
}

/**
 * Loads a scenario by name from a protocol's scenario folder (`<dir>/<name>.json`) or from a
 * file path. When `primitive` is given, the scenario must be one of it.
 */
export function loadScenario(ref: string, protocols: readonly Protocol[], primitive?: string, dir?: string): Scenario {
  const shipped = dir ? join(dir, `${ref}.json`) : '';
  const file = shipped && existsSync(shipped) ? shipped : resolve(ref);
  if (!existsSync(file)) {
    const hint = primitive ? ` (shipped for ${primitive}: ${shippedScenarios(dir).join(', ') || 'none'})` : '';
    throw new ScenarioError(`scenario '${ref}' not found${hint}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScenarioError(`scenario ${file}: not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  const named = isObj(raw) ? raw.primitive : undefined;
  if (primitive && typeof named === 'string' && named !== primitive) throw new ScenarioError(`scenario ${file} is for ${named}, not ${primitive}`);
  return checkScenario(raw, file, protocols);
}
