/**
 * Worker processes that run checks in parallel, each check with a time limit: a check that
 * outlives it is a mutant killed by timeout (it hangs, or loops beyond any bound), and its
 * process is killed and replaced. Processes are also replaced every few checks, since each
 * mutant loads modules that stay loaded.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CheckDone, CheckJob } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));
/** Checks one process runs before it is replaced. */
const RECYCLE_AFTER = 40;

export type CheckResult = { kind: 'done'; code: number; output: string; elapsedMs: number } | { kind: 'timeout'; elapsedMs: number } | { kind: 'lost'; detail: string; elapsedMs: number };

export interface Pool {
  check(module: string, args: string[], timeoutMs: number): Promise<CheckResult>;
  close(): void;
}

interface Slot {
  child?: ChildProcess;
  runs: number;
  busy: boolean;
}

export function createPool(size: number): Pool {
  const slots: Slot[] = Array.from({ length: size }, () => ({ runs: 0, busy: false }));
  const waiting: ((slot: Slot) => void)[] = [];
  let nextKey = 0;

  const spawnIn = (slot: Slot) => {
    slot.child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
    slot.child.stderr?.resume();
    slot.runs = 0;
  };
  const stop = (slot: Slot) => {
    slot.child?.removeAllListeners();
    slot.child?.kill('SIGKILL');
    slot.child = undefined;
  };
  const acquire = () =>
    new Promise<Slot>((resolve) => {
      const free = slots.find((s) => !s.busy);
      if (free) {
        free.busy = true;
        resolve(free);
      } else waiting.push(resolve);
    });
  const release = (slot: Slot) => {
    const next = waiting.shift();
    if (next) next(slot);
    else slot.busy = false;
  };

  const runOn = (slot: Slot, module: string, args: string[], timeoutMs: number) =>
    new Promise<CheckResult>((resolve) => {
      if (!slot.child || slot.runs >= RECYCLE_AFTER) {
        stop(slot);
        spawnIn(slot);
      }
      const child = slot.child!;
      slot.runs++;
      const key = nextKey++;
      const started = performance.now();
      const elapsedMs = () => performance.now() - started;
      const finish = (r: CheckResult, kill: boolean) => {
        clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        if (kill) stop(slot);
        resolve(r);
      };
      const onMessage = (m: CheckDone) => {
        if (m.key === key) finish({ kind: 'done', code: m.code, output: m.output, elapsedMs: elapsedMs() }, false);
      };
      const onExit = (code: number | null, signal: string | null) =>
        finish({ kind: 'lost', detail: `the check process exited (${signal ?? `code ${code}`})`, elapsedMs: elapsedMs() }, true);
      const timer = setTimeout(() => finish({ kind: 'timeout', elapsedMs: elapsedMs() }, true), timeoutMs);
      child.on('message', onMessage);
      child.on('exit', onExit);
      child.send({ key, module, args } satisfies CheckJob);
    });

  return {
    async check(module, args, timeoutMs) {
      const slot = await acquire();
      try {
        return await runOn(slot, module, args, timeoutMs);
      } finally {
        release(slot);
      }
    },
    close() {
      for (const s of slots) stop(s);
    },
  };
}
