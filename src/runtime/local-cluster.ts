/**
 * N `coordkit node` processes on loopback: free ports, one data folder per node, kill -9,
 * restart, partition and heal (over admin frames), and a stop that leaves nothing running. Each
 * node runs in its own process group; every live group is also killed from an exit handler, so
 * a failing test or an interrupted command does not leave nodes behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { NodeClient } from './node-client.js';
import { killGroup, stopProcessGroups } from './process-groups.js';
import { packageRoot } from './package-root.js';
import type { Address } from './peer-link.js';
import type { NoteFrame } from './wire.js';
import { adminName, clientName, loadCredentials, nodeName, type TlsCredentials } from './tls.js';
import { makeClusterCerts } from './cluster-certs.js';
import { TraceWriter, type ClusterRecord } from './trace-log.js';
import { traceNow } from './trace-clock.js';

export interface LocalClusterOptions {
  primitive: string;
  nodes: number;
  /** Holds `node-<id>/` (state, trace, log) and `cluster.ndjson` (what the launcher did). */
  dir: string;
  variant?: string;
  cluster?: string;
  /** A user's protocol module instead of a registered primitive. */
  protocolFile?: string;
  /** Passed to the nodes as `--schemas DIR`. */
  schemaDir?: string;
  /** How long a starting node may take to answer, in ms. */
  startTimeoutMs?: number;
  /**
   * Plain TCP, nothing authenticated. Otherwise (the default) a fresh cluster CA and certificates
   * are made in `<dir>/tls`: one per node, `admin-launcher` (the launcher's own) and `client-user`
   * (for anyone who wants to talk to the cluster while it runs).
   */
  insecure?: boolean;
  /** Certificates made earlier (the names above, e.g. shared by several clusters) instead of a fresh CA. */
  tlsDir?: string;
  /** More `coordkit node` options for every node (e.g. `--wal-segment-bytes 1`). */
  nodeArgs?: string[];
  /**
   * The launcher's connections take every note the nodes push (the default: `notes` lists them).
   * Off, they say `notes: false` in their hello and get none, so a benchmark times its own
   * client alone, without a watcher the nodes write every note to.
   */
  launcherNotes?: boolean;
}

/** The client certificate a local cluster makes for its users (`<dir>/tls/client-user.pem`). */
export const LOCAL_CLIENT = 'user';

/** The certificates a local cluster of `nodes` nodes uses. */
export const localCertNames = (nodes: number): string[] => [...Array.from({ length: nodes }, (_, i) => nodeName(i + 1)), adminName('launcher'), clientName(LOCAL_CLIENT)];

const live = new Set<number>();
let exitHookInstalled = false;

/**
 * Kills every live node when this process exits or is told to stop. A launcher killed with -9
 * runs no handler: its nodes then see their stdin close (`--stop-on-stdin-close`) and stop.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const pid of live) killGroup(pid);
  };
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // Default behaviour again, unless someone else handles the signal too.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

/** Ports free on 127.0.0.1 right now. */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<import('node:net').Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class LocalCluster {
  readonly addresses = new Map<number, Address>();
  private readonly procs = new Map<number, ChildProcess>();
  private readonly clients = new Map<number, NodeClient>();
  /** Every launcher connection ever opened, so notes pushed before a kill are kept. */
  private readonly opened: NodeClient[] = [];
  private readonly log: TraceWriter;
  readonly cluster: string;
  /** With TLS: the folder of the CA and certificates, and the launcher's own (admin) credentials. */
  readonly tlsDir: string | null;
  private credentials?: TlsCredentials;

  private constructor(readonly options: LocalClusterOptions, ports: number[]) {
    ports.forEach((port, i) => this.addresses.set(i + 1, { host: '127.0.0.1', port }));
    this.cluster = options.cluster ?? `local-${process.pid}`;
    mkdirSync(options.dir, { recursive: true });
    this.log = new TraceWriter(join(options.dir, 'cluster.ndjson'));
    this.tlsDir = options.insecure ? null : (options.tlsDir ?? join(options.dir, 'tls'));
  }

  /** The CA (whose key is not kept: nobody can add a certificate to it) and every certificate the run needs. */
  private async makeCerts(): Promise<void> {
    if (!this.tlsDir) return;
    if (!this.options.tlsDir) await makeClusterCerts(this.tlsDir, localCertNames(this.options.nodes), { days: 30 });
    this.credentials = loadCredentials(this.tlsDir, adminName('launcher'));
  }

  static async start(options: LocalClusterOptions): Promise<LocalCluster> {
    installExitHook();
    const c = new LocalCluster(options, await freePorts(options.nodes));
    try {
      await c.makeCerts();
      c.record({ op: 'start' });
      for (let id = 1; id <= options.nodes; id++) c.spawnNode(id);
      await Promise.all([...c.addresses.keys()].map((id) => c.waitReady(id)));
      await c.waitLinked();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get ids(): number[] {
    return [...this.addresses.keys()];
  }

  nodeDir(id: number): string {
    return join(this.options.dir, `node-${id}`);
  }

  private record(r: Omit<ClusterRecord, 'node' | 'time' | 'kind'>): void {
    this.log.append({ node: 0, time: traceNow(), kind: 'fault', ...r });
  }

  private spawnNode(id: number): void {
    const dir = this.nodeDir(id);
    mkdirSync(dir, { recursive: true });
    const addr = this.addresses.get(id)!;
    const peers = this.ids.filter((p) => p !== id).map((p) => `${p}=${this.addresses.get(p)!.host}:${this.addresses.get(p)!.port}`);
    const args = [join(packageRoot(), 'bin', 'coordkit.js'), 'node', '--stop-on-stdin-close', '--id', String(id), '--listen', `${addr.host}:${addr.port}`, '--peers', peers.join(','), '--data', dir, '--cluster', this.cluster];
    if (this.options.protocolFile) args.push('--protocol', this.options.protocolFile);
    else args.push('--primitive', this.options.primitive);
    if (this.options.variant) args.push('--variant', this.options.variant);
    if (this.options.schemaDir) args.push('--schemas', this.options.schemaDir);
    args.push(...(this.tlsDir ? ['--tls-dir', this.tlsDir] : ['--insecure']), ...(this.options.nodeArgs ?? []));
    const logFd = openSync(join(dir, 'node.log'), 'a');
    const child = spawn(process.execPath, args, { detached: true, stdio: ['pipe', logFd, logFd] });
    child.stdin!.on('error', () => {});
    closeSync(logFd);
    live.add(child.pid!);
    child.on('exit', () => {
      live.delete(child.pid!);
      // A node that stopped on its own (a disk fault) is down until restarted.
      if (this.procs.get(id) === child) {
        this.clients.get(id)?.close();
        this.clients.delete(id);
      }
    });
    this.procs.set(id, child);
  }

  private async waitReady(id: number): Promise<void> {
    const deadline = Date.now() + (this.options.startTimeoutMs ?? 15_000);
    const child = this.procs.get(id)!;
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        const lines = readFileSync(join(this.nodeDir(id), 'node.log'), 'utf8').trim().split('\n');
        const why = [...lines].reverse().find((l) => /^coordkit:|Error/.test(l)) ?? lines[lines.length - 1];
        throw new Error(`node ${id} exited at start: ${why}`);
      }
      try {
        const client = await NodeClient.open(this.addresses.get(id)!, this.cluster, 'launcher', 1000, this.credentials, { notes: this.options.launcherNotes !== false });
        this.clients.set(id, client);
        this.opened.push(client);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`node ${id} did not answer within ${this.options.startTimeoutMs ?? 15_000} ms: ${(err as Error).message}`);
        await sleep(50);
      }
    }
  }

  /** Waits until every up node's links to every other up node are connected. */
  async waitLinked(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = this.ids.filter((id) => this.isUp(id));
      const statuses = await Promise.all(up.map((id) => this.client(id).status()));
      if (statuses.every((s) => up.every((o) => o === s.node || s.connected.includes(o)))) return;
      if (Date.now() > deadline) throw new Error(`peer links not connected within ${timeoutMs} ms: ${statuses.map((s) => `${s.node}->${s.connected.join(',')}`).join(' ')}`);
      await sleep(20);
    }
  }

  /** The launcher's connection to a node (up nodes only). */
  client(id: number): NodeClient {
    const c = this.clients.get(id);
    if (!c) throw new Error(`node ${id} is down`);
    return c;
  }

  /** Every note the nodes pushed to the launcher, in arrival order per connection. */
  get notes(): NoteFrame[] {
    return this.opened.flatMap((c) => c.notes);
  }

  /** The process id of a node's current process (for tools that read what it costs). */
  pid(id: number): number | undefined {
    return this.procs.get(id)?.pid;
  }

  isUp(id: number): boolean {
    return this.clients.has(id);
  }

  /** How a node's process ended: its exit code, the signal that killed it, or null while it runs. */
  exitStatus(id: number): number | NodeJS.Signals | null {
    const child = this.procs.get(id);
    return child ? (child.exitCode ?? child.signalCode) : null;
  }

  /** kill -9 of one node's process group. */
  async kill(id: number): Promise<void> {
    const child = this.procs.get(id);
    if (!child || child.exitCode !== null || child.signalCode !== null) throw new Error(`node ${id} is not running`);
    this.clients.get(id)?.close();
    this.clients.delete(id);
    const exited = new Promise((r) => child.once('exit', r));
    killGroup(child.pid!);
    await exited;
    this.record({ op: 'kill', target: id });
  }

  async restart(id: number): Promise<void> {
    const child = this.procs.get(id);
    if (child && child.exitCode === null && child.signalCode === null) throw new Error(`node ${id} is still running`);
    this.spawnNode(id);
    await this.waitReady(id);
    await this.waitLinked();
    this.record({ op: 'restart', target: id });
  }

  /** Splits the cluster: each node refuses frames from, and sends nothing to, the nodes of the other sides. */
  async partition(sides: number[][]): Promise<void> {
    const sideOf = new Map<number, number>();
    sides.forEach((side, i) => side.forEach((id) => sideOf.set(id, i)));
    for (const id of this.ids) if (!sideOf.has(id)) throw new Error(`partition does not place node ${id}`);
    this.record({ op: 'partition', sides });
    await Promise.all(this.ids.filter((id) => this.isUp(id)).map((id) => this.client(id).admin('partition', this.ids.filter((o) => sideOf.get(o) !== sideOf.get(id)))));
  }

  async heal(): Promise<void> {
    this.record({ op: 'heal' });
    await Promise.all(this.ids.filter((id) => this.isUp(id)).map((id) => this.client(id).admin('heal')));
  }

  /** A client request at one node, recorded in the launcher's trace. */
  async request(id: number, request: { type: string }) {
    this.record({ op: 'client', target: id, request });
    return this.client(id).request(request);
  }

  /** Stops every node (SIGTERM, then SIGKILL after `graceMs`) and waits until all have exited. */
  async stop(graceMs = 1500): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    await stopProcessGroups(this.procs.values(), graceMs);
    try {
      this.record({ op: 'stop' });
      this.log.close();
    } catch {
      // already closed by an earlier stop
    }
  }
}
