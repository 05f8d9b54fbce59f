/**
 * The mutex clock is durable as a lease (machines/mutex/machine.ts, CLOCK_LEASE): on real hosts,
 * once the first timestamp has made the bound durable, acquires and releases wait for no disk,
 * even with every fdatasync of every node held; a timestamp past the bound still waits for its
 * flush before it leaves (persist before send); and a restarted node resumes from the bound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { CLOCK_LEASE } from '../machines/mutex/machine.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import { nodeDisk, type DiskIo } from '../src/runtime/disk-io.js';
import { readStoredState } from '../src/runtime/durable-store.js';
import { freePorts } from '../src/runtime/local-cluster.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { NodeHost, type NodeOptions } from '../src/runtime/node-host.js';
import type { Address } from '../src/runtime/peer-link.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-mutex-lease-'));
const mutex = protocols.find((p) => p.name === 'mutex')!;
const lamport = mutex.variants.find((v) => v.name === mutex.defaultVariant)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let hosts: NodeHost[] = [];
let clients: NodeClient[] = [];
let run = 0;

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const h of hosts.splice(0)) await h.stop();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The real disk, except that while shut every fdatasync waits for `reopen()` (and is counted). */
function gatedDisk(): DiskIo & { shut: () => void; reopen: () => void; waiting: number } {
  let closed = false;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const disk = {
    ...nodeDisk,
    waiting: 0,
    shut: () => {
      closed = true;
      gate = new Promise<void>((r) => (release = r));
    },
    reopen: () => {
      closed = false;
      release();
    },
    fdatasync: async (fd: number) => {
      if (closed) {
        disk.waiting++;
        await gate;
      }
      return nodeDisk.fdatasync(fd);
    },
  };
  return disk;
}

/** Three mutex hosts on loopback (plain TCP) sharing one gated disk, and a client of node 1. */
async function cluster(disk: DiskIo) {
  const dir = join(root, `run-${run++}`);
  const addresses = (await freePorts(3)).map((port) => ({ host: '127.0.0.1', port }));
  const options = addresses.map((listen, i): NodeOptions => {
    const id = i + 1;
    const peers = new Map(addresses.map((a, j) => [j + 1, a] as [number, Address]).filter(([p]) => p !== id));
    return { protocol: mutex, variant: lamport, id, cluster: 'lease', listen, peers, dataDir: join(dir, `node-${id}`), schemaDir: kitSchemaDir(), log: () => {}, insecure: true, disk };
  });
  hosts = options.map((o) => new NodeHost(o));
  for (const h of hosts) await h.start();
  const client = await NodeClient.open(addresses[0], 'lease', 'user');
  clients.push(client);
  return { dir, client, options };
}

const entered = (client: NodeClient) => client.notes.filter((n) => n.note.type === 'enter').length;

async function cycle(client: NodeClient): Promise<void> {
  const before = entered(client);
  await client.request({ type: 'client.acquire' }, 5000);
  for (const deadline = Date.now() + 5000; entered(client) === before; await sleep(2)) if (Date.now() > deadline) throw new Error('no enter');
  await client.request({ type: 'client.release' }, 5000);
}

describe('mutex: the clock durable as a lease, on real hosts', () => {
  it('acquires and releases within the lease wait for no flush: they complete while every fdatasync is held', async () => {
    const disk = gatedDisk();
    const { dir, client } = await cluster(disk);
    // Links up and the first timestamps (which make the bound durable) behind us.
    await cycle(client);
    const flushes = hosts.map((h) => h.storeCounts.flushes);
    disk.shut();
    for (let i = 0; i < 10; i++) await cycle(client);
    expect(disk.waiting).toBe(0);
    expect(hosts.map((h) => h.storeCounts.flushes)).toEqual(flushes);
    disk.reopen();
    for (const h of hosts.splice(0)) await h.stop();
    expect(readStoredState(join(dir, 'node-1'))?.durable).toEqual({ clockBound: CLOCK_LEASE });
  }, 30_000);

  it('a timestamp past the bound still waits for its flush before anything of its step leaves, and a restart resumes from the bound', async () => {
    const disk = gatedDisk();
    const { dir, client, options } = await cluster(disk);
    // Node 1's clock (its status round) moves by about three a cycle, its peers' with it.
    while ((await client.status()).round! < CLOCK_LEASE - 9) await cycle(client);
    disk.shut();
    // Request by request, until one waits: the first step that stamps a timestamp past a bound.
    let held: { done: Promise<unknown>; what: string } | null = null;
    for (let i = 0; i < 20 && !held; i++) {
      const before = entered(client);
      const answered = client.request({ type: 'client.acquire' }, 10_000).then(async () => {
        for (const deadline = Date.now() + 10_000; entered(client) === before; await sleep(2)) if (Date.now() > deadline) throw new Error('no enter');
      });
      if ((await Promise.race([answered.then(() => true), sleep(300).then(() => false)])) === false) {
        held = { done: answered, what: 'acquire' };
        break;
      }
      const released = client.request({ type: 'client.release' }, 10_000);
      if ((await Promise.race([released.then(() => true), sleep(300).then(() => false)])) === false) held = { done: released, what: 'release' };
    }
    expect(held).not.toBeNull();
    // Nothing of the held step reached the client while its flush waited.
    expect(disk.waiting).toBeGreaterThan(0);
    disk.reopen();
    await held!.done;
    if (held!.what === 'acquire') await client.request({ type: 'client.release' }, 10_000);
    while ((await client.status()).round! <= CLOCK_LEASE + 3) await cycle(client);
    await hosts[0].stop();
    expect(readStoredState(join(dir, 'node-1'))?.durable).toEqual({ clockBound: 2 * CLOCK_LEASE });
    // Restarted, node 1 resumes from the bound: its rejoin is the next timestamp.
    const again = new NodeHost(options[0]);
    hosts[0] = again;
    await again.start();
    const fresh = await NodeClient.open(options[0].listen, 'lease', 'user');
    clients.push(fresh);
    expect((await fresh.status()).round).toBeGreaterThan(2 * CLOCK_LEASE);
  }, 90_000);
});
