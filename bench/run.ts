/**
 * `npm run bench`: explorer throughput and memory, side by side with @xstate/graph's
 * getAdjacencyMap over the same cluster model, in one run (the machine is shared and noisy:
 * compare ratios, not absolute numbers across runs). `npm run bench -- twophase` runs only
 * the TwoPhase rows (beside TLC's figures), up to 9 resource managers (`npm run bench:twophase`);
 * `-- twophase 7` stops at 7.
 */
import { Session } from 'node:inspector/promises';
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { getAdjacencyMap } from '@xstate/graph';
import { election } from '../machines/election/index.js';
import { protocols } from '../machines/index.js';
import { explore, type ExploreOptions, type ExploreResult } from '../src/check/explore.js';
import { exploreParallel } from '../src/check/explore-parallel.js';
import { threadCpuMs } from '../src/check/explore-worker.js';
import { mutex } from '../machines/mutex/index.js';
import twoPhase from '../examples/two-phase-commit/index.js';
import { createModel, type Model } from '../src/check/model.js';
import { describeChoice, type Choice } from '../src/sim/choice.js';
import { Simulator } from '../src/sim/simulator.js';
import type { World } from '../src/sim/world.js';

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

function measure(label: string, model: Model, maxStates?: number, options: ExploreOptions = {}) {
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const r = explore(model, { maxStates, ...options });
  return report(label, r, heapBefore);
}

function report(label: string, r: ExploreResult, heapBefore: number) {
  const heapAfter = process.memoryUsage().heapUsed;
  const row = {
    label,
    states: r.states,
    transitions: r.transitions,
    complete: r.complete,
    ms: r.elapsedMs,
    statesPerSecond: r.statesPerSecond,
    indexBytesPerState: r.indexBytes / r.states,
    heapBytesPerState: Math.max(0, heapAfter - heapBefore) / r.states,
  };
  console.log(
    `${label.padEnd(44)} ${fmt(row.states).padStart(10)} states${row.complete ? '' : ' (cut)'}  ${fmt(row.ms).padStart(7)} ms  ${fmt(row.statesPerSecond).padStart(8)} states/s  ` +
      `visited set + parents ${row.indexBytesPerState.toFixed(1)} B/state, heap after ${row.heapBytesPerState.toFixed(0)} B/state`,
  );
  return row;
}

/**
 * The same cluster wrapped as xstate actor logic, traversed by @xstate/graph: with the kit's
 * fingerprint as its serializer (the traversal alone differs), or with its default
 * serialization, JSON.stringify of the snapshot (what the library does out of the box).
 */
class OutOfTime extends Error {}

/** `budgetMs`: stop (via `stopWhen`) once the traversal has run this long; `states` is then null. */
function graphTraversal(model: Model, serializer: 'fingerprint' | 'json', budgetMs = Infinity) {
  const sim = new Simulator(model.protocol, model.variant, model.config);
  type Snap = { status: 'active'; output: undefined; error: undefined; world: World };
  const logic = {
    transition: (s: Snap, e: { type: 'choice'; choice: Choice }): Snap => ({ ...s, world: sim.step(s.world, e.choice).world }),
    getInitialSnapshot: (): Snap => ({ status: 'active', output: undefined, error: undefined, world: sim.initial().world }),
  };
  const started = performance.now();
  const outOfTime = () => {
    if (performance.now() - started > budgetMs) throw new OutOfTime();
    return false;
  };
  let adjacency: object;
  try {
    adjacency = getAdjacencyMap(logic as never, {
      stopWhen: outOfTime as never,
      events: ((s: Snap) => (sim.withinBounds(s.world) ? sim.enabled(s.world).map((choice) => ({ type: 'choice', choice })) : [])) as never,
      ...(serializer === 'fingerprint' && {
        serializeState: ((s: Snap) => {
          const h = sim.fingerprint(s.world);
          return `${h.hi}:${h.lo}`;
        }) as never,
      }),
      serializeEvent: ((e: { choice: Choice }) => describeChoice(e.choice, model.config.nodes)) as never,
      limit: 50_000_000,
    });
  } catch (err) {
    if (err instanceof OutOfTime) return { states: null, ms: performance.now() - started, statesPerSecond: NaN };
    throw err;
  }
  const ms = performance.now() - started;
  const states = Object.keys(adjacency).length;
  return { states, ms, statesPerSecond: (states / ms) * 1000 };
}

console.log(`coordkit bench · node ${process.version} · ${new Date().toISOString()}\n`);

/**
 * Gray & Lamport's TwoPhase as examples/two-phase-commit, one thread and two, beside TLC 2.20's
 * figures for TwoPhase.tla (one worker), quoted: measured on a machine like this one, not in
 * this run (TLC cannot be installed here). Distinct counts must be equal; the kit also tries
 * deliveries the receiver ignores, which TLA+ does not enable, so it generates more.
 *
 * The machine is shared, so one thread and two run as interleaved pairs (`pairs` of them) and
 * the scaling is the median of the pairs' wall-clock ratios, printed with the load average.
 * Beside it, CPU time per thread (Linux): when the two threads together take about the CPU time
 * one thread takes, a poor wall-clock ratio is the machine's load, not the search's overhead.
 * Both runs size their visited set for the known count (`expectStates`, as a previous run's count
 * would), so neither stops to grow it; at 9 RMs a probe first says how much two threads touching
 * memory at random slow each other on this machine.
 */
async function twoPhaseRows(sizes: number[], pairs: (rms: number) => number) {
  const tlc: Record<number, string> = {
    3: '288 / 1,146',
    5: '8,832 / 58,146',
    6: '50,816 / 402,306',
    7: '296,448 / 2,744,706',
    9: '10,340,352 / 123,558,402 in 323 s, 2.8 GB',
  };
  /** TLC's distinct count (the kit's too): each run's visited set is sized for it up front (`expectStates`). */
  const worlds = (rms: number) => (tlc[rms] === undefined ? undefined : Number(tlc[rms].split(' / ')[0].replace(/,/g, '')));
  const module = new URL('../examples/two-phase-commit/index.js', import.meta.url).href;
  const load = () => loadavg().map((l) => l.toFixed(1)).join(' ');
  const s = (ms: number | undefined) => (ms === undefined ? '?' : (ms / 1000).toFixed(1));
  console.log('TwoPhase (examples/two-phase-commit, unordered-duplicating network), depth-first, one thread then two, interleaved, same run:');
  for (const rms of sizes) {
    const model = createModel(twoPhase, { nodes: rms + 1 });
    console.log(`  TLC 2.20, quoted, measured on a machine like this one, ${rms} RMs: ${tlc[rms] ?? '(no figure)'} distinct / generated`);
    if (rms <= 7) {
      const a = await allocation(model);
      console.log(`  ${rms} RMs, 1 thread: about ${fmt(a.perWorld)} bytes allocated per world, ${a.perTransition.toFixed(1)} per transition (sampled, an untimed run)`);
    }
    if (rms >= 9) {
      const probe = await memoryProbe(2 ** 28);
      console.log(`  this machine, random reads and writes over 256 MiB (a table of this size), the same work on one thread, then on each of two at once: CPU ${probe.one.toFixed(2)} s, then ${probe.two.map((x) => x.toFixed(2)).join(' and ')} s (${(probe.two.reduce((a, b) => a + b) / 2 / probe.one).toFixed(2)}x each)`);
    }
    const loadBefore = load();
    const ratios: number[] = [];
    const cpuRatios: number[] = [];
    const searchRatios: number[] = [];
    for (let pair = 1; pair <= pairs(rms); pair++) {
      let since = process.cpuUsage();
      const threadBefore = threadCpuMs();
      const one = measure(`${rms} RMs, 1 thread`, model, undefined, { search: 'dfs', expectStates: worlds(rms) });
      const oneThread = threadCpuMs() !== undefined ? threadCpuMs()! - threadBefore! : undefined;
      const oneCpu = cpuSeconds(since);
      globalThis.gc?.();
      const heap = process.memoryUsage().heapUsed;
      since = process.cpuUsage();
      const result = await exploreParallel(model, { workers: 2, module, expectStates: worlds(rms) });
      const two = report(`${rms} RMs, 2 threads`, result, heap);
      const twoCpu = cpuSeconds(since);
      const threads = result.perThread ?? [];
      const known = threads.every((t) => t.cpuMs !== undefined && t.startCpuMs !== undefined);
      const threadsCpu = known ? threads.reduce((sum, t) => sum + t.cpuMs!, 0) : undefined;
      const searching = known ? threads.reduce((sum, t) => sum + t.cpuMs! - t.startCpuMs!, 0) : undefined;
      ratios.push(one.ms / two.ms);
      if (oneThread && threadsCpu && searching) {
        cpuRatios.push(threadsCpu / oneThread);
        searchRatios.push(searching / oneThread);
      }
      console.log(
        `  pair ${pair}: ${one.states === two.states && one.transitions === two.transitions ? 'same counts' : 'counts DIFFER'}; ` +
          `1 thread ${s(one.ms)} s wall, CPU ${oneCpu.toFixed(1)} s (the search's thread ${s(oneThread)} s); ` +
          `2 threads ${s(two.ms)} s wall, CPU ${twoCpu.toFixed(1)} s (threads ${threads.map((t) => s(t.cpuMs)).join(' + ')} s, of which start-up ${threads.map((t) => s(t.startCpuMs)).join(' + ')} s, ` +
          `waiting for work ${threads.map((t) => s(t.waitMs)).join(' / ')} s, while the visited set grew ${threads.map((t) => s(t.resizingMs)).join(' / ')} s); ` +
          `wall ratio ${(one.ms / two.ms).toFixed(2)}x; load ${load()}`,
      );
    }
    console.log(
      `  ${rms} RMs, median of ${ratios.length} pair(s): 2 threads ${median(ratios).toFixed(2)}x one by wall clock; ` +
        `CPU of the two search threads ${cpuRatios.length ? `${median(cpuRatios).toFixed(2)}x that of the one (${median(searchRatios).toFixed(2)}x without their start-up)` : '(unknown)'}; ` +
        `load average (1, 5, 15 min) ${loadBefore} before, ${load()} after; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB\n`,
    );
  }
}

/**
 * Bytes allocated by one single-thread depth-first search, per world and per transition, from
 * V8's sampling heap profiler (a sample every 4 KiB allocated, kept even when the object has
 * been collected since): an estimate, steady to a few percent, and unlike time not disturbed by
 * the machine's load.
 */
async function allocation(model: Model): Promise<{ perWorld: number; perTransition: number }> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  const r = explore(model, { search: 'dfs' });
  const { profile } = await session.post('HeapProfiler.stopSampling');
  session.disconnect();
  // Each sample stands for its size (the typings of @types/node 20 omit `samples`).
  const samples = (profile as unknown as { samples: { size: number }[] }).samples;
  const bytes = samples.reduce((sum, x) => sum + x.size, 0);
  return { perWorld: bytes / r.states, perTransition: bytes / r.transitions };
}

/**
 * What the machine itself gives two threads that touch memory at random, as a search touches its
 * visited set: CPU seconds of a fixed number of random reads and writes over `bytes`, on one
 * thread alone, then on each of two threads at once. Where each of the two takes more CPU than
 * the one, the cores contend for memory (caches, TLB, DRAM), whatever the search does.
 */
async function memoryProbe(bytes: number): Promise<{ one: number; two: number[] }> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    const cpu = () => { const st = readFileSync('/proc/thread-self/stat', 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
    const a = new Int32Array(workerData / 4);
    for (let i = 0; i < a.length; i += 1024) a[i] = 1;
    const started = cpu();
    let x = 12345, acc = 0;
    for (let i = 0; i < 3e7; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; const k = x & (a.length - 1); acc = (acc + a[k]) | 0; a[k] = x; }
    parentPort.postMessage({ ms: cpu() - started, acc });`;
  const run = (threads: number) =>
    Promise.all(Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const w = new Worker(code, { eval: true, workerData: bytes });
      w.on('message', (m: { ms: number }) => resolve(m.ms / 1000));
      w.on('error', reject);
    })));
  const [one] = await run(1);
  return { one, two: await run(2) };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// `twophase [largest [pairs]]`: only the TwoPhase rows (`npm run bench:twophase` goes to 9 RMs,
// 10 million worlds); pairs of runs per size: 3 up to 7 RMs, 1 at 9 unless given.
if (process.argv[2] === 'twophase') {
  const pairs = process.argv[4] ? Number(process.argv[4]) : undefined;
  await twoPhaseRows([3, 5, 6, 7, 9].filter((r) => r <= Number(process.argv[3] ?? 9)), (rms) => pairs ?? (rms < 9 ? 3 : 1));
  process.exit(0);
}
// Warm the JIT on both paths before anything is timed.
explore(createModel(election, { maxRound: 1, maxInFlight: 2 }));
graphTraversal(createModel(election, { maxRound: 1, maxInFlight: 2 }), 'fingerprint');

console.log('explorer vs @xstate/graph getAdjacencyMap, same model (symmetry off, so all count the same states), same run:');
for (const o of [
  { label: 'election 3 nodes, terms<=1, <=3 in flight', config: { maxRound: 1, maxInFlight: 3, symmetry: false } },
  { label: 'election 3 nodes, terms<=2, <=2 in flight, crash', config: { maxRound: 2, maxInFlight: 2, faults: ['crash' as const], maxDepth: 0, symmetry: false } },
  { label: 'election 3 nodes, default bounds', config: { symmetry: false } },
  { label: 'election 4 nodes, terms<=1, <=4 in flight', config: { nodes: 4, maxRound: 1, maxInFlight: 4, symmetry: false }, budgetMs: 120_000 },
]) {
  const model = createModel(election, o.config);
  const ours = measure(`explore ${o.label}`, model);
  // On the large model the traversal gets a time budget; JSON.stringify would only be slower.
  for (const serializer of o.budgetMs ? (['fingerprint'] as const) : (['fingerprint', 'json'] as const)) {
    const graph = graphTraversal(model, serializer, o.budgetMs);
    const label = `getAdjacencyMap (${serializer === 'json' ? 'JSON.stringify' : 'kit fingerprint'})`;
    if (graph.states === null) {
      console.log(`${label.padEnd(44)} unfinished after ${fmt(graph.ms)} ms: explorer more than ${(graph.ms / ours.ms).toFixed(0)}x faster`);
      continue;
    }
    console.log(`${label.padEnd(44)} ${fmt(graph.states).padStart(10)} states  ${fmt(graph.ms).padStart(7)} ms  ${fmt(graph.statesPerSecond).padStart(8)} states/s   same states: ${graph.states === ours.states}, explorer ${(graph.ms / ours.ms).toFixed(1)}x faster`);
  }
  console.log('');
}
const reduced = measure('explore election 3 nodes, default, symmetry on', createModel(election));
console.log(`  (the same model up to renaming of node ids: ${fmt(reduced.states)} classes)\n`);

console.log('election, distinct states/second and memory:');
// The 5-node space with these bounds exceeds two million states: held up to 1.5 million here.
measure('election 5 nodes, terms<=1, <=6 in flight', createModel(election, { nodes: 5, maxRound: 1, maxInFlight: 6 }), 1_500_000);
console.log(`  heap in use after the run: ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB`);

console.log('\nevery registered primitive at its default model:');
for (const p of protocols) {
  const model = createModel(p);
  const params = Object.entries(model.config.params).map(([k, v]) => `${k} ${JSON.stringify(v)}`);
  measure(`${p.name}: ${model.config.nodes} nodes${params.length ? ', ' + params.join(', ') : ''}`, model);
}

console.log('\nsearch orders and threads, same model (mutex, 3 nodes requesting twice each), first 3 million states:');
const big = createModel(mutex, { params: { requests: 2 } });
measure('breadth-first', big, 3_000_000);
measure('depth-first', big, 3_000_000, { search: 'dfs' });
globalThis.gc?.();
const heap = process.memoryUsage().heapUsed;
const threads = await exploreParallel(big, { workers: 2, module: new URL('../machines/index.js', import.meta.url).href, maxStates: 3_000_000 });
report('depth-first, 2 threads', threads, heap);

console.log('\nghost summary: mutex keeps the grants its properties read (2 nodes, 3 requests each):');
measure('whole history', createModel({ ...mutex, ghostSummary: undefined }, { nodes: 2, params: { requests: 3 } }));
measure('latest grants', createModel(mutex, { nodes: 2, params: { requests: 3 } }));

console.log('');
// Up to 7 RMs here; 9 RMs (10 million worlds, minutes) with `npm run bench:twophase`.
await twoPhaseRows([3, 5, 6, 7], (rms) => (rms < 7 ? 1 : 3));
