/**
 * The processes of a harness run: N nodes, each either the implementation under test (started
 * from the command template) or one of ours (`coordkit node`), and a proxy on every directed link
 * between them. Each node listens on its own port and is told that its peers are at its proxies'
 * ports. The harness is the cluster's CA: it issues every node's certificate and its own client
 * certificate, through which it asks for status, sends the script's requests and hears every
 * note. Faults are the proxies' (partition, delay, drop) and the harness's (kill -9 of a node's
 * process group, restart with the same data folder). Every process is killed at the run's
 * deadline if it still runs, and when the harness exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { makeClusterCerts } from '../runtime/cluster-certs.js';
import { freePorts } from '../runtime/local-cluster.js';
import { NodeClient } from '../runtime/node-client.js';
import { killGroup, stopProcessGroups } from '../runtime/process-groups.js';
import { packageRoot } from '../runtime/package-root.js';
import { clientName, loadCredentials, nodeName, type TlsCredentials } from '../runtime/tls.js';
import { traceNow } from '../runtime/trace-clock.js';
import type { FrameValidator } from '../runtime/validator.js';
import type { NoteFrame } from '../runtime/wire.js';
import type { ScriptTarget } from '../runtime/cluster-script.js';
import { expandTemplate } from './command-template.js';
import { FaultPlan } from './fault-plan.js';
import { LinkProxy } from './link-proxy.js';
import type { Msg, WireRecord } from './wire-record.js';

export const HARNESS_CLIENT = 'harness';

export interface HarnessClusterOptions {
  primitive: string;
  nodes: number;
  /** The template's words (command-template.ts). */
  command: string[];
  /** Node ids that run `coordkit node` instead of the command. */
  ours: number[];
  dir: string;
  cluster: string;
  validator: FrameValidator;
  seed: number;
  /** Every process still running at this time (performance.now()) is killed. */
  deadline: number;
  startTimeoutMs: number;
  variant?: string;
  protocolFile?: string;
  schemaDir?: string;
}

const live = new Set<number>();
let hooked = false;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class HarnessCluster implements ScriptTarget {
  readonly records: WireRecord[] = [];
  readonly ids: number[];
  private readonly ports = new Map<number, number>();
  private readonly proxies = new Map<string, LinkProxy>();
  private readonly procs = new Map<number, ChildProcess>();
  private readonly clients = new Map<number, NodeClient>();
  private readonly opened: NodeClient[] = [];
  private readonly killTimers = new Set<NodeJS.Timeout>();
  readonly faults: FaultPlan;
  readonly tlsDir: string;
  private credentials!: TlsCredentials;

  private constructor(readonly o: HarnessClusterOptions) {
    this.ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
    this.faults = new FaultPlan(o.seed);
    this.tlsDir = join(o.dir, 'tls');
  }

  record(r: WireRecord): void {
    this.records.push(r);
  }

  static async start(o: HarnessClusterOptions): Promise<HarnessCluster> {
    if (!hooked) {
      hooked = true;
      process.on('exit', () => live.forEach(killGroup));
    }
    const c = new HarnessCluster(o);
    try {
      await makeClusterCerts(c.tlsDir, [...c.ids.map(nodeName), clientName(HARNESS_CLIENT)], { days: 30 });
      c.credentials = loadCredentials(c.tlsDir, clientName(HARNESS_CLIENT));
      (await freePorts(o.nodes)).forEach((p, i) => c.ports.set(i + 1, p));
      const creds = new Map(c.ids.map((id) => [id, loadCredentials(c.tlsDir, nodeName(id))]));
      for (const from of c.ids) {
        for (const to of c.ids) {
          if (from === to) continue;
          const proxy = new LinkProxy({ from, to, cluster: o.cluster, primitive: o.primitive, upstream: { host: '127.0.0.1', port: c.ports.get(to)! }, fromTls: creds.get(from)!, toTls: creds.get(to)!, validator: o.validator, faults: c.faults, record: (r) => c.record(r) });
          await proxy.start();
          c.proxies.set(`${from}>${to}`, proxy);
        }
      }
      for (const id of c.ids) c.spawnNode(id);
      await Promise.all(c.ids.map((id) => c.waitReady(id)));
      await c.waitLinked();
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  isOurs(id: number): boolean {
    return this.o.ours.includes(id);
  }

  /** The argv a node starts with. */
  argv(id: number): string[] {
    const dir = join(this.o.dir, `node-${id}`);
    const peers = this.ids.filter((p) => p !== id).map((p) => `${p}=127.0.0.1:${this.proxies.get(`${id}>${p}`)!.port}`).join(',');
    const port = String(this.ports.get(id)!);
    if (this.isOurs(id)) {
      const args = [process.execPath, join(packageRoot(), 'bin', 'coordkit.js'), 'node', '--stop-on-stdin-close', '--id', String(id), '--listen', `127.0.0.1:${port}`, '--peers', peers, '--data', dir, '--cluster', this.o.cluster, '--tls-dir', this.tlsDir];
      args.push(...(this.o.protocolFile ? ['--protocol', this.o.protocolFile] : ['--primitive', this.o.primitive]));
      if (this.o.variant) args.push('--variant', this.o.variant);
      if (this.o.schemaDir) args.push('--schemas', this.o.schemaDir);
      return args;
    }
    const name = nodeName(id);
    return expandTemplate(this.o.command, {
      id: String(id),
      n: String(this.o.nodes),
      host: '127.0.0.1',
      port,
      listen: `127.0.0.1:${port}`,
      peers,
      data: dir,
      tls: this.tlsDir,
      ca: join(this.tlsDir, 'ca.pem'),
      cert: join(this.tlsDir, `${name}.pem`),
      key: join(this.tlsDir, `${name}.key`),
      cluster: this.o.cluster,
    });
  }

  private spawnNode(id: number): void {
    const dir = join(this.o.dir, `node-${id}`);
    mkdirSync(dir, { recursive: true });
    const [cmd, ...args] = this.argv(id);
    const log = openSync(join(dir, 'node.log'), 'a');
    const child = spawn(cmd, args, { detached: true, stdio: ['pipe', log, log] });
    closeSync(log);
    child.stdin!.on('error', () => {});
    child.on('error', () => {}); // a command that cannot start: reported by waitReady
    if (child.pid === undefined) throw new Error(`cannot start node ${id}: ${cmd} was not found or is not executable`);
    live.add(child.pid);
    const killTimer = setTimeout(() => killGroup(child.pid!), Math.max(0, this.o.deadline - performance.now()));
    this.killTimers.add(killTimer);
    child.on('exit', (code, signal) => {
      live.delete(child.pid!);
      clearTimeout(killTimer);
      this.killTimers.delete(killTimer);
      this.record({ time: traceNow(), kind: 'exit', node: id, status: signal ?? String(code) });
      if (this.procs.get(id) === child) {
        this.clients.get(id)?.close();
        this.clients.delete(id);
      }
    });
    this.procs.set(id, child);
    this.record({ time: traceNow(), kind: 'start', node: id, pid: child.pid });
  }

  private running(id: number): boolean {
    const child = this.procs.get(id);
    return !!child && child.exitCode === null && child.signalCode === null;
  }

  private async waitReady(id: number): Promise<void> {
    const deadline = Math.min(performance.now() + this.o.startTimeoutMs, this.o.deadline);
    for (;;) {
      if (!this.running(id)) throw new Error(`node ${id} exited at start (${this.procs.get(id)?.exitCode ?? this.procs.get(id)?.signalCode}); see ${join(this.o.dir, `node-${id}`, 'node.log')}`);
      try {
        // The listener goes in with the hello: a note in the same read as the node's hello is recorded too.
        const onNote = (f: NoteFrame) => this.record({ time: traceNow(), kind: 'note', node: id, note: f.note as Msg });
        const client = await NodeClient.open({ host: '127.0.0.1', port: this.ports.get(id)! }, this.o.cluster, HARNESS_CLIENT, 1000, this.credentials, { onNote });
        this.record({ time: traceNow(), kind: 'observe', node: id });
        this.clients.set(id, client);
        this.opened.push(client);
        return;
      } catch (err) {
        if (performance.now() > deadline) throw new Error(`node ${id} did not answer a client hello within ${this.o.startTimeoutMs} ms: ${(err as Error).message}`);
        await sleep(50);
      }
    }
  }

  /** Until every link between up nodes is connected at both ends of its proxy. */
  async waitLinked(timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const up = this.ids.filter((id) => this.isUp(id));
      const missing = [...this.proxies.entries()].filter(([k, p]) => {
        const [a, b] = k.split('>').map(Number);
        return up.includes(a) && up.includes(b) && !p.linked;
      });
      if (!missing.length) return;
      if (performance.now() > deadline) throw new Error(`links not connected within ${timeoutMs} ms: ${missing.map(([k]) => k.replace('>', '->')).join(' ')} (a node must dial every peer address it is given)`);
      await sleep(20);
    }
  }

  client(id: number): NodeClient {
    const c = this.clients.get(id);
    if (!c) throw new Error(`node ${id} is down`);
    return c;
  }

  get notes(): NoteFrame[] {
    return this.opened.flatMap((c) => c.notes);
  }

  isUp(id: number): boolean {
    return this.clients.has(id);
  }

  async kill(id: number): Promise<void> {
    const child = this.procs.get(id);
    if (!child || !this.running(id)) throw new Error(`node ${id} is not running`);
    this.clients.get(id)?.close();
    this.clients.delete(id);
    const exited = new Promise((r) => child.once('exit', r));
    killGroup(child.pid!);
    await exited;
    this.record({ time: traceNow(), kind: 'kill', node: id });
    for (const [k, p] of this.proxies) if (k.endsWith(`>${id}`)) p.upstreamGone();
  }

  async restart(id: number): Promise<void> {
    if (this.running(id)) throw new Error(`node ${id} is still running`);
    this.spawnNode(id);
    await this.waitReady(id);
    await this.waitLinked();
  }

  async partition(sides: number[][]): Promise<void> {
    this.faults.partition(sides);
    this.record({ time: traceNow(), kind: 'fault', op: 'partition', sides });
  }

  async heal(): Promise<void> {
    this.faults.heal();
    this.record({ time: traceNow(), kind: 'fault', op: 'heal' });
  }

  async delay(ms: number, links?: [number, number][]): Promise<void> {
    this.faults.delay(ms, links);
    this.record({ time: traceNow(), kind: 'fault', op: 'delay', ms, ...(links ? { links } : {}) });
  }

  async drop(rate: number): Promise<void> {
    this.faults.drop(rate);
    this.record({ time: traceNow(), kind: 'fault', op: 'drop', rate });
  }

  /** A client request; a refusal is an answer too (its note says why). */
  async request(id: number, request: { type: string }): Promise<{ state: string; notes: unknown[] }> {
    this.record({ time: traceNow(), kind: 'request', node: id, request: request as Msg });
    const f = await this.client(id).call({ type: 'request', request });
    if (f.type === 'reply') {
      this.record({ time: traceNow(), kind: 'answer', node: id, state: f.state, notes: f.notes as Msg[] });
      return { state: f.state, notes: f.notes };
    }
    const reason = f.type === 'error' ? f.reason : `unexpected ${f.type} frame`;
    const notes = f.type === 'error' && f.note ? [f.note as Msg] : [];
    this.record({ time: traceNow(), kind: 'answer', node: id, notes, error: reason });
    return { state: `refused (${reason})`, notes };
  }

  /** Stops every node (SIGTERM, SIGKILL after `graceMs`) and every proxy. */
  async stop(graceMs = 1000): Promise<void> {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
    await stopProcessGroups(this.procs.values(), graceMs);
    for (const t of this.killTimers) clearTimeout(t);
    await Promise.all([...this.proxies.values()].map((p) => p.stop()));
  }
}
