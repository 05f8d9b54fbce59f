/**
 * Depth-first exploration on several threads sharing one visited set: each thread expands the
 * worlds it adds first, so every reachable world is expanded exactly once, and the threads
 * stop together at the first violation (unless every violation is wanted). Counterexamples are
 * rebuilt here by replaying the reported choice paths; they are not necessarily shortest.
 * Thread 0 is the calling thread itself (its code already loaded and compiled); the others are
 * worker threads.
 */
import { totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { Simulator } from '../sim/simulator.js';
import type { ExploreOptions, ExploreResult } from './explore.js';
import { FAILED, PHASES, searchThread, STAT_FIELDS, type WorkerReport, type WorkerTask } from './explore-worker.js';
import { Judge } from './judge.js';
import { slotsFor } from './fingerprint-set.js';
import type { Model } from './model.js';
import { replay } from './replay.js';
import { SharedFingerprintSet } from './shared-fingerprint-set.js';
import type { Prefixer } from './shard-prefix.js';
import { WorkBoard } from './work-board.js';
import type { Violation } from './violation.js';

export interface ParallelOptions extends ExploreOptions {
  /** Threads; at least 2. */
  workers: number;
  /** URL of the ES module the threads load the primitive from. */
  module: string;
  /** Slots the shared visited set starts with (a power of two, 8 bytes each; by default from `expectStates`); it grows as worlds are added. */
  capacity?: number;
  /**
   * How long the threads may go without a transition before the search is abandoned with an
   * error naming what each thread was doing (default two minutes): a bug in the threads'
   * hand-off must end the run, never hang it.
   */
  stallMs?: number;
  /** Random pauses in the threads' hand-off (stress tests only; see explore-worker.ts). */
  jitter?: WorkerTask['jitter'];
  /** A shard (shard.ts): searches the worlds above the split here; the threads search below this shard's share. */
  prefix?: Prefixer;
}

export async function exploreParallel(model: Model, options: ParallelOptions): Promise<ExploreResult> {
  if (model.config.symmetry && model.protocol.symmetry) throw new Error('a parallel search does not reduce by symmetry: turn symmetry off');
  const started = performance.now();
  const sim = new Simulator(model.protocol, model.variant, model.config, true);
  const judge = new Judge(model, sim, 'dfs', options.all);
  const maxStates = options.maxStates ?? Infinity;
  const capacity = options.capacity ?? slotsFor(options.expectStates, initialCapacity(options.workers), maxCapacity());
  const buffers = SharedFingerprintSet.allocate(capacity, maxCapacity(), options.workers);
  const visited = new SharedFingerprintSet(buffers);
  const control = new SharedArrayBuffer(4);
  const stats = new SharedArrayBuffer(options.workers * STAT_FIELDS * 8);
  const board = WorkBoard.allocate(options.workers);

  const above = options.prefix?.(sim, judge, visited);
  if (above) visited.settle();
  else {
    const root = sim.initial().world;
    visited.add(sim.fingerprint(root));
    judge.judge(root, () => []);
  }
  const reports = judge.stop || above?.starts.length === 0 ? [] : await runThreads(model, Array.from({ length: options.workers }, (_, index) => ({
    module: options.module,
    name: model.protocol.name,
    config: model.config,
    index,
    buffers,
    control,
    stats,
    board,
    threads: options.workers,
    maxStates,
    all: !!options.all,
    jitter: options.jitter,
    starts: above?.starts.map((s) => s.path),
  })), () => {
    const now = progress(visited, stats, options.workers, started);
    options.onProgress?.(now);
    return now.transitions;
  }, options.stallMs ?? 120_000);

  const violations = new Map<string, Violation>(judge.violations.map((v) => [v.invariant, v]));
  for (const r of reports) {
    for (const found of r.violations) {
      const known = violations.get(found.invariant);
      if (known && known.path.length <= found.path.length) continue;
      const { steps } = replay(model, found.path, sim);
      const kind = model.protocol.properties.find((p) => p.name === found.invariant)!.kind;
      violations.set(found.invariant, { invariant: found.invariant, kind, mode: 'explore', path: found.path, steps, replay: judge.replayCommand });
    }
    judge.satisfiedElsewhere(r.satisfied);
    r.reached.forEach((t) => sim.stepper.reached.add(t));
  }
  const ordered = model.protocol.properties.map((p) => violations.get(p.name)).filter((v): v is Violation => !!v);
  const states = visited.size;
  const stopped = ordered.length && !options.all ? 'violation' : states >= maxStates ? 'max-states' : visited.full ? 'capacity' : undefined;
  const bounded = reports.reduce((sum, r) => sum + r.bounded, above?.bounded ?? 0);
  const roundCut = reports.reduce((sum, r) => sum + r.roundCut, above?.roundCut ?? 0);
  const elapsedMs = performance.now() - started;
  const result: ExploreResult = {
    search: 'dfs',
    threads: options.workers,
    handoffs: reports.reduce((sum, r) => sum + r.jobs, 0),
    perThread: reports.map((r) => ({ cpuMs: r.cpuMs, startCpuMs: r.startCpuMs, waitMs: r.waitMs, resizingMs: r.resizingMs })),
    states,
    transitions: reports.reduce((sum, r) => sum + r.transitions, above?.transitions ?? 0),
    depth: Math.max(above?.depth ?? 0, ...reports.map((r) => r.depth)),
    elapsedMs,
    statesPerSecond: Math.round((states / Math.max(elapsedMs, 1)) * 1000),
    complete: stopped === undefined,
    ...(stopped ? { stopped } : {}),
    bounded,
    cut: { inFlight: bounded - roundCut, round: roundCut, depth: 0 },
    violations: ordered,
    unsatisfied: judge.unsatisfied,
    indexBytes: visited.bytes,
    reached: sim.stepper.reached,
    sim,
  };
  return result;
}

/**
 * Room for the worlds every thread may add between two polls (1,024 transitions each) to stay
 * under a quarter of the table, so that it grows well before it fills; and at least 2^20 slots
 * (8 MiB): each growth stops every thread until the last one reaches it (on a loaded machine, a
 * thread off the CPU holds the others), so the small sizes, passed in a moment, are skipped.
 */
function initialCapacity(workers: number): number {
  return 2 ** Math.max(20, Math.ceil(Math.log2(workers * 1024 * 4)));
}

/** The most the shared visited set may grow to: a quarter of the machine's memory, at most 4 GiB (2^29 worlds). */
function maxCapacity(): number {
  return 2 ** Math.floor(Math.log2(Math.min(2 ** 32, totalmem() / 4) / 8));
}

function progress(visited: SharedFingerprintSet, stats: SharedArrayBuffer, workers: number, started: number) {
  const s = new Float64Array(stats);
  let transitions = 0;
  let depth = 0;
  for (let w = 0; w < workers; w++) {
    transitions += s[w * STAT_FIELDS + 1];
    depth = Math.max(depth, s[w * STAT_FIELDS + 2]);
  }
  return { states: visited.size, transitions, depth, elapsedMs: performance.now() - started };
}

/** What each thread was last doing, and the board's state, in one line. */
function describeThreads(tasks: WorkerTask[]): string {
  const s = new Float64Array(tasks[0].stats);
  const threads = tasks.map((t) => {
    const at = t.index * STAT_FIELDS;
    return `thread ${t.index} ${PHASES[s[at + 3]]} (${s[at + 1]} transitions, path ${s[at + 2]}, ${s[at + 4]} jobs taken)`;
  });
  return `${threads.join('; ')}; ${new WorkBoard(tasks[0].board).describe()}`;
}

/**
 * Runs task 0 on this thread and one worker per other task, until all report. `tick` is called
 * every 250 ms (by thread 0's search while it runs, by a timer after) and returns the transitions
 * made so far; when they stay the same for `stallMs`, every thread is ended and the search fails
 * with an error naming each thread's state. A worker that fails stops the others and the search
 * fails with its error.
 */
async function runThreads(model: Model, tasks: WorkerTask[], tick: () => number, stallMs: number): Promise<WorkerReport[]> {
  const workers: Worker[] = [];
  const control = new Int32Array(tasks[0].control);
  const every = Math.min(250, stallMs / 4);
  let last = -1;
  let since = performance.now();
  let checked = -Infinity;
  let stalled: Error | undefined;
  /** Reports progress every `every` ms and looks for a stall; true once the search has failed. */
  const watch = (): boolean => {
    const now = performance.now();
    if (!stalled && now - checked >= every) {
      checked = now;
      const transitions = tick();
      if (transitions !== last) {
        last = transitions;
        since = now;
      } else if (now - since >= stallMs) {
        stalled = new Error(`the explore threads made no transition for ${stallMs / 1000} s: ${describeThreads(tasks)}`);
      }
    }
    return stalled !== undefined || Atomics.load(control, 0) === FAILED;
  };
  const end = () => {
    Atomics.store(control, 0, 1);
    for (const w of workers) void w.terminate();
  };
  const others = Promise.all(tasks.slice(1).map((task) => runWorker(task, workers)));
  // Awaited below; a worker failing while this thread searches is not an unhandled rejection.
  others.catch(() => undefined);
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    const mine = searchThread(tasks[0], model, { abandon: watch });
    if (stalled) throw stalled;
    const rest = await new Promise<WorkerReport[]>((resolve, reject) => {
      timer = setInterval(() => {
        if (watch() && stalled) reject(stalled);
      }, every);
      others.then(resolve, reject);
    });
    return [mine, ...rest];
  } catch (err) {
    end();
    throw err;
  } finally {
    clearInterval(timer);
  }
}

function runWorker(task: WorkerTask, workers: Worker[]): Promise<WorkerReport> {
  return new Promise((resolve, reject) => {
    // A larger young generation: the search allocates a world per transition (about 6% faster).
    const worker = new Worker(new URL('./explore-worker.js', import.meta.url), { workerData: task, resourceLimits: { maxYoungGenerationSizeMb: 64 } });
    workers.push(worker);
    let report: WorkerReport | undefined;
    worker.on('message', (r: WorkerReport) => (report = r));
    worker.on('error', reject);
    worker.on('exit', (code) => {
      if (report) resolve(report);
      else reject(new Error(`explore thread ${task.index} exited with code ${code} and no report`));
    });
  });
}
