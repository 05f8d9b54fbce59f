/**
 * Stopping child processes that lead process groups of their own (spawned `detached`), as the
 * local cluster's nodes and the harness's implementations are: a group is signalled whole, so
 * whatever a node started stops with it.
 */
import type { ChildProcess } from 'node:child_process';

/** SIGKILL to the process group `pid` leads; nothing when it is gone already. */
export function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Sends SIGTERM to each running child's group, SIGKILL after `graceMs`, and waits until all have exited. */
export async function stopProcessGroups(children: Iterable<ChildProcess>, graceMs: number): Promise<void> {
  const running = [...children].filter((c) => c.exitCode === null && c.signalCode === null);
  await Promise.all(
    running.map(
      (child) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => killGroup(child.pid!), graceMs);
          child.once('exit', () => {
            clearTimeout(timer);
            resolve();
          });
          try {
            process.kill(-child.pid!, 'SIGTERM');
          } catch {
            clearTimeout(timer);
            resolve();
          }
        }),
    ),
  );
}
