/** The `coordkit` command's entry point run in this process, for tests that need no process of their own. */
import { main } from '../src/cli.js';

/** `main(args)` with stdout and stderr captured: its exit code and what it wrote, shaped as a spawnSync result. */
export async function inProcess(...args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const write = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((c: string) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    const status = await main(args);
    return { status, stdout: out.join(''), stderr: err.join('') };
  } finally {
    [process.stdout.write, process.stderr.write] = write as [typeof process.stdout.write, typeof process.stderr.write];
  }
}
