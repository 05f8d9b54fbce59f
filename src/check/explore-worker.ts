/**
 * One thread of a parallel depth-first search (see explore-parallel.ts): loads the primitive
 * from its module, then searches from the initial world over the shared visited set, expanding
 * the worlds it adds first, and reports its totals, the violations it found (as choice paths)
 * and the `sometimes` properties it saw satisfied. Thread 0 runs the same code on the calling
 * thread (`searchThread`), which has the primitive loaded already.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { importModule } from '../import-module.js';
import type { CheckConfig, Protocol } from '../protocol.js';
import { Simulator } from '../sim/simulator.js';
import { depthFirst, type DepthFirstTotals, type Start } from './depth-first.js';
import { replay } from './replay.js';
import { WorkBoard, type Job } from './work-board.js';
import { Judge } from './judge.js';
import { findVariant, type Model } from './model.js';
import { SharedFingerprintSet, type SharedFingerprintBuffers } from './shared-fingerprint-set.js';

export interface WorkerTask {
  /** URL of an ES module (JavaScript or TypeScript) exporting the primitive (as default, `protocol` or in `protocols`). */
  module: string;
  name: string;
  config: CheckConfig;
  index: number;
  buffers: SharedFingerprintBuffers;
  /** Int32 [stop]: set by the thread that finds a violation, by the coordinator, or (`FAILED`) by a thread that failed. */
  control: SharedArrayBuffer;
  /** Float64 per thread: [states, transitions, path length, phase (`PHASES`), jobs taken]. */
  stats: SharedArrayBuffer;
  /** Jobs handed between threads (work-board.ts). */
  board: SharedArrayBuffer;
  threads: number;
  maxStates: number;
  all: boolean;
  /**
   * Stress tests only: random pauses of up to `maxMs` at each step of the work-sharing
   * protocol and of the visited set's moves, and offers of work every `pollEvery` transitions instead of 1,024.
   */
  jitter?: { seed: number; maxMs: number; pollEvery?: number };
  /** A shard (shard.ts): the paths of the worlds thread 0 searches below, in turn, instead of the initial world. */
  starts?: number[][];
}

/** The value of `control` a thread that failed (threw) leaves, so that the others stop at once. */
export const FAILED = 2;

/**
 * For thread 0 on the calling thread, whose event loop is blocked while it searches: called at
 * each poll of its search and while it waits (for work, for the table to grow), so that progress
 * is reported and a stalled search ends; `abandon()` true gives the search up (the coordinator
 * then fails it).
 */
export interface ThreadHooks {
  abandon(): boolean;
}

/** What a thread is doing, as written to its `stats` (index 3). */
export const PHASES = ['starting', 'searching', 'waiting for work', 'replaying a job', 'finished'] as const;
export const STAT_FIELDS = 5;

export interface WorkerReport {
  states: number;
  /** Jobs this thread took from the board. */
  jobs: number;
  transitions: number;
  depth: number;
  bounded: number;
  roundCut: number;
  satisfied: string[];
  violations: { invariant: string; path: number[] }[];
  reached: string[];
  /** CPU time of this thread alone, in ms (Linux; undefined elsewhere). */
  cpuMs?: number;
  /** Of which before its search began: loading the primitive's module, building its simulator. */
  startCpuMs?: number;
  /** Wall time this thread spent waiting for work and replaying jobs, in ms. */
  waitMs: number;
  /** Wall time this thread spent while the shared visited set grew (every thread stops for it), in ms. */
  resizingMs: number;
}

/** CPU time (user + system) of the calling thread in ms, from /proc (Linux); undefined where there is none. */
export function threadCpuMs(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime, fields 14 and 15 of stat(5), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** The primitive named `name` among a module's exports. */
export async function protocolFrom(module: string, name: string): Promise<Protocol> {
  const mod = await importModule(module);
  const candidates = [mod.default, mod.protocol, ...(Array.isArray(mod.protocols) ? mod.protocols : []), ...Object.values(mod)];
  const found = candidates.find((p): p is Protocol => !!p && typeof p === 'object' && (p as Protocol).name === name && Array.isArray((p as Protocol).variants));
  if (!found) throw new Error(`${module} exports no primitive named '${name}'`);
  return found;
}

async function run(task: WorkerTask): Promise<WorkerReport> {
  const protocol = await protocolFrom(task.module, task.name);
  return searchThread(task, { protocol, variant: findVariant(protocol, task.config.variant)!, config: task.config });
}

/** The search of one thread, on the calling thread (with `hooks`: thread 0, beside the coordinator). */
export function searchThread(task: WorkerTask, model: Model, hooks?: ThreadHooks): WorkerReport {
  // CPU time is counted from here: the calling thread may have run before.
  const cpuBase = hooks ? (threadCpuMs() ?? 0) : 0;
  const sim = new Simulator(model.protocol, model.variant, model.config, true);
  const judge = new Judge(model, sim, 'dfs', task.all);
  const visited = new SharedFingerprintSet(task.buffers, task.jitter && pauses(task.jitter.seed + task.index + 0x51ed, task.jitter.maxMs));
  visited.abandon = hooks && (() => hooks.abandon());
  const control = new Int32Array(task.control);
  const stats = new Float64Array(task.stats, task.index * STAT_FIELDS * 8, STAT_FIELDS);
  const phase = (p: (typeof PHASES)[number]) => (stats[3] = PHASES.indexOf(p));
  // Thread 0 keeps the canonical order; the others start each world at a random choice.
  const random = xorshift((task.index * 0x9e3779b1) | 1);
  const board = new WorkBoard(task.board, undefined, task.jitter && pauses(task.jitter.seed + task.index, task.jitter.maxMs));
  const stopped = () => {
    visited.poll();
    return Atomics.load(control, 0) !== 0 || judge.stop || visited.size >= task.maxStates || visited.full || !!hooks?.abandon();
  };
  const totals = { states: 0, transitions: 0, depth: 0, bounded: 0, roundCut: 0 };
  const search = {
    visited,
    firstChoice: task.index === 0 ? undefined : random,
    stopped,
    pollEvery: task.jitter?.pollEvery,
    onPoll: (t: DepthFirstTotals) => stats.set([totals.states + t.states, totals.transitions + t.transitions, t.path]),
    share: { wanted: () => board.wanted, give: (job: Job) => board.give(job) },
  };
  // Thread 0 starts from the initial world (already visited and judged); the others wait for work.
  const own = task.index === 0 ? [...(task.starts ?? [[]])] : [];
  // Under a stress test's delays thread 0 waits for the others to start, so that work changes
  // hands even in a space it would search alone before they are up.
  if (task.jitter && task.index === 0) awaitThreads(task, stopped);
  let start: Start | undefined;
  let waitMs = 0;
  const startCpuMs = minus(threadCpuMs(), cpuBase);
  for (;;) {
    const path = own.shift();
    if (path) start = { world: replay(model, path, sim).worlds.at(-1)!, path };
    if (!start) {
      phase('waiting for work');
      const idle = performance.now();
      const job = board.take(stopped);
      if (!job) break;
      phase('replaying a job');
      stats[4]++;
      start = { world: replay(model, job.path, sim).worlds.at(-1)!, path: job.path, choices: job.choices };
      waitMs += performance.now() - idle;
    }
    phase('searching');
    const t = depthFirst(sim, judge, start, search);
    totals.states += t.states;
    totals.transitions += t.transitions;
    totals.bounded += t.bounded;
    totals.roundCut += t.roundCut;
    totals.depth = Math.max(totals.depth, t.depth);
    start = undefined;
    if (stopped()) break;
    // Thread 0 holds its unit of work until its last start is searched.
    if (own.length) continue;
    board.finished();
  }
  phase('finished');
  visited.leave();
  if (judge.stop) Atomics.store(control, 0, 1);
  return {
    states: totals.states,
    jobs: stats[4],
    transitions: totals.transitions,
    depth: totals.depth,
    bounded: totals.bounded,
    roundCut: totals.roundCut,
    satisfied: model.protocol.properties.filter((p) => p.kind === 'sometimes' && !judge.unsatisfied.includes(p.name)).map((p) => p.name),
    violations: judge.violations.map((v) => ({ invariant: v.invariant, path: v.path })),
    reached: [...sim.stepper.reached],
    cpuMs: minus(threadCpuMs(), cpuBase),
    startCpuMs,
    waitMs,
    resizingMs: visited.resizingMs,
  };
}

/** Waits until every other thread has left its start (or `stopped()`). */
function awaitThreads(task: WorkerTask, stopped: () => boolean): void {
  const all = new Float64Array(task.stats);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  const starting = (t: number) => all[t * STAT_FIELDS + 3] === PHASES.indexOf('starting');
  while (Array.from({ length: task.threads - 1 }, (_, k) => k + 1).some(starting) && !stopped()) Atomics.wait(sleeper, 0, 0, 1);
}

function minus(ms: number | undefined, base: number): number | undefined {
  return ms === undefined ? undefined : ms - base;
}

/** A xorshift32 stream: `next(count)` is a number in 0..count-1. */
function xorshift(seed: number): (count: number) => number {
  return (count) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % count;
  };
}

/** Sleeps of 0..maxMs at half the steps, drawn from `seed`. */
function pauses(seed: number, maxMs: number): () => void {
  const random = xorshift(seed | 1);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  return () => {
    if (random(2)) Atomics.wait(sleeper, 0, 0, (random(1000) / 1000) * maxMs);
  };
}

if (parentPort && workerData) {
  const task = workerData as WorkerTask;
  run(task).then(
    (report) => parentPort!.postMessage(report),
    (err: Error) => {
      // The other threads stop at their next poll; the coordinator reports this error.
      const control = new Int32Array(task.control);
      Atomics.store(control, 0, FAILED);
      Atomics.notify(control, 0);
      throw err;
    },
  );
}
