/**
 * The limits of limits.ts on real sockets, against in-process election hosts with small limits:
 * a connection that says no hello (or does no TLS handshake) is closed at the deadline, one over
 * a connection cap is refused while the peers' links stay up, a client over its rate gets errors
 * and keeps its connection, an idle client is closed, clients that stop reading are dropped, a
 * flood of refusals writes a bounded number of log lines; and a leader process keeps its
 * leadership under client load from other processes because peer frames are served first.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { makeClusterCerts } from '../src/runtime/cluster-certs.js';
import type { Limits } from '../src/runtime/limits.js';
import { freePorts, LocalCluster } from '../src/runtime/local-cluster.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { NodeHost } from '../src/runtime/node-host.js';
import { kitSchemaDir as schemasDir } from '../src/cli/protocol-source.js';
import type { Address } from '../src/runtime/peer-link.js';
import { loadCredentials, nodeName } from '../src/runtime/tls.js';
import type { StatusFrame } from '../src/runtime/wire.js';
import { rawConnection, type RawConnection } from './runtime-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-limits-'));
const election = protocols.find((p) => p.name === 'election')!;
const prevote = election.variants.find((v) => v.name === election.defaultVariant)!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let hosts: NodeHost[] = [];
const sockets: Socket[] = [];
let run = 0;

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const h of hosts) await h.stop();
  hosts = [];
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Started {
  hosts: NodeHost[];
  addresses: Address[];
  logs: string[][];
}

/** `n` election hosts on loopback with `limits`, plain TCP or mutual TLS. */
async function start(n: number, limits: Partial<Limits>, tls = false): Promise<Started> {
  const dir = join(root, `run-${run++}`);
  const ports = await freePorts(n);
  const addresses = ports.map((port) => ({ host: '127.0.0.1', port }));
  if (tls) await makeClusterCerts(join(dir, 'tls'), Array.from({ length: n }, (_, i) => nodeName(i + 1)));
  const logs = addresses.map(() => [] as string[]);
  hosts = addresses.map((listen, i) => {
    const id = i + 1;
    const peers = new Map(addresses.map((a, j) => [j + 1, a] as [number, Address]).filter(([p]) => p !== id));
    const security = tls ? { tls: loadCredentials(join(dir, 'tls'), nodeName(id)) } : { insecure: true };
    return new NodeHost({ protocol: election, variant: prevote, id, cluster: 'limits', listen, peers, dataDir: join(dir, `node-${id}`), schemaDir: schemasDir(), log: (l) => logs[i].push(l), limits, ...security });
  });
  for (const h of hosts) await h.start();
  return { hosts, addresses, logs };
}

/** A raw connection, closed after the test. */
async function raw(address: Address): Promise<RawConnection> {
  const c = await rawConnection(address);
  sockets.push(c.socket);
  return c;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const hello = (client: string) => JSON.stringify({ type: 'hello', cluster: 'limits', version: 1, client }) + '\n';
const statusRequest = (id: number) => JSON.stringify({ type: 'request', id, request: { type: 'client.status' } }) + '\n';

/** Opens a client to every host and waits until one leader is agreed; returns the statuses. */
async function leaderOf(s: Started): Promise<{ statuses: StatusFrame[]; clients: NodeClient[] }> {
  const clients = await Promise.all(s.addresses.map((a) => NodeClient.open(a, 'limits', 'watcher')));
  const deadline = Date.now() + 8000;
  for (;;) {
    const statuses = await Promise.all(clients.map((c) => c.status()));
    if (statuses.filter((x) => x.state === 'leader').length === 1 && new Set(statuses.map((x) => `${x.leader}/${x.round}`)).size === 1 && statuses[0].leader !== null) return { statuses, clients };
    if (Date.now() > deadline) throw new Error(`no leader: ${JSON.stringify(statuses)}`);
    await sleep(25);
  }
}

describe('limits on real sockets', () => {
  it('closes a connection that says no hello by helloDeadlineMs, and one that does no TLS handshake', async () => {
    const s = await start(2, { helloDeadlineMs: 300 });
    const c = await raw(s.addresses[0]);
    const t0 = Date.now();
    await waitFor('the node to close the silent connection', () => c.closed(), 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(c.received()).toContain('"reason":"no hello within 300 ms (helloDeadlineMs)"');
    expect(s.logs[0].some((l) => /refused frame from unidentified connection .*: no hello within 300 ms/.test(l))).toBe(true);
    for (const h of hosts) await h.stop();

    const t = await start(2, { helloDeadlineMs: 300 }, true);
    const silent = await raw(t.addresses[0]);
    await waitFor('the TLS node to close a connection that never starts its handshake', () => silent.closed(), 3000);
    expect(t.logs[0].some((l) => /refused TLS connection from 127\.0\.0\.1:\d+: no TLS handshake and no hello within 300 ms \(helloDeadlineMs\)/.test(l))).toBe(true);
  });

  it('refuses connections over maxConnectionsPerAddress and maxConnections; the peers stay linked and the leader keeps its term', async () => {
    const s = await start(3, { maxConnections: 6, maxConnectionsPerAddress: 4 });
    const { statuses, clients } = await leaderOf(s); // three watchers: one per node
    const leader = statuses[0].leader!;
    const at = s.addresses[leader - 1];
    const conns = [];
    for (let i = 0; i < 6; i++) conns.push(await raw(at));
    await sleep(200);
    // The watcher plus three idle connections fill the address's 4; the other three are refused.
    expect(conns.map((c) => c.closed())).toEqual([false, false, false, true, true, true]);
    expect(s.logs[leader - 1].filter((l) => /refused connection from 127\.0\.0\.1:\d+: 4 connections open from 127\.0\.0\.1 \(maxConnectionsPerAddress 4\)/.test(l))).toHaveLength(3);
    await sleep(700); // longer than any election timeout
    const after = await Promise.all(clients.map((c) => c.status()));
    expect(after.map((x) => [x.state, x.round, x.leader])).toEqual(statuses.map((x) => [x.state, x.round, x.leader]));
    expect(after[leader - 1].connected).toHaveLength(2);
    clients.forEach((c) => c.close());
    await sleep(100);
    // With a per-address cap above the node's, the node's cap is the one that refuses.
    for (const h of hosts) await h.stop();
    const t = await start(2, { maxConnections: 2, maxConnectionsPerAddress: 10 });
    const open = [await raw(t.addresses[0]), await raw(t.addresses[0]), await raw(t.addresses[0])];
    await sleep(200);
    expect(open.map((c) => c.closed())).toEqual([false, false, true]);
    expect(t.logs[0].some((l) => /2 connections open \(maxConnections 2\)/.test(l))).toBe(true);
  });

  it('answers requests over the rate limit with an error and keeps serving the client', async () => {
    const s = await start(2, { clientRequestsPerSecond: 2, clientRequestBurst: 5 });
    const client = await NodeClient.open(s.addresses[0], 'limits', 'eager');
    const answers = await Promise.all(Array.from({ length: 10 }, () => client.call({ type: 'request', request: { type: 'client.status' } })));
    expect(answers.filter((a) => a.type === 'status')).toHaveLength(5);
    const refused = answers.filter((a) => a.type === 'error');
    expect(refused).toHaveLength(5);
    for (const e of refused) expect(e).toMatchObject({ reason: 'over the rate limit of 2 requests/s (burst 5); request dropped' });
    // The node stops reading the client until its burst is refilled (5 / 2 per s, at most 1 s).
    await sleep(1100);
    expect((await client.status()).node).toBe(1);
    client.close();
  });

  it('closes a client that sends nothing for clientIdleTimeoutMs', async () => {
    const s = await start(2, { clientIdleTimeoutMs: 300 });
    const c = await raw(s.addresses[0]);
    c.socket.write(hello('sleepy'));
    await waitFor('the hello', () => c.received().includes('"type":"hello"'));
    await waitFor('the node to close the idle client', () => c.closed(), 3000);
    expect(s.logs[0].some((l) => /client sleepy sent nothing for 300 ms \(clientIdleTimeoutMs\); closing the connection/.test(l))).toBe(true);
  });

  it('drops every client that stops reading, and keeps serving the others', async () => {
    // Kernel socket buffers hold megabytes on loopback before the node's own buffer grows: many
    // frames per turn make filling them quick.
    const s = await start(2, { clientUnreadBytes: 16 * 1024, clientRequestsPerSecond: 1e6, clientRequestBurst: 1e6, clientFramesPerTurn: 2000 });
    const readers = await Promise.all(Array.from({ length: 4 }, () => raw(s.addresses[0])));
    let id = 0;
    for (const [i, r] of readers.entries()) {
      r.socket.write(hello(`stalled-${i}`));
      await waitFor('the hello', () => r.received().includes('"type":"hello"'));
      r.socket.pause(); // reads nothing more; the kernel buffers fill, then the node's
    }
    const t0 = Date.now();
    while (readers.some((r) => !r.closed()) && Date.now() < t0 + 40_000) {
      for (const r of readers) if (!r.closed() && r.socket.writableLength < 1 << 20) r.socket.write(Array.from({ length: 2000 }, () => statusRequest(id++)).join(''));
      await sleep(5);
    }
    console.log(`${id} requests sent, all stalled clients dropped after ${Date.now() - t0} ms`);
    expect(readers.map((r) => r.closed())).toEqual(readers.map(() => true));
    const dropped = s.logs[0].filter((l) => /client stalled-\d left over 16384 bytes unread \(clientUnreadBytes\); closing the connection/.test(l));
    expect(dropped).toHaveLength(4);
    const fine = await NodeClient.open(s.addresses[0], 'limits', 'reader');
    expect((await fine.status()).node).toBe(1);
    fine.close();
  }, 60_000);

  it('writes at most refusalLogsPerSecond refusal lines, then the count of the rest', async () => {
    const s = await start(2, { refusalLogsPerSecond: 5 });
    const conns = await Promise.all(Array.from({ length: 8 }, () => raw(s.addresses[0])));
    for (const c of conns) c.socket.write(hello('noisy') + 'garbage\n'.repeat(5));
    await waitFor('every noisy connection to be closed', () => conns.every((c) => c.closed()));
    expect(s.hosts[0].counts.refused).toBe(40);
    // A burst of 5, and 5 a second after it: the test's refusals all come within far less than a second.
    const logged = s.logs[0].filter((l) => l.includes('refused frame')).length;
    expect(logged).toBeGreaterThanOrEqual(5);
    expect(logged).toBeLessThanOrEqual(7);
    await waitFor('the count of unlogged refusals', () => s.logs[0].some((l) => / more refusals not logged \(over 5 lines\/s\)/.test(l)), 3000);
    const rest = s.logs[0].map((l) => /(\d+) more refusals not logged/.exec(l)?.[1]).filter((x) => x !== undefined).map(Number);
    expect(logged + rest.reduce((a, b) => a + b, 0)).toBe(40);
  });
});

/**
 * Writes pipelined status requests to a node as fast as the socket takes them, reads and counts
 * the answers, and prints the counts when killed (SIGTERM) or after `ms`.
 */
const FLOODER = `
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
const [port, dir, cluster, ms] = process.argv.slice(1);
const read = (f) => readFileSync(dir + '/' + f);
const s = connect({ host: '127.0.0.1', port: Number(port), ca: read('ca.pem'), cert: read('client-user.pem'), key: read('client-user.key'), checkServerIdentity: () => undefined });
const counts = { status: 0, error: 0 };
s.on('data', (d) => {
  // A marker split across two chunks is missed: a count, not an exact tally.
  for (let i = d.indexOf('"type":"'); i !== -1; i = d.indexOf('"type":"', i + 8)) {
    if (d[i + 8] === 0x73) counts.status++;
    else if (d[i + 8] === 0x65) counts.error++;
  }
});
const batch = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ type: 'request', id: i, request: { type: 'client.status' } }) + '\\n').join('');
const pump = () => { while (s.write(batch)); };
s.on('secureConnect', () => { s.write(JSON.stringify({ type: 'hello', cluster, version: 1, client: 'user' }) + '\\n'); pump(); });
s.on('drain', pump);
s.on('error', () => {});
const done = () => { process.stdout.write(JSON.stringify(counts) + '\\n'); process.exit(0); };
setTimeout(done, Number(ms));
process.on('SIGTERM', done);
`;

describe('peers before clients', () => {
  it('a leader process keeps its leadership while two clients pipeline requests at it as fast as they can', async () => {
    const c = await LocalCluster.start({ primitive: 'election', nodes: 3, dir: join(root, 'flood'), cluster: 'flood' });
    try {
      const agreed = (x: StatusFrame[]) => x.filter((s) => s.state === 'leader').length === 1 && new Set(x.map((s) => `${s.leader}/${s.round}`)).size === 1 && x[0].leader !== null;
      const before = await waitForStatus(c, agreed);
      const leader = before[0].leader!;
      const floodMs = 3000;
      const flooders = [0, 1].map(() => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', FLOODER, String(c.addresses.get(leader)!.port), c.tlsDir!, c.cluster, String(floodMs)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: floodMs + 10_000 });
        const killer = setTimeout(() => child.kill('SIGKILL'), floodMs + 10_000);
        let out = '';
        child.stdout!.on('data', (d) => (out += d));
        return new Promise<{ status: number; error: number }>((resolve) => child.on('exit', () => {
          clearTimeout(killer);
          resolve(JSON.parse(out || '{"status":0,"error":0}'));
        }));
      });
      // While the flood lasts, the leader still answers its launcher (clients take turns).
      await sleep(floodMs / 2);
      expect((await c.client(leader).status(2000)).state).toBe('leader');
      const counts = await Promise.all(flooders);
      const after = await Promise.all(c.ids.map((id) => c.client(id).status()));
      expect(after.map((s) => [s.state, s.round, s.leader])).toEqual(before.map((s) => [s.state, s.round, s.leader]));
      for (const n of counts) {
        expect(n.status).toBeGreaterThan(0);
        expect(n.error).toBeGreaterThan(100);
      }
      console.log(`flood: ${JSON.stringify(counts)}; leader ${leader} kept term ${before[0].round}`);
    } finally {
      await c.stop();
    }
  }, 60_000);
});

async function waitForStatus(c: LocalCluster, ok: (s: StatusFrame[]) => boolean): Promise<StatusFrame[]> {
  const deadline = Date.now() + 8000;
  for (;;) {
    const s = await Promise.all(c.ids.map((id) => c.client(id).status()));
    if (ok(s)) return s;
    if (Date.now() > deadline) throw new Error(`timed out: ${JSON.stringify(s)}`);
    await sleep(25);
  }
}
