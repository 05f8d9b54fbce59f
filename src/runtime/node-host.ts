/**
 * The TCP host of one node. It holds one xstate snapshot and feeds every inbound peer message,
 * timer and client request through the pure `transition()`; it then appends a trace record,
 * persists the durable part of the new context (before anything that depends on it leaves), and
 * executes the effects the machine returned: socket sends, timers with real `setTimeout` (with
 * the protocol's jitter for named timers), cancels. No protocol decision is made here (the
 * etcd-io/raft `Ready` discipline: persist, then send).
 *
 * One listening port serves peers and clients; a connection's hello says which it is. Every
 * inbound frame is validated against the generated schemas; an invalid frame is logged with its
 * reason and dropped, and a connection that keeps sending garbage is closed. When the protocol
 * declares a session-held resource (a lock), client-sessions.ts decides which connection may
 * take and give it back, and ends a lapsed lease with the machine's own release request.
 *
 * Storage is fail-stop: when the trace or the state cannot be written, the node halts inside the
 * step (no effect of it runs, every socket is destroyed, the server closes) and reports the
 * `DiskFault` once. A halt is a crash at a point a kill -9 could also have hit, which the
 * protocols and the conformance replay already allow.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { NodeId, Protocol, Variant } from '../protocol.js';
import { isCounter, MAX_NODES } from '../bounds.js';
import { effectsOf, flattenValue } from '../machine-effects.js';
import { ClientSessions } from './client-sessions.js';
import { DiskFault, type DiskIo } from './disk-io.js';
import { DurableStore } from './durable-store.js';
import { encodeFrame, LineSplitter } from './framing.js';
import { MAX_QUEUED_BYTES, PeerLink, type Address } from './peer-link.js';
import { readTrace, TraceWriter, truncateTornTail, type NodeRecord } from './trace-log.js';
import { clientName, nodeName, provenName, type TlsCredentials } from './tls.js';
import { FrameValidator } from './validator.js';
import { MAX_FRAME_BYTES, WIRE_VERSION, type AdminFrame, type ClientBoundFrame, type Hello, type InboundFrame, type PeerFrame, type RequestFrame } from './wire.js';
import { join } from 'node:path';

/** Invalid frames a connection may send before it is closed. */
export const GARBAGE_LIMIT = 5;

export interface NodeOptions {
  protocol: Protocol;
  variant: Variant;
  id: NodeId;
  cluster: string;
  listen: Address;
  /** Every other node of the cluster; ids must be 1..n with this node's. */
  peers: Map<NodeId, Address>;
  dataDir: string;
  schemaDir: string;
  /** Where log lines go (default: stderr). */
  log?: (line: string) => void;
  /** Source of timer jitter (default Math.random). */
  random?: () => number;
  /** Mutual TLS with the cluster CA; plain TCP when absent. */
  tls?: TlsCredentials;
  /** The file-system calls for the state and the trace (default: the real ones; tests inject faults). */
  disk?: DiskIo;
  /** Called once when a failed durable write halted the node (default: one log line). */
  onHalt?: (fault: DiskFault) => void;
}

type Role = { kind: 'new' } | { kind: 'peer'; node: NodeId } | { kind: 'client'; name: string };

interface Connection {
  socket: Socket;
  role: Role;
  garbage: number;
  /** Set once the node decided to close it: later frames are not read. */
  closing: boolean;
  /** With TLS: the name the peer's verified certificate proves. */
  proven: string | null;
}

export class NodeHost {
  readonly id: NodeId;
  readonly n: number;
  private snapshot!: AnyMachineSnapshot;
  private readonly store: DurableStore;
  private trace!: TraceWriter;
  private seq = 0;
  private readonly validator: FrameValidator;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly clients = new Set<Connection>();
  private readonly connections = new Set<Connection>();
  private blocked = new Set<NodeId>();
  private server: Server | null = null;
  private halted: DiskFault | null = null;
  private readonly log: (line: string) => void;
  private readonly random: () => number;
  /** Who holds the protocol's session-held resource, when it declares one. */
  private readonly sessions: ClientSessions<Connection> | null;
  /** Events processed, frames refused (for tests and metrics). */
  readonly counts = { events: 0, refused: 0 };

  constructor(private readonly options: NodeOptions) {
    this.id = options.id;
    this.n = options.peers.size + 1;
    const ids = [options.id, ...options.peers.keys()].sort((a, b) => a - b);
    if (ids.some((v, i) => v !== i + 1)) throw new Error(`node ids must be 1..${this.n} (this node and its peers), got ${ids.join(',')}`);
    if (this.n > MAX_NODES) throw new Error(`a cluster has at most ${MAX_NODES} nodes (node ids are bounded on the wire), got ${this.n}`);
    this.store = new DurableStore(options.dataDir, options.protocol.name, options.id, options.disk);
    this.validator = new FrameValidator(options.schemaDir, options.protocol.name);
    const logTo = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    this.log = (line) => logTo(`node ${this.id}: ${line}`);
    this.random = options.random ?? Math.random;
    const spec = options.protocol.sessions;
    this.sessions = spec ? new ClientSessions<Connection>(spec, { feed: (request) => this.process('client', request), log: this.log }) : null;
  }

  /** The listening port (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : this.options.listen.port;
  }

  get traceFile(): string {
    return join(this.options.dataDir, 'trace.ndjson');
  }

  /** The fault that halted the node, if one did. */
  get fault(): DiskFault | null {
    return this.halted;
  }

  /**
   * Restores the durable state (or fails on a corrupt file), starts the machine, listens and
   * dials the peers. Throws a `DiskFault` when the data folder cannot be written.
   */
  async start(): Promise<void> {
    const restored = this.store.load();
    const torn = truncateTornTail(this.traceFile, this.options.disk);
    if (torn) this.log(`${this.traceFile}:${torn.line}: truncated a torn last record (${torn.bytes} bytes, a write that did not finish)`);
    this.seq = readTrace(this.traceFile).length;
    this.trace = new TraceWriter(this.traceFile, this.options.disk);
    const [snapshot, actions] = initialTransition(this.options.variant.machine, { id: this.id, n: this.n, restored });
    if (snapshot.status === 'error') throw new Error(`machine failed to start: ${String(snapshot.error)}`);
    this.snapshot = snapshot;
    await this.listen();
    const hello: Hello = { type: 'hello', cluster: this.options.cluster, version: WIRE_VERSION, node: this.id };
    for (const [peer, address] of this.options.peers) {
      const link = new PeerLink(peer, address, hello, this.log, this.options.tls);
      this.links.set(peer, link);
      link.open();
    }
    this.apply('init', undefined, undefined, actions, { restored: restored ?? null, before: undefined });
    if (this.halted) throw this.halted;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const tls = this.options.tls;
      const server = tls
        ? createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (socket) => this.accept(socket))
        : createServer((socket) => this.accept(socket));
      if (tls) server.on('tlsClientError', (err, socket) => this.log(`refused TLS connection from ${socket.remoteAddress}:${socket.remotePort}: ${err.message}`));
      server.once('error', reject);
      server.listen(this.options.listen.port, this.options.listen.host, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log(`server error: ${err.message}`));
        this.server = server;
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    this.sessions?.close();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const link of this.links.values()) link.close();
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.trace?.close();
  }

  // ---- the step ----

  /** Feeds one event to the machine and executes what it returns. */
  private process(kind: 'peer' | 'timer' | 'client', event: { type: string }, timer?: string): NodeRecord | null {
    if (this.halted) return null;
    const before = flattenValue(this.snapshot.value);
    let next: AnyMachineSnapshot;
    let actions: readonly unknown[];
    try {
      [next, actions] = transition(this.options.variant.machine, this.snapshot, event as never);
    } catch (err) {
      this.log(`machine threw on ${event.type}: ${(err as Error).message}; event ignored`);
      return null;
    }
    if (next.status === 'error') {
      this.log(`machine failed on ${event.type}: ${String(next.error)}; event ignored`);
      return null;
    }
    this.snapshot = next;
    return this.apply(kind, event, timer, actions, { before });
  }

  /** Traces, persists, then executes the effects of the step that led to the current snapshot; null when a disk fault halted the node. */
  private apply(kind: NodeRecord['kind'], event: { type: string } | undefined, timer: string | undefined, actions: readonly unknown[], extra: { restored?: object | null; before?: string }): NodeRecord | null {
    const context = this.snapshot.context;
    const record: NodeRecord = {
      node: this.id,
      seq: this.seq++,
      time: performance.timeOrigin + performance.now(),
      kind,
      ...(event ? { event: event as NodeRecord['event'] } : {}),
      ...(timer ? { timer } : {}),
      ...(kind === 'init' ? { restored: extra.restored ?? null } : {}),
      ...(extra.before !== undefined ? { before: extra.before } : {}),
      after: flattenValue(this.snapshot.value),
      context,
      sends: [],
      notes: [],
      timers: [],
      cancels: [],
    };
    const outgoing: (() => void)[] = [];
    for (const effect of effectsOf(actions)) {
      switch (effect.kind) {
        case 'send': {
          const targets = effect.to === 'others' ? [...this.links.keys()] : [effect.to];
          for (const to of targets) outgoing.push(this.sendMessage(to, effect.msg, record));
          break;
        }
        case 'note':
          record.notes.push(effect.note);
          break;
        case 'timer': {
          const factor = this.options.protocol.timerJitter?.[effect.id] ?? 1;
          const firesInMs = Math.round(effect.delayMs * (1 + (factor - 1) * this.random()));
          record.timers.push({ id: effect.id, event: effect.event, delayMs: effect.delayMs, firesInMs });
          outgoing.push(() => this.arm(effect.id, effect.event, firesInMs));
          break;
        }
        case 'cancel':
          record.cancels.push(effect.id);
          outgoing.push(() => this.disarm(effect.id));
          break;
      }
    }
    // Trace, persist, then act: a kill between the first two leaves a traced step whose effects
    // never left the process, which the conformance replay recognizes (see conformance.ts).
    try {
      this.trace.append(record);
      this.store.save(this.options.variant.durable(context));
    } catch (err) {
      if (!(err instanceof DiskFault)) throw err;
      this.halt(err);
      return null;
    }
    this.counts.events++;
    for (const run of outgoing) run();
    for (const note of record.notes) this.toClients({ type: 'note', node: this.id, note });
    this.sessions?.observe(record.notes);
    return record;
  }

  /** Fail-stop: nothing of the failed step runs, every connection goes, the fault is reported once. */
  private halt(fault: DiskFault): void {
    this.halted = fault;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const link of this.links.values()) link.close();
    for (const c of this.connections) c.socket.destroy();
    this.server?.close();
    if (this.options.onHalt) this.options.onHalt(fault);
    else this.log(`${fault.message}; stopped`);
  }

  /**
   * Decides and records what happens to one message; returns the action that sends it. The
   * decision is made before the trace record is written, the write happens after.
   */
  protected sendMessage(to: NodeId, msg: PeerFrame['msg'], record: NodeRecord): () => void {
    const link = this.links.get(to);
    if (!link) {
      this.log(`machine sent ${msg.type} to unknown node ${to}; dropped`);
      record.sends.push({ to, msg, lost: 'unknown node' });
      return () => {};
    }
    if (this.blocked.has(to)) {
      record.sends.push({ to, msg, lost: 'partition' });
      return () => {};
    }
    const line = encodeFrame({ type: 'peer', from: this.id, to, msg } satisfies PeerFrame);
    const outcome = link.outcome(Buffer.byteLength(line));
    record.sends.push(outcome === 'sent' ? { to, msg } : { to, msg, lost: outcome });
    return () => link.send(line, outcome);
  }

  private arm(id: string, event: { type: string }, delayMs: number): void {
    this.disarm(id);
    this.timers.set(
      id,
      setTimeout(() => {
        this.timers.delete(id);
        this.process('timer', event, id);
      }, delayMs),
    );
  }

  private disarm(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  // ---- connections ----

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const proven = this.options.tls ? provenName((socket as TLSSocket).getPeerCertificate()) : null;
    const conn: Connection = { socket, role: { kind: 'new' }, garbage: 0, closing: false, proven };
    this.connections.add(conn);
    const splitter = new LineSplitter(MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) {
        if (conn.closing || socket.destroyed) return;
        try {
          if (f.kind === 'oversized') this.refuse(conn, `frame exceeds ${MAX_FRAME_BYTES} bytes`);
          else this.onLine(conn, f.text);
        } catch (err) {
          // A bug of ours must not take the node down on someone's input: drop the frame.
          this.log(`internal error on a frame from ${this.who(conn)}: ${(err as Error).message}; frame dropped`);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.connections.delete(conn);
      this.clients.delete(conn);
    });
  }

  private who(conn: Connection): string {
    const r = conn.role;
    return r.kind === 'peer' ? `peer ${r.node}` : r.kind === 'client' ? `client ${r.name}` : `unidentified connection ${conn.socket.remoteAddress}:${conn.socket.remotePort}`;
  }

  /** Logs and drops a frame; answers clients with an error; closes connections that keep sending garbage. */
  private refuse(conn: Connection, reason: string, options: { id?: number; close?: boolean } = {}): void {
    this.counts.refused++;
    conn.garbage++;
    const close = options.close || conn.garbage >= GARBAGE_LIMIT;
    this.log(`refused frame from ${this.who(conn)}: ${reason}${close ? '; closing the connection' : ''}`);
    if (conn.role.kind !== 'peer') this.write(conn, { type: 'error', ...(options.id !== undefined ? { id: options.id } : {}), reason });
    if (close) {
      conn.closing = true;
      conn.socket.end();
    }
  }

  private onLine(conn: Connection, line: string): void {
    const checked = this.validator.check(line);
    if (!checked.ok) {
      // Echo only an id that is exactly a counter: never 2 for 2.5, never a rounded 2^60.
      const id = Number(/"id"\s*:\s*(-?[\d.eE+-]+)/.exec(line)?.[1]);
      this.refuse(conn, checked.reason, { id: isCounter(id) ? id : undefined, close: conn.role.kind === 'new' });
      return;
    }
    const frame: InboundFrame = checked.value;
    if (conn.role.kind === 'new') {
      if (frame.type !== 'hello') return this.refuse(conn, `expected hello, got ${frame.type}`, { close: true });
      return this.onHello(conn, frame);
    }
    switch (frame.type) {
      case 'hello':
        return this.refuse(conn, 'second hello');
      case 'peer':
        return this.onPeer(conn, frame);
      case 'request':
        return this.onRequest(conn, frame);
      case 'admin':
        return this.onAdmin(conn, frame);
    }
  }

  private onHello(conn: Connection, hello: Hello): void {
    if (hello.cluster !== this.options.cluster) return this.refuse(conn, `hello from cluster '${hello.cluster}', this is '${this.options.cluster}'`, { close: true });
    if (hello.version !== WIRE_VERSION) return this.refuse(conn, `wire version ${hello.version} not supported (this node speaks ${WIRE_VERSION})`, { close: true });
    if ((hello.node === undefined) === (hello.client === undefined)) return this.refuse(conn, 'hello must name exactly one of node or client', { close: true });
    const claimed = hello.node !== undefined ? nodeName(hello.node) : clientName(hello.client!);
    if (this.options.tls && conn.proven !== claimed) return this.refuse(conn, `hello claims ${claimed} but the certificate proves ${conn.proven}`, { close: true });
    if (hello.node !== undefined) {
      if (!this.links.has(hello.node)) return this.refuse(conn, `hello from unknown node ${hello.node}`, { close: true });
      conn.role = { kind: 'peer', node: hello.node };
    } else {
      conn.role = { kind: 'client', name: hello.client! };
      this.clients.add(conn);
    }
    this.write(conn, { type: 'hello', cluster: this.options.cluster, version: WIRE_VERSION, node: this.id, primitive: this.options.protocol.name });
  }

  private onPeer(conn: Connection, frame: PeerFrame): void {
    if (conn.role.kind !== 'peer') return this.refuse(conn, 'peer frame on a client connection');
    if (frame.from !== conn.role.node) return this.refuse(conn, `peer frame claims to be from node ${frame.from} on node ${conn.role.node}'s connection`);
    if (frame.to !== this.id) return this.refuse(conn, `peer frame for node ${frame.to} reached node ${this.id}`);
    if (this.blocked.has(frame.from)) return; // the partition: as if it never arrived
    this.process('peer', { ...frame.msg, from: frame.from } as { type: string });
  }

  private onRequest(conn: Connection, frame: RequestFrame): void {
    if (conn.role.kind !== 'client') return this.refuse(conn, 'client request on a peer connection');
    const refusal = this.sessions?.admit(conn, frame.request);
    if (refusal) {
      this.log(`refused ${frame.request.type} from ${this.who(conn)}: ${refusal}`);
      return this.write(conn, { type: 'error', id: frame.id, reason: refusal });
    }
    if (frame.request.type === 'client.status') {
      const context = this.snapshot.context as Record<string, unknown>;
      const round = this.options.protocol.round?.(context);
      this.write(conn, {
        type: 'status',
        id: frame.id,
        node: this.id,
        primitive: this.options.protocol.name,
        state: flattenValue(this.snapshot.value),
        round: typeof round === 'number' ? round : null,
        leader: typeof context.leader === 'number' ? context.leader : null,
        connected: [...this.links.values()].filter((l) => l.connected).map((l) => l.peer),
      });
      return;
    }
    const record = this.process('client', frame.request);
    if (!record && this.halted) return;
    if (!record) return this.write(conn, { type: 'error', id: frame.id, reason: `the machine failed on ${frame.request.type}` });
    this.sessions?.settle(conn, frame.request, record.before !== record.after);
    this.write(conn, { type: 'reply', id: frame.id, node: this.id, state: record.after, notes: record.notes });
  }

  private onAdmin(conn: Connection, frame: AdminFrame): void {
    if (conn.role.kind !== 'client') return this.refuse(conn, 'admin frame on a peer connection');
    if (frame.op === 'partition') {
      const bad = (frame.block ?? []).filter((v) => !this.links.has(v));
      if (bad.length) return this.refuse(conn, `cannot partition from unknown node(s) ${bad.join(',')}`, { id: frame.id });
      this.blocked = new Set(frame.block ?? []);
      this.log(`partitioned from ${[...this.blocked].join(',') || 'nobody'}`);
    } else {
      this.blocked = new Set();
      this.log('healed');
    }
    this.write(conn, { type: 'reply', id: frame.id, node: this.id, state: flattenValue(this.snapshot.value), notes: [] });
  }

  private write(conn: Connection, frame: ClientBoundFrame): void {
    if (conn.socket.destroyed) return;
    if (conn.socket.writableLength > MAX_QUEUED_BYTES) {
      this.log(`${this.who(conn)} is not reading its answers; closing the connection`);
      conn.socket.destroy();
      return;
    }
    conn.socket.write(encodeFrame(frame));
  }

  private toClients(frame: ClientBoundFrame): void {
    for (const c of this.clients) this.write(c, frame);
  }
}
