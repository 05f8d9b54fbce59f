/** Percentiles and the figures of the runtime bench, printed side by side. */
import { readdirSync, readFileSync } from 'node:fs';

export interface Sample {
  /** Latencies in ms. */
  ms: number[];
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const fixed = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

/** `p50 1.23 ms, p99 4.56 ms (n 200)` */
export function latency(ms: readonly number[]): string {
  if (ms.length === 0) return 'no samples';
  return `p50 ${fixed(percentile(ms, 50))} ms, p99 ${fixed(percentile(ms, 99))} ms (n ${ms.length})`;
}

export const perSecond = (count: number, elapsedMs: number) => `${fixed((count * 1000) / elapsedMs)}/s`;

/** Milliseconds since `t0` (a `performance.now()`). */
export const since = (t0: number) => performance.now() - t0;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function until(ok: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 2): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return true;
    await sleep(stepMs);
  }
  return false;
}

export interface Row {
  /** Rows of different systems with the same key are the same measurement, side by side. */
  key: string;
  figure: string;
  floor?: string;
  coordkit?: string;
  etcd?: string;
}

/** Rows of the same key merged into one (first figure name kept, the other added when it differs). */
export function merge(rows: readonly Row[]): Row[] {
  const out = new Map<string, Row>();
  for (const r of rows) {
    const had = out.get(r.key);
    if (!had) out.set(r.key, { ...r });
    else out.set(r.key, { ...had, ...Object.fromEntries(Object.entries(r).filter(([k, v]) => k !== 'figure' && v !== undefined)), figure: had.figure === r.figure ? had.figure : `${had.figure} / ${r.figure}` });
  }
  return [...out.values()];
}

/** A Markdown table: figure | floor | coordkit | etcd. */
export function table(rows: readonly Row[]): string {
  const lines = ['| figure | floor | coordkit | etcd |', '|---|---|---|---|'];
  for (const r of merge(rows)) lines.push(`| ${r.figure} | ${r.floor ?? ''} | ${r.coordkit ?? ''} | ${r.etcd ?? ''} |`);
  return lines.join('\n');
}

/**
 * Seconds of a write load that run before it is measured, for coordkit and etcd alike: a fresh
 * coordkit cluster took its first two or three seconds of 32 writers at about half the rate of
 * the seconds after them (timed in 1 s windows on a loaded 2-core machine).
 */
export const WARMUP_SECONDS = 2;

/**
 * Seconds of requests of the kind a latency figure times that run, untimed, just before it, for
 * coordkit and etcd alike: the figure is a warm process's (code paths compiled, connections
 * open), as a service's after it has run a while. V8 compiles a node's hot paths only after some
 * thousand steps: a mutex acquire's p50, in windows of 250 cycles from a fresh cluster's first,
 * went 1.80, 1.53, 1.19, 0.91, 0.90, 0.74 ms and stayed near 0.7 (two runs alike, one cycle at
 * most every PACE_MS, a quiet 2-core machine); 20 untimed requests, the warm-up before this one,
 * left every latency figure in the first window.
 */
export const WARMUP_REQUEST_SECONDS = 3;

/**
 * A timed (or warm-up) request starts at most once every this many ms, so one client stays
 * under a node's default rate of 1,000 requests/s (limits.ts) when each is two requests (a mutex
 * acquire and release); etcd's are paced the same.
 */
export const PACE_MS = 2.5;

/** Runs `request`, then waits out what is left of PACE_MS since it started; its result. */
export async function paced<T>(request: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const out = await request();
  // A timer may fire up to a millisecond early (libuv counts whole ones): wait again until due.
  for (let left = PACE_MS - since(t0); left > 0; left = PACE_MS - since(t0)) await sleep(Math.ceil(left));
  return out;
}

/**
 * Runs `request` for WARMUP_REQUEST_SECONDS, one after another and paced, untimed by the figure
 * it precedes; what each one that returned a number (its own timing) returned, in order.
 */
export async function warmUp(request: (i: number) => Promise<unknown>): Promise<number[]> {
  const stopAt = performance.now() + WARMUP_REQUEST_SECONDS * 1000;
  const ms: number[] = [];
  let i = 0;
  while (performance.now() < stopAt) {
    const out = await paced(() => request(i++));
    if (typeof out === 'number') ms.push(out);
  }
  return ms;
}

/** Requests per window of `settling`. */
export const WINDOW = 250;

/** How a latency settles while a process warms up: the p50 of each whole WINDOW of `ms`, in order. */
export function settling(ms: readonly number[]): string {
  const p50s: string[] = [];
  for (let at = 0; at + WINDOW <= ms.length; at += WINDOW) p50s.push(percentile(ms.slice(at, at + WINDOW), 50).toFixed(2));
  return p50s.length ? `${p50s.join(', ')} ms (p50 of each ${WINDOW})` : `fewer than ${WINDOW} requests`;
}

/**
 * Cycles a cycles-per-second figure runs back to back (after a pause that refills the client's
 * allowance): 200 requests, within what a node's default rate limit allows one client at up to
 * 1,000 cycles/s (its burst of 100 and 1,000 more per second).
 */
export const BURST_CYCLES = 100;

/** CPU of a process so far, every thread's (Linux /proc, in ns), in ms; NaN once it is gone. */
export function processCpuMs(pid: number): number {
  let ns = 0;
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return NaN;
  }
  for (const task of tasks) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // a thread that ended between the listing and the read
    }
  }
  return Math.round(ns / 1e5) / 10;
}

/** What a measured load took: its duration, and the CPU the servers and this process (the clients) spent in it, in ms. */
export interface MeasuredLoad {
  elapsedMs: number;
  serverCpuMs: number;
  clientCpuMs: number;
}

/**
 * Every writer calls `write` again as soon as its last call ended: for WARMUP_SECONDS with
 * `counted` false, then for `seconds` with it true; `servers` names the server processes whose
 * CPU the counted part is charged with (NaN where /proc cannot tell).
 */
export async function measuredLoad<W>(writers: W[], servers: () => (number | undefined)[], seconds: number, write: (writer: W, i: number, k: number, counted: boolean) => Promise<void>): Promise<MeasuredLoad> {
  const run = (forSeconds: number, counted: boolean) => {
    const stopAt = performance.now() + forSeconds * 1000;
    return Promise.all(
      writers.map(async (w, i) => {
        for (let k = 0; performance.now() < stopAt; k++) await write(w, i, k, counted);
      }),
    );
  };
  await run(WARMUP_SECONDS, false);
  const serverCpu = () => servers().reduce<number>((sum, pid) => sum + (pid === undefined ? NaN : processCpuMs(pid)), 0);
  const before = serverCpu();
  const client = process.cpuUsage();
  const t0 = performance.now();
  await run(seconds, true);
  const elapsedMs = since(t0);
  const used = process.cpuUsage(client);
  return { elapsedMs, serverCpuMs: serverCpu() - before, clientCpuMs: (used.user + used.system) / 1000 };
}

/** CPU per counted write, the servers' and the clients', in µs (the servers' left out where /proc cannot tell). */
export function cpuPerWrite(load: MeasuredLoad, writes: number, servers: string): string {
  const us = (ms: number) => Math.round((1000 * ms) / writes);
  return `CPU per write ${Number.isFinite(load.serverCpuMs) ? `${us(load.serverCpuMs)} µs ${servers} + ` : ''}${us(load.clientCpuMs)} µs clients`;
}
