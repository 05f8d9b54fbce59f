/**
 * Fault scripts for `coordkit cluster`: a JSON file `{ "description": "...", "steps": [...] }`,
 * each step one of
 *
 * - `{"sleep": 100}`: wait 100 ms;
 * - `{"await": {"match": {"state": "leader"}, "count": 1, "agree": "leader", "timeoutMs": 5000}}`:
 *   poll every up node's `client.status` until `count` of them (a number or `"all"`, default
 *   `"all"`) have the fields in `match`, and (with `agree`) all up nodes report the same non-null
 *   value of that field;
 * - `{"awaitNotes": {"type": "released", "count": 3, "timeoutMs": 5000}}`: until that many notes
 *   (a number, or `"all"`: one per node) of that type were pushed by the nodes;
 * - `{"kill": 2}` or `{"kill": "leader"}` (kill -9; `leader` is the node the up nodes follow);
 * - `{"restart": 2}` or `{"restart": "killed"}` (the node killed last);
 * - `{"partition": [[1,2,3],[4,5]]}` or `{"partition": "majority|minority"}`;
 * - `{"heal": true}`;
 * - `{"client": 1, "request": {"type": "client.acquire"}}`: a client request at node 1; the node
 *   may also be chosen by status, `{"client": {"state": "critical"}, ...}` (the first up node
 *   whose status has those fields), or be `"all"` (every up node, in id order);
 * - only where every link runs through a proxy (`coordkit harness`): `{"delay": {"ms": 100}}`
 *   (every frame held that long, order kept per link; `"links": [[1,2]]` for some directed links
 *   only; 0 lifts it) and `{"drop": {"rate": 0.2}}` (each frame lost with that probability).
 */
import type { NoteFrame, StatusFrame } from './wire.js';

/** What a script drives: a local cluster, or the harness's processes behind their proxies. */
export interface ScriptTarget {
  readonly ids: number[];
  isUp(id: number): boolean;
  client(id: number): { status(): Promise<StatusFrame> };
  readonly notes: NoteFrame[];
  kill(id: number): Promise<void>;
  restart(id: number): Promise<void>;
  partition(sides: number[][]): Promise<void>;
  heal(): Promise<void>;
  request(id: number, request: { type: string }): Promise<{ state: string; notes: unknown[] }>;
  /** Only a proxied cluster delays and drops frames. */
  delay?(ms: number, links?: [number, number][]): Promise<void>;
  drop?(rate: number): Promise<void>;
}

export type Step =
  | { sleep: number }
  | { await: { match?: Record<string, unknown>; count?: number | 'all'; agree?: string; timeoutMs?: number } }
  | { awaitNotes: { type: string; count: number | 'all'; timeoutMs?: number } }
  | { kill: number | 'leader' }
  | { restart: number | 'killed' }
  | { partition: number[][] | 'majority|minority' }
  | { heal: true }
  | { client: number | 'all' | Record<string, unknown>; request: { type: string; [field: string]: unknown } }
  | { delay: { ms: number; links?: [number, number][] } }
  | { drop: { rate: number } };

export interface ClusterScript {
  description?: string;
  /** The cluster size the script is written for (the default of `--nodes`); absent: any size. */
  nodes?: number;
  steps: Step[];
}

/** A script that cannot be run as written. */
export class ScriptError extends Error {}

const KEYS = ['sleep', 'await', 'awaitNotes', 'kill', 'restart', 'partition', 'heal', 'client', 'delay', 'drop'];
const PROXIED = ['delay', 'drop'];
const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isNodeRef = (v: unknown, n: number, word: string) => v === word || (Number.isInteger(v) && (v as number) >= 1 && (v as number) <= n);

/** The cluster size a parsed script asks for, if it names a valid one. */
export function scriptNodes(raw: unknown): number | undefined {
  return isObject(raw) && Number.isInteger(raw.nodes) && (raw.nodes as number) >= 2 ? (raw.nodes as number) : undefined;
}

/** Checks a parsed script against a cluster of `n` nodes; throws ScriptError naming the bad step. */
export function validateScript(raw: unknown, n: number, options: { proxied?: boolean } = {}): ClusterScript {
  if (!isObject(raw) || !Array.isArray(raw.steps)) throw new ScriptError('a script is an object with a "steps" array');
  if (raw.nodes !== undefined && raw.nodes !== n) throw new ScriptError(`the script is written for ${String(raw.nodes)} nodes, the cluster has ${n}`);
  raw.steps.forEach((step: unknown, i: number) => {
    const at = `step ${i + 1}`;
    if (!isObject(step)) throw new ScriptError(`${at} is not an object`);
    const keys = Object.keys(step).filter((k) => KEYS.includes(k));
    if (keys.length !== 1) throw new ScriptError(`${at} must have exactly one of ${KEYS.join(', ')}, has ${Object.keys(step).join(', ') || 'none'}`);
    const key = keys[0];
    const extra = Object.keys(step).filter((k) => k !== key && !(key === 'client' && k === 'request'));
    if (extra.length) throw new ScriptError(`${at}: unexpected field(s) ${extra.join(', ')}`);
    const v = step[key];
    const bad = (what: string) => new ScriptError(`${at} (${key}): ${what}`);
    if (PROXIED.includes(key) && !options.proxied) throw bad('only coordkit harness, whose links run through proxies, delays or drops frames');
    switch (key) {
      case 'sleep':
        if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > 600_000) throw bad('milliseconds from 0 to 600000');
        break;
      case 'await': {
        if (!isObject(v)) throw bad('an object with match, count, agree, timeoutMs');
        if (v.match !== undefined && !isObject(v.match)) throw bad('match must be an object of status fields');
        if (v.count !== undefined && v.count !== 'all' && !(Number.isInteger(v.count) && (v.count as number) >= 1 && (v.count as number) <= n)) throw bad(`count must be 1..${n} or "all"`);
        if (v.agree !== undefined && typeof v.agree !== 'string') throw bad('agree must name a status field');
        if (v.timeoutMs !== undefined && !(Number.isInteger(v.timeoutMs) && (v.timeoutMs as number) > 0)) throw bad('timeoutMs must be a positive integer');
        break;
      }
      case 'awaitNotes':
        if (!isObject(v) || typeof v.type !== 'string' || !(v.count === 'all' || (Number.isInteger(v.count) && (v.count as number) >= 1))) throw bad('an object with a note type and a positive count or "all"');
        break;
      case 'kill':
        if (!isNodeRef(v, n, 'leader')) throw bad(`a node 1..${n} or "leader"`);
        break;
      case 'restart':
        if (!isNodeRef(v, n, 'killed')) throw bad(`a node 1..${n} or "killed"`);
        break;
      case 'partition': {
        if (v === 'majority|minority') break;
        if (!Array.isArray(v) || v.length < 2 || !v.every((s) => Array.isArray(s) && s.every((x) => isNodeRef(x, n, '')))) throw bad(`a list of at least two sides of nodes 1..${n}, or "majority|minority"`);
        const all = (v as number[][]).flat();
        if (new Set(all).size !== all.length || all.length !== n) throw bad(`every node 1..${n} must be on exactly one side`);
        break;
      }
      case 'heal':
        if (v !== true) throw bad('must be true');
        break;
      case 'delay': {
        const links = isObject(v) ? v.links : undefined;
        if (!isObject(v) || !Number.isInteger(v.ms) || (v.ms as number) < 0 || (v.ms as number) > 60_000) throw bad('an object with ms from 0 to 60000');
        if (links !== undefined && !(Array.isArray(links) && links.every((l) => Array.isArray(l) && l.length === 2 && l.every((x) => isNodeRef(x, n, '')) && l[0] !== l[1]))) throw bad(`links must be [from, to] pairs of distinct nodes 1..${n}`);
        break;
      }
      case 'drop':
        if (!isObject(v) || typeof v.rate !== 'number' || !(v.rate >= 0 && v.rate <= 1)) throw bad('an object with a rate from 0 to 1');
        break;
      case 'client':
        if (!isNodeRef(v, n, 'all') && !isObject(v)) throw bad(`a node 1..${n}, "all", or an object of status fields`);
        if (!isObject(step.request) || typeof step.request.type !== 'string') throw bad('needs a request object with a type');
        break;
    }
  });
  return raw as unknown as ClusterScript;
}

/**
 * The script of a protocol that ships none but takes client requests: each node gets the
 * request given for it, 100 ms apart, then the run settles for a second.
 */
export function requestScript(requests: readonly { node: number; request: { type: string; [field: string]: unknown } }[]): ClusterScript {
  const steps: Step[] = requests.flatMap((r): Step[] => [{ client: r.node, request: r.request }, { sleep: 100 }]);
  const types = [...new Set(requests.map((r) => r.request.type))].join(', ');
  return {
    description: `Generated from the protocol's client requests: each node gets the first its initial state enables (${types}), 100 ms apart; then 1 s to settle.`,
    steps: [...steps, { sleep: 1000 }],
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The node the up nodes follow, if they agree on one. */
async function leaderOf(cluster: ScriptTarget): Promise<number | null> {
  const statuses = await Promise.all(cluster.ids.filter((id) => cluster.isUp(id)).map((id) => cluster.client(id).status()));
  const leaders = new Set(statuses.map((s) => s.leader));
  const [only] = [...leaders];
  return leaders.size === 1 && typeof only === 'number' && cluster.isUp(only) ? only : null;
}

const fieldsMatch = (status: object, match: Record<string, unknown>) => Object.entries(match).every(([k, v]) => (status as Record<string, unknown>)[k] === v);

async function firstMatching(cluster: ScriptTarget, match: Record<string, unknown>): Promise<number | null> {
  for (const id of cluster.ids.filter((i) => cluster.isUp(i))) if (fieldsMatch(await cluster.client(id).status(), match)) return id;
  return null;
}

/** What happened, one line per step, for the report. */
export type StepLog = string[];

/** Runs the steps against a started cluster; throws ScriptError when an await times out. */
export async function runScript(cluster: ScriptTarget, script: ClusterScript, log: StepLog = []): Promise<StepLog> {
  const t0 = performance.now();
  const stamp = (line: string) => log.push(`${Math.round(performance.now() - t0).toString().padStart(6)} ms  ${line}`);
  let lastKilled: number | null = null;
  const n = cluster.ids.length;
  for (const [i, step] of script.steps.entries()) {
    const at = `step ${i + 1}`;
    if ('sleep' in step) await sleep(step.sleep);
    else if ('await' in step) {
      const { match = {}, count = 'all', agree, timeoutMs = 5000 } = step.await;
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const up = cluster.ids.filter((id) => cluster.isUp(id));
        const statuses = await Promise.all(up.map((id) => cluster.client(id).status()));
        const matching = statuses.filter((s) => fieldsMatch(s, match));
        const enough = matching.length >= (count === 'all' ? up.length : count);
        const values = [...new Set(statuses.map((s) => (s as unknown as Record<string, unknown>)[agree ?? '']))];
        const agreed = !agree || (values.length === 1 && values[0] !== null && values[0] !== undefined);
        if (enough && agreed) {
          stamp(`await ${JSON.stringify(step.await)}: ${statuses.map((s) => `${s.node}:${s.state}`).join(' ')}`);
          break;
        }
        if (performance.now() > deadline) throw new ScriptError(`${at} (await ${JSON.stringify(step.await)}) timed out after ${timeoutMs} ms; statuses: ${statuses.map((s) => `${s.node}:${s.state} round ${s.round} leader ${s.leader}`).join(', ')}`);
        await sleep(25);
      }
    } else if ('awaitNotes' in step) {
      const { type, timeoutMs = 5000 } = step.awaitNotes;
      const count = step.awaitNotes.count === 'all' ? n : step.awaitNotes.count;
      const deadline = performance.now() + timeoutMs;
      while (cluster.notes.filter((f) => f.note.type === type).length < count) {
        if (performance.now() > deadline) throw new ScriptError(`${at} (awaitNotes ${type} x${count}) timed out after ${timeoutMs} ms with ${cluster.notes.filter((f) => f.note.type === type).length}`);
        await sleep(25);
      }
      stamp(`${count} ${type} note(s)`);
    } else if ('kill' in step) {
      const target = step.kill === 'leader' ? await leaderOf(cluster) : step.kill;
      if (target === null) throw new ScriptError(`${at} (kill leader): the up nodes do not agree on a leader`);
      await cluster.kill(target);
      lastKilled = target;
      stamp(`kill -9 node ${target}`);
    } else if ('restart' in step) {
      const target = step.restart === 'killed' ? lastKilled : step.restart;
      if (target === null) throw new ScriptError(`${at} (restart killed): no node was killed before`);
      await cluster.restart(target);
      stamp(`restart node ${target}`);
    } else if ('partition' in step) {
      const all = cluster.ids;
      const sides = step.partition === 'majority|minority' ? [all.slice(0, Math.floor(n / 2) + 1), all.slice(Math.floor(n / 2) + 1)] : step.partition;
      await cluster.partition(sides);
      stamp(`partition ${sides.map((s) => `{${s.join(',')}}`).join('|')}`);
    } else if ('heal' in step) {
      await cluster.heal();
      stamp('heal');
    } else if ('client' in step) {
      const targets = step.client === 'all' ? cluster.ids.filter((id) => cluster.isUp(id)) : [typeof step.client === 'number' ? step.client : await firstMatching(cluster, step.client)];
      for (const target of targets) {
        if (target === null) throw new ScriptError(`${at} (client): no up node has status ${JSON.stringify(step.client)}`);
        const reply = await cluster.request(target, step.request);
        stamp(`client ${JSON.stringify(step.request)} at node ${target}: ${reply.state}${reply.notes.length ? ' ' + JSON.stringify(reply.notes) : ''}`);
      }
    } else if ('delay' in step) {
      await cluster.delay!(step.delay.ms, step.delay.links);
      stamp(`delay ${step.delay.ms} ms on ${step.delay.links ? step.delay.links.map(([a, b]) => `${a}->${b}`).join(' ') : 'every link'}`);
    } else if ('drop' in step) {
      await cluster.drop!(step.drop.rate);
      stamp(`drop each frame with probability ${step.drop.rate}`);
    }
  }
  return log;
}
