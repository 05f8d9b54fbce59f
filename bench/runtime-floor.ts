/**
 * The floor under any replicated write on this machine: a TCP round trip between two processes
 * on loopback, and a durable append (write + fdatasync of a small record), next to the atomic
 * replace a state file needs (temporary file, fsync, rename, fsync of the folder).
 */
import { spawn } from 'node:child_process';
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { since } from './runtime-stats.js';

const ECHO = `const s=require('net').createServer((c)=>{c.setNoDelay(true);c.on('data',(d)=>c.write(d))}).listen(0,'127.0.0.1',()=>console.log(s.address().port));`;

/** Round trips of a one-line frame to an echo server in another process. */
export async function tcpRoundTrips(count: number): Promise<number[]> {
  const child = spawn(process.execPath, ['-e', ECHO], { stdio: ['ignore', 'pipe', 'inherit'] });
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d) => resolve(Number(String(d).trim()))));
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    const out: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await new Promise<void>((r) => {
        socket.once('data', () => r());
        socket.write('{"type":"ping"}\n');
      });
      out.push(since(t0));
    }
    socket.destroy();
    return out;
  } finally {
    clearTimeout(kill);
    child.kill('SIGKILL');
  }
}

/** Appends of a 160-byte record, each followed by fdatasync. */
export function appendSyncs(dir: string, count: number): number[] {
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, 'append.log'), 'w');
  const record = Buffer.alloc(160, 0x61);
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      writeSync(fd, record);
      fdatasyncSync(fd);
      out.push(since(t0));
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** Atomic replaces of a 160-byte state file: temporary file, fsync, rename, fsync of the folder. */
export function atomicReplaces(dir: string, count: number): number[] {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'state.json');
  const record = Buffer.alloc(160, 0x61);
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const fd = openSync(file + '.tmp', 'w');
    writeSync(fd, record);
    fsyncSync(fd);
    closeSync(fd);
    renameSync(file + '.tmp', file);
    const dirFd = openSync(dir, 'r');
    fsyncSync(dirFd);
    closeSync(dirFd);
    out.push(since(t0));
  }
  return out;
}
