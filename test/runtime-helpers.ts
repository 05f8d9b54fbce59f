/** Helpers of the runtime tests. */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { main } from '../src/cli.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import { nodeDisk, type DiskIo } from '../src/runtime/disk-io.js';
import type { NodeOptions } from '../src/runtime/node-host.js';
import type { Protocol, Variant } from '../src/protocol.js';

/** Options of node 1 in this process, plain TCP on a free port, whose peers 2.. listen on `peerPorts`; it logs nothing. */
export const nodeOneOptions = (o: { protocol: Protocol; variant: Variant; cluster: string; dataDir: string; peerPorts: number[]; disk?: DiskIo }): NodeOptions => ({
  protocol: o.protocol,
  variant: o.variant,
  id: 1,
  cluster: o.cluster,
  listen: { host: '127.0.0.1', port: 0 },
  peers: new Map(o.peerPorts.map((port, i) => [i + 2, { host: '127.0.0.1', port }])),
  dataDir: o.dataDir,
  schemaDir: kitSchemaDir(),
  log: () => {},
  insecure: true,
  disk: o.disk,
});

export interface RawConnection {
  socket: Socket;
  received: () => string;
  closed: () => boolean;
}

/** A plain TCP connection that collects what the node sends and notices when it closes. */
export function rawConnection(address: { host: string; port: number }): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(address);
    let text = '';
    let closed = false;
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => (closed = true));
    socket.on('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => text, closed: () => closed }));
    socket.once('error', reject);
  });
}

/** Runs the `coordkit` command in this process and captures what it prints (for fast bad-input tests). */

export async function runCli(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string) => ((stdout += chunk), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => ((stderr += chunk), true)) as typeof process.stderr.write;
  try {
    return { status: await main(args), stdout, stderr };
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
}

/** Polls `get` until `ok` holds for what it returns (which it then returns); fails naming `what` with the last value. */
export async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A peer that only listens: what node 1 sends it, line by line. */
export async function listener(): Promise<{ server: Server; port: number; lines: string[] }> {
  const lines: string[] = [];
  const server = createServer((s) => {
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      lines.push(...parts);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port, lines };
}

/** The real disk, except that while shut every fdatasync waits for `reopen()`. */
export function gatedDisk(): DiskIo & { closed: boolean; shut: () => void; reopen: () => void; waiting: number } {
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const disk = {
    ...nodeDisk,
    closed: false,
    waiting: 0,
    reopen: () => {
      disk.closed = false;
      release();
    },
    fdatasync: async (fd: number) => {
      if (disk.closed) {
        disk.waiting++;
        await gate;
      }
      return nodeDisk.fdatasync(fd);
    },
    shut: () => {
      disk.closed = true;
      gate = new Promise((r) => (release = r));
    },
  };
  return disk;
}

