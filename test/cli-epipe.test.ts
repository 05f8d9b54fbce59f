/**
 * `coordkit … | head -1`: a reader that closes the pipe early ends the command quietly, with the
 * status of a process SIGPIPE ended (141), not an EPIPE stack trace. The pipe is closed before
 * the command writes anything, so every write it makes fails.
 */
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** Runs the command with the read end of `closed` (stdout or stderr) shut at once; its exit status and what it wrote to the other stream. */
function closedPipe(args: string[], closed: 'stdout' | 'stderr'): Promise<{ code: number | null; signal: string | null; other: string }> {
  const child = spawn(process.execPath, ['bin/coordkit.js', ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  child[closed].destroy();
  let other = '';
  child[closed === 'stdout' ? 'stderr' : 'stdout'].on('data', (c: Buffer) => (other += String(c)));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, other })));
}

describe('a closed output pipe', () => {
  it.each([[['list']], [['list', '--json']], [['check', 'barrier', '--param', 'generations=1', '--mode', 'explore']]])('%j: stdout closed ends with 141 and nothing on stderr', async (args) => {
    const r = await closedPipe(args, 'stdout');
    expect(r).toEqual({ code: 141, signal: null, other: '' });
  });

  it('stderr closed: a usage error that cannot be told ends with 141 too', async () => {
    const r = await closedPipe(['frobnicate'], 'stderr');
    expect(r).toEqual({ code: 141, signal: null, other: '' });
  });
});
