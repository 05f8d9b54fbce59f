/**
 * The seed's figures, asserted on executed timed simulations of the shipped scenarios (never
 * on constants): each number below is read back from the run's trace or its metrics.
 */
import { describe, expect, it } from 'vitest';
import { DEADLINE_MS } from '../machines/barrier/timing.js';
import { protocols } from '../machines/index.js';
import { simulateTimed } from '../src/sim/timed.js';
import { loadScenario } from '../src/sim/timed-scenario.js';
import { builtInSource } from '../src/cli/protocol-source.js';
import { measure } from '../src/trace/metrics.js';
import type { Trace } from '../src/trace/trace.js';

const has = (name: string) => protocols.some((p) => p.name === name);

/** Accessors that run the scenario on first use. */
const lazy = (primitive: string) => ({
  trace: () => run(primitive).trace,
  metrics: () => run(primitive).metrics,
  violations: () => run(primitive).violations,
});

const memo = new Map<string, ReturnType<typeof runUncached>>();
/** Runs a scenario once per test file; describe bodies are collected even when skipped, so runs start lazily. */
function run(primitive: string, scenario = 'seed', seed = 1) {
  const key = `${primitive}/${scenario}/${seed}`;
  if (!memo.has(key)) memo.set(key, runUncached(primitive, scenario, seed));
  return memo.get(key)!;
}

function runUncached(primitive: string, scenario: string, seed: number) {
  const protocol = protocols.find((p) => p.name === primitive)!;
  const s = loadScenario(scenario, protocols, primitive, builtInSource(protocol).scenarioDir);
  const r = simulateTimed(protocol, s, seed);
  return { ...r, metrics: measure(r.trace, s.metrics) };
}

/** Times at which `node` noted a fact of `type`. */
const noted = (trace: Trace, type: string, node?: number) =>
  trace.steps.flatMap((s) => s.notes.filter((x) => x.type === type && (node === undefined || s.node === node)).map((note) => ({ node: s.node!, atMs: s.atMs!, note })));

describe.runIf(has('consensus'))('consensus seed: 4 nodes, promise latencies 15/32/28 ms', () => {
  const { trace, metrics, violations } = lazy('consensus');

  it('counts 8 messages of the seed flow, a broadcast once, and 12 frames', () => {
    const seedFlow = ['propose', 'promise', 'commit', 'ack'].map((k) => metrics().messages.byKind[k]);
    expect(seedFlow.reduce((s, c) => s + c.messages, 0)).toBe(8);
    expect(seedFlow.reduce((s, c) => s + c.frames, 0)).toBe(12);
    expect(metrics().messages.byKind.propose).toMatchObject({ messages: 1, frames: 3 });
    expect(metrics().messages.byKind.promise).toMatchObject({ messages: 3, frames: 3 });
  });

  it('delivers promises with the seed latencies', () => {
    const promises = trace().steps.filter((s) => s.kind === 'deliver' && s.msg!.type === 'promise');
    expect(Object.fromEntries(promises.map((s) => [s.from, s.atMs! - s.sentAtMs!]))).toEqual({ 2: 15, 3: 32, 4: 28 });
  });

  it('has every node apply scale_up, and reports the completion time', () => {
    const applied = noted(trace(), 'applied');
    expect(new Set(applied.map((a) => a.node))).toEqual(new Set([1, 2, 3, 4]));
    expect(applied.every((a) => a.note.value === 'scale_up')).toBe(true);
    expect(metrics().completion?.atMs).toBe(Math.max(...applied.map((a) => a.atMs)));
    expect(violations()).toEqual([]);
  });
});

describe.runIf(has('election'))('election seed: partition {1,2,3}|{4,5} at 100 ms, heal at 500 ms', () => {
  const { trace, metrics, violations } = lazy('election');
  const during = (t: number) => t >= 100 && t < 500;

  it('elects a leader on the majority side with a term higher than any minority node holds', () => {
    const elected = noted(trace(), 'elected').filter((e) => during(e.atMs));
    expect(elected.length).toBeGreaterThan(0);
    expect(elected.every((e) => [1, 2, 3].includes(e.node))).toBe(true);
    const minorityRound = Math.max(...trace().steps.filter((s) => during(s.atMs!) && (s.node === 4 || s.node === 5) && s.round !== undefined).map((s) => s.round!));
    expect(Math.max(...elected.map((e) => Number(e.note.term)))).toBeGreaterThan(minorityRound);
  });

  it('elects no leader on the minority side', () => {
    expect(noted(trace(), 'elected').filter((e) => e.node === 4 || e.node === 5)).toEqual([]);
    expect(trace().steps.some((s) => (s.node === 4 || s.node === 5) && s.after === 'leader')).toBe(false);
  });

  it('makes the minority step down to the leader and sync after the heal', () => {
    const leader = noted(trace(), 'elected').at(-1)!;
    const written = noted(trace(), 'written', leader.node);
    expect(written.length).toBe(1);
    for (const node of [4, 5]) {
      const accepted = noted(trace(), 'accept_leader', node);
      expect(accepted.length).toBeGreaterThan(0);
      expect(accepted.every((a) => a.atMs > 500 && a.note.leader === leader.node)).toBe(true);
      const synced = noted(trace(), 'synced', node);
      expect(synced.some((x) => x.atMs > 500 && x.note.version === written[0].note.version)).toBe(true);
    }
    expect(violations()).toEqual([]);
  });

  it('reports the unavailability window from the partition to the minority following the leader', () => {
    const u = metrics().unavailability!;
    const lastAccept = Math.max(...[4, 5].map((n) => noted(trace(), 'accept_leader', n)[0].atMs));
    expect(u.fromMs).toBe(100);
    expect(u.toMs).toBe(lastAccept);
    expect(u.windowMs).toBe(lastAccept - 100);
  });
});

describe.runIf(has('mutex'))('mutex seed: requests at 0/10/25 ms, critical work 100/80/60 ms', () => {
  const { trace, metrics, violations } = lazy('mutex');
  const enters = () => noted(trace(), 'enter');
  const exits = () => noted(trace(), 'exit');

  it('enters in the order N1, N2, N3, never overlapping', () => {
    expect(enters().map((e) => e.node)).toEqual([1, 2, 3]);
    const sections = enters().map((e) => ({ from: e.atMs, to: exits().find((x) => x.node === e.node)!.atMs }));
    for (let i = 1; i < sections.length; i++) expect(sections[i].from).toBeGreaterThanOrEqual(sections[i - 1].to);
    expect(violations()).toEqual([]);
  });

  it('does 240 ms of critical work', () => {
    expect(trace().work.reduce((s, w) => s + (w.endMs! - w.startMs), 0)).toBe(240);
    expect(trace().work.map((w) => w.node)).toEqual([1, 2, 3]);
  });

  it('reports the wait from request to entry and the queue at each node over time', () => {
    expect(metrics().waits!.perNode.map((w) => [w.node, w.fromMs])).toEqual([[1, 0], [2, 10], [3, 25]]);
    const q = metrics().queues!;
    expect(Object.keys(q.perNode)).toEqual(['1', '2', '3', '4', '5']);
    // Every node, observers included, held all three requests at once, and ends with none.
    for (let node = 1; node <= 5; node++) {
      expect(q.maxPerNode[node]).toBe(3);
      expect(q.perNode[node].at(-1)!.length).toBe(0);
    }
  });
});

describe.runIf(has('barrier'))('barrier seed: work 50/75/180/60/200 ms, zero latency', () => {
  const { metrics, violations } = lazy('barrier');

  it('releases at 200 ms with waits 150, 125, 20, 140, 0 ms, 435 ms in total', () => {
    expect(metrics().waits!.releaseMs).toBe(200);
    expect(metrics().waits!.perNode.map((w) => w.waitMs)).toEqual([150, 125, 20, 140, 0]);
    expect(metrics().waits!.totalMs).toBe(435);
    expect(violations()).toEqual([]);
  });

  it('reports utilization and names the stragglers N5 and N3', () => {
    const u = metrics().utilization!;
    expect(u.busyMs).toBe(565);
    expect(u.ratio).toBeCloseTo(565 / 1000);
    expect(u.ratioDuringWait).toBe(0);
    expect(metrics().stragglers!.stragglers).toEqual([5, 3]);
  });
});

describe.runIf(has('barrier'))('timeout barrier on the seed work: released at its deadline', () => {
  const r = () => run('barrier', 'timeout');

  it('releases the first generation a deadline after the first arrival, naming the nodes still working', () => {
    const { metrics, trace, violations } = r();
    const firstArrival = Math.min(...metrics.waits!.perNode.map((w) => w.fromMs));
    const releases = noted(trace, 'release');
    expect(releases[0].atMs).toBe(firstArrival + DEADLINE_MS);
    expect(releases[0].note).toMatchObject({ deadline: true, stragglers: [3, 5] });
    expect(noted(trace, 'straggler').filter((x) => x.note.generation === 0).map((x) => x.node).sort()).toEqual([3, 5]);
    expect(violations).toEqual([]);
  });

  it('lets the fast nodes go before the stragglers arrive, and the stragglers in the next generation', () => {
    const w = r().metrics.waits!.perNode;
    const release = noted(r().trace, 'release')[0].atMs;
    for (const node of [1, 2, 4]) expect(w.find((x) => x.node === node)!.toMs).toBe(release);
    for (const node of [3, 5]) expect(w.find((x) => x.node === node)!.fromMs).toBeGreaterThan(release);
    // The nodes that waited in the strict run for the stragglers wait less here.
    const strict = run('barrier').metrics.waits!.perNode;
    for (const node of [1, 2, 4]) expect(w.find((x) => x.node === node)!.waitMs).toBeLessThan(strict.find((x) => x.node === node)!.waitMs);
  });
});

describe.runIf(has('election'))('the timed run is a function of scenario and seed', () => {
  it('replays exactly with the same seed, and the seed changes the jittered timers', () => {
    const a = run('election', 'seed', 7).trace;
    expect(run('election', 'seed', 7).trace).toEqual(a);
    const firstTimeout = (t: Trace) => t.steps.find((s) => s.kind === 'timer')!.atMs;
    const seeds = [1, 2, 3, 4, 5, 6].map((seed) => firstTimeout(run('election', 'seed', seed).trace));
    expect(new Set(seeds).size).toBeGreaterThan(1);
  });
});
