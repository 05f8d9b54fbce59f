/**
 * The TCP host of one node. It holds one xstate snapshot and feeds every inbound peer message,
 * timer and client request through the pure `transition()`; it then appends a trace record
 * (written with the other records of the turn, before the log record of any of their states and
 * before any of their effects leaves), saves the durable part of the new context to the
 * write-ahead log (durable-store.ts), and
 * executes the effects the machine returned: timers with real `setTimeout` (with the protocol's
 * jitter for named timers) and cancels at once, socket sends, notes and replies once the flush
 * covering the step is on disk (a step with nothing to send and no client to tell waits for no
 * flush: its state rides the next one; a step whose every message and note is of a type the
 * variant lets leave before its flush, `Variant.beforeFlush`, sends them at once when nothing of
 * an earlier step still waits, and the checker explores a crash before that flush). No protocol decision is made here (the etcd-io/raft `Ready`
 * discipline: persist, then send). The flush runs off the event loop, so later frames and timers
 * are handled meanwhile; their sends queue behind it in order, and ride the next flush.
 *
 * One listening port serves peers, clients and admins. With mutual TLS (the default) the
 * certificate proves which a connection is and the hello must agree with it; peers may send only
 * peer frames under their own id, clients only client requests, admins also partition and heal.
 * Without TLS (`insecure`) the hello's claim is all there is, and the node says so. Every
 * inbound frame is validated against the generated schemas; a refused frame is logged with its
 * reason (rate-limited) and dropped, and a connection that keeps sending garbage is closed. The
 * bounds on what a connection may cost are in limits.ts; peer frames are handled as they arrive,
 * client frames a few per event-loop turn after them (client-queue.ts).
 *
 * When the protocol declares a session-held resource (a lock), client-sessions.ts decides which
 * connection may take and give it back, and ends a lapsed lease with the machine's own release
 * request.
 *
 * Storage is fail-stop: when the trace or the state cannot be written, the node halts inside the
 * step (no effect of it runs, every socket is destroyed, the server closes) and reports the
 * `DiskFault` once. A halt is a crash at a point a kill -9 could also have hit, which the
 * protocols and the conformance replay already allow.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { AnyMachineSnapshot } from 'xstate';
import type { NodeId, Protocol, Variant } from '../protocol.js';
import { isCounter, MAX_NODES } from '../bounds.js';
import { describeMessage } from '../describe-message.js';
import { effectsOf, flattenValue } from '../machine-effects.js';
import { ClientSessions } from './client-sessions.js';
import { machineStepper, type Step } from './machine-stepper.js';
import { DiskFault, type DiskIo } from './disk-io.js';
import { earlyTypes, notesEarly, sendsEarly, type EarlyTypes } from '../before-flush.js';
import { DurableStore, type StoreOptions } from './durable-store.js';
import { encodeFrame, LineSplitter, writeInTick } from './framing.js';
import { PeerLink, type Address } from './peer-link.js';
import { ClientQueue } from './client-queue.js';
import { DEFAULT_LIMITS, RateLimitedLog, TokenBucket, type Limits } from './limits.js';
import { nextSeq, TraceWriter, truncateTornTail, type NodeRecord } from './trace-log.js';
import { freezeNew, thrownWhy } from '../freeze-new.js';
import { traceNow } from './trace-clock.js';
import { adminName, clientName, identityOf, nodeName, provenName, shareServerContext, type TlsCredentials } from './tls.js';
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
  /** Mutual TLS with the cluster CA. A node needs these or `insecure`. */
  tls?: TlsCredentials;
  /** The file-system calls for the state and the trace (default: the real ones; tests inject faults). */
  disk?: DiskIo;
  /** Called once when a failed durable write halted the node (default: one log line). */
  onHalt?: (fault: DiskFault) => void;
  /** Plain TCP with nothing authenticated: any connection may claim any identity. */
  insecure?: boolean;
  /** Lower (or raise) some of the DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
  /** How the write-ahead log is kept (default: DEFAULT_SEGMENT_BYTES per segment). */
  store?: StoreOptions;
}

/** What a step does outside the process once the state it depends on is on disk. */
interface Held {
  ticket: number;
  run: () => void;
  /** Called instead of `run` when the node halts first. */
  drop?: () => void;
}

type Role = { kind: 'new' } | { kind: 'peer'; node: NodeId } | { kind: 'client'; name: string; admin: boolean };

interface Connection {
  socket: Socket;
  role: Role;
  garbage: number;
  /** Set once the node decided to close it: later frames are not read. */
  closing: boolean;
  /** With TLS: the name the peer's verified certificate proves. */
  proven: string | null;
  /** `address:port`, the key of its entry in `admitted`. */
  key: string;
  /** Requests a client may still send now. */
  bucket: TokenBucket;
  /** Not read until its rate allows again. */
  coolingOff: boolean;
}

interface Admitted {
  /** Stops counting it against the caps (once proven a peer, or closed). */
  release: () => void;
  /** From the TCP accept to the hello, TLS handshake included. */
  deadline: NodeJS.Timeout | null;
  /** Once its TLS handshake is done (at once without TLS). */
  conn: Connection | null;
}

/** The id of a refused request, echoed only when it is exactly a counter: never 2 for 2.5, never a rounded 2^60. */
const idOf = (line: string): number | undefined => {
  const id = Number(/"id"\s*:\s*(-?[\d.eE+-]+)/.exec(line)?.[1]);
  return isCounter(id) ? id : undefined;
};

export class NodeHost {
  readonly id: NodeId;
  readonly n: number;
  private snapshot!: AnyMachineSnapshot;
  /** xstate's `transition()` for this node's machine (machine-stepper.ts). */
  private step!: Step;
  private readonly store: DurableStore;
  private trace!: TraceWriter;
  private seq = 0;
  private readonly validator: FrameValidator;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Client connections that take every note. */
  private readonly clients = new Set<Connection>();
  private readonly connections = new Set<Connection>();
  /** The inbound connection of each peer (the newest one it opened). */
  private readonly peerConnections = new Map<NodeId, Connection>();
  /** Open connections not proven to be peers, per remote address, and in all. */
  private readonly unproven = new Map<string, number>();
  private unprovenTotal = 0;
  /** Every open connection by `address:port`, from the TCP accept on. */
  private readonly admitted = new Map<string, Admitted>();
  private readonly limits: Limits;
  private readonly refusals: RateLimitedLog;
  private readonly clientFrames: ClientQueue<Connection>;
  private blocked = new Set<NodeId>();
  private server: Server | null = null;
  private halted: DiskFault | null = null;
  private stopped = false;
  /** The context of the step last saved (the machine makes a new one whenever it changes). */
  private savedContext: unknown = undefined;
  /** A write of this turn's trace records is due. */
  private traceScheduled = false;
  /** Effects waiting for their flush, in step order. */
  private readonly held: Held[] = [];
  /** The last step whose messages and notes left before its flush: the answer to its request may too. */
  private leftEarly: NodeRecord | null = null;
  private readonly log: (line: string) => void;
  private readonly random: () => number;
  /** Who holds the protocol's session-held resource, when it declares one. */
  private readonly sessions: ClientSessions<Connection> | null;
  /** The message and note types the variant lets leave before their step's flush (Variant.beforeFlush); null: none. */
  private readonly beforeFlush: EarlyTypes | null;
  /** The texts of the step's context fields the trace serialized already, for the log's record of the same step. */
  private readonly textOf = (value: unknown) => this.trace.textOf(value);
  /** Events processed, frames refused (for tests and metrics). */
  readonly counts = { events: 0, refused: 0 };

  constructor(private readonly options: NodeOptions) {
    this.id = options.id;
    this.n = options.peers.size + 1;
    const ids = [options.id, ...options.peers.keys()].sort((a, b) => a - b);
    if (ids.some((v, i) => v !== i + 1)) throw new Error(`node ids must be 1..${this.n} (this node and its peers), got ${ids.join(',')}`);
    if (this.n > MAX_NODES) throw new Error(`a cluster has at most ${MAX_NODES} nodes (node ids are bounded on the wire), got ${this.n}`);
    this.store = new DurableStore(options.dataDir, options.protocol.name, options.id, options.disk, options.store);
    this.store.onDurable = () => this.release();
    this.store.onFault = (fault) => this.halt(fault);
    this.store.beforeWrite = () => this.trace.flush();
    this.validator = new FrameValidator(options.schemaDir, options.protocol.name, options.dataDir);
    const logTo = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
    this.log = (line) => logTo(`node ${this.id}: ${line}`);
    this.random = options.random ?? Math.random;
    if (!options.tls === !options.insecure) throw new Error('a node needs TLS credentials or insecure: true (and not both)');
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.refusals = new RateLimitedLog(this.log, this.limits.refusalLogsPerSecond);
    this.clientFrames = new ClientQueue(this.limits.clientFramesPerTurn, this.limits.clientQueuedBytes, (conn, line) => this.onClientLine(conn, line), (conn) => conn.coolingOff);
    const spec = options.protocol.sessions;
    this.sessions = spec ? new ClientSessions<Connection>(spec, { feed: (request) => this.process('client', request), log: this.log }) : null;
    this.beforeFlush = earlyTypes(options.variant);
  }

  /** The listening port (useful with port 0). */
  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : this.options.listen.port;
  }

  get traceFile(): string {
    return join(this.options.dataDir, 'trace.ndjson');
  }

  /** Flushes of the write-ahead log and records written (group commit: flushes <= steps that saved). */
  get storeCounts(): { flushes: number; writes: number; compactions: number } {
    return { flushes: this.store.flushes, writes: this.store.writes, compactions: this.store.compactions };
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
    if (this.store.torn) this.log(`${this.store.torn.file}: truncated a torn last record (${this.store.torn.bytes} bytes, a write that did not finish)`);
    const torn = truncateTornTail(this.traceFile, this.options.disk);
    if (torn) this.log(`${this.traceFile}:${torn.line}: truncated a torn last record (${torn.bytes} bytes, a write that did not finish)`);
    this.seq = nextSeq(this.traceFile);
    this.trace = new TraceWriter(this.traceFile, this.options.disk, { frozen: true });
    const input = { id: this.id, n: this.n, restored };
    this.step = machineStepper(this.options.variant.machine, input);
    const [snapshot, actions] = this.step.initial();
    if (snapshot.status === 'error') throw new Error(`machine failed to start: ${String(snapshot.error)}`);
    this.snapshot = snapshot;
    await this.listen();
    if (this.options.insecure) this.log(`WARNING: insecure: plain TCP, nothing authenticated; anyone who can reach port ${this.port} can act as any node, client or admin`);
    const hello: Hello = { type: 'hello', cluster: this.options.cluster, version: WIRE_VERSION, node: this.id };
    for (const [peer, address] of this.options.peers) {
      const link = new PeerLink(peer, address, hello, this.log, this.options.tls);
      this.links.set(peer, link);
      link.open();
    }
    this.apply('init', undefined, undefined, actions, { restored: restored ?? null, before: undefined });
    // Started once the first state is on disk: a folder that takes no writes fails the start.
    await new Promise<void>((resolve) => this.hold(this.store.submitted, resolve, resolve));
    if (this.halted) throw this.halted;
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const tls = this.options.tls;
      const server = tls
        ? createTlsServer({ ...tls, requestCert: true, rejectUnauthorized: true }, (socket) => this.accept(socket))
        : createServer((socket) => this.accept(socket));
      if (tls) shareServerContext(tls, server);
      // Runs before the TLS handshake: a connection over a cap costs no handshake.
      server.prependListener('connection', (socket: Socket) => this.admit(socket));
      if (tls) {
        server.on('tlsClientError', (err: NodeJS.ErrnoException, socket) => {
          // A hang-up before the handshake ended (a port probe, or one we closed ourselves) proves nothing to refuse.
          if (err.code !== 'ECONNRESET') this.refusals.line(`refused TLS connection from ${socket.remoteAddress}:${socket.remotePort}: ${err.message}`);
        });
      }
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
    this.stopped = true;
    this.sessions?.close();
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    for (const link of this.links.values()) link.close();
    for (const c of this.connections) c.socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.refusals.flush();
    await this.store.close();
    if (this.trace && !this.halted) this.writeTrace();
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
      [next, actions] = this.step(this.snapshot, event);
    } catch (err) {
      this.log(`machine threw on ${event.type}: ${thrownWhy(err)}; event ignored`);
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
    // What the step made is frozen with the rest: the machine replaces its context, never edits
    // it (a machine that edits it throws, and the event is ignored), so the trace and the log
    // may take a field that is the same object as before for the same text.
    freezeNew(context);
    const record: NodeRecord = {
      node: this.id,
      seq: this.seq++,
      time: traceNow(),
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
    /** Sends wait for the flush; timers are the process's own and start at once. */
    const outgoing: (() => void)[] = [];
    const local: (() => void)[] = [];
    /** Everything the step lets leave may leave before its flush (Variant.beforeFlush). */
    let early = this.beforeFlush !== null;
    for (const effect of effectsOf(actions)) {
      switch (effect.kind) {
        case 'send': {
          early &&= sendsEarly(this.beforeFlush!, effect.msg);
          const targets = effect.to === 'others' ? [...this.links.keys()] : [effect.to];
          for (const to of targets) outgoing.push(this.sendMessage(to, effect.msg, record));
          break;
        }
        case 'note':
          early &&= notesEarly(this.beforeFlush!, effect.note);
          record.notes.push(effect.note);
          break;
        case 'timer': {
          const factor = this.options.protocol.timerJitter?.[effect.id] ?? 1;
          const firesInMs = Math.round(effect.delayMs * (1 + (factor - 1) * this.random()));
          record.timers.push({ id: effect.id, event: effect.event, delayMs: effect.delayMs, firesInMs });
          local.push(() => this.arm(effect.id, effect.event, firesInMs));
          break;
        }
        case 'cancel':
          record.cancels.push(effect.id);
          local.push(() => this.disarm(effect.id));
          break;
      }
    }
    // Trace, persist, then act: a kill before the flush leaves traced steps whose effects never
    // left the process, which the conformance replay recognizes (see conformance.ts). The record
    // is written with the others of this turn, before the log record of its state
    // (store.beforeWrite) and before any effect of it leaves (writeTrace, in hold and release).
    let ticket: number;
    try {
      this.trace.buffer(record);
      this.traceLater();
      // A step that left the context as it was (an ack, a heartbeat) saves nothing new.
      // Saved lazily: a flush starts when something waits for it (hold), or a little later.
      ticket = context === this.savedContext ? this.store.submitted : this.store.save(this.options.variant.durable(context), 'lazily', this.textOf);
      this.savedContext = context;
    } catch (err) {
      if (!(err instanceof DiskFault)) throw err;
      this.halt(err);
      return null;
    }
    this.counts.events++;
    for (const run of local) run();
    const leave = () => {
      for (const run of outgoing) run();
      for (const note of record.notes) this.toClients({ type: 'note', node: this.id, note });
    };
    if (early && this.held.length === 0 && (outgoing.length || record.notes.length) && this.writeTrace()) {
      // What the variant lets leave before the flush leaves now, unless an earlier step's effects
      // still wait (they go first); the flush starts at once all the same.
      leave();
      this.store.need(ticket);
      this.leftEarly = record;
    } else if (outgoing.length || (record.notes.length && this.clients.size)) this.hold(ticket, leave);
    // Else nothing leaves (no send, no client to tell): the state is not waited for, and a kill
    // before its flush is a kill before the step, the event lost with the process.
    // The sessions follow the machine step by step, as they do a request's step (settle): seen
    // only after the flush, a release would reach them after a later step gave the lock an owner.
    this.sessions?.observe(record.notes);
    return record;
  }

  /**
   * Runs `run` once every state saved so far is on disk (at once when it is), after everything
   * held before it; `drop` instead when the node halts first.
   */
  private hold(ticket: number, run: () => void, drop?: () => void): void {
    if (this.held.length === 0 && ticket <= this.store.durable && this.writeTrace()) return run();
    if (this.halted) return drop?.();
    this.held.push({ ticket, run, drop });
    this.store.need(ticket);
  }

  /** A flush finished: what waited for it goes, in order. */
  private release(): void {
    if (!this.held.length || this.held[0].ticket > this.store.durable || !this.writeTrace()) return;
    while (this.held.length && this.held[0].ticket <= this.store.durable && !this.halted) {
      const next = this.held.shift()!;
      if (this.stopped) next.drop?.();
      else next.run();
    }
  }

  /**
   * Writes the trace records buffered so far, before anything that depends on their steps
   * leaves; false when the write failed and halted the node.
   */
  protected writeTrace(): boolean {
    if (this.halted) return false;
    try {
      this.trace.flush();
      return true;
    } catch (err) {
      if (!(err instanceof DiskFault)) throw err;
      this.halt(err);
      return false;
    }
  }

  /** Writes this turn's records at its end, when nothing wrote them sooner. */
  private traceLater(): void {
    if (this.traceScheduled) return;
    this.traceScheduled = true;
    setImmediate(() => {
      this.traceScheduled = false;
      if (this.trace.buffered && !this.stopped) this.writeTrace();
    });
  }

  /** Fail-stop: nothing of the failed step runs, every connection goes, the fault is reported once. */
  private halt(fault: DiskFault): void {
    if (this.halted) return;
    this.halted = fault;
    // The steps taken meanwhile are traced as they were taken (none of their effects ran); after a failed trace write nothing more is written.
    try {
      this.trace?.flush();
    } catch {
      // the trace's own fault, reported below or already
    }
    for (const h of this.held.splice(0)) h.drop?.();
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

  /**
   * A timer that comes due is handled after the frames that had already arrived by then (the
   * event loop polls sockets before `setImmediate` callbacks): after a busy moment, a follower
   * reads the leader's heartbeat that beat its election timeout before the timeout counts. If one
   * of them re-arms or cancels the timer, the old firing is void.
   */
  private arm(id: string, event: { type: string }, delayMs: number): void {
    this.disarm(id);
    const handle: NodeJS.Timeout = setTimeout(() => {
      setImmediate(() => {
        if (this.timers.get(id) !== handle) return;
        this.timers.delete(id);
        this.process('timer', event, id);
      });
    }, delayMs);
    this.timers.set(id, handle);
  }

  private disarm(id: string): void {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.timers.delete(id);
  }

  // ---- connections ----

  /** Counts a new connection against the caps, or refuses it; every connection is counted until proven a peer or closed. */
  private admit(socket: Socket): void {
    const address = socket.remoteAddress ?? 'unknown';
    const fromAddress = this.unproven.get(address) ?? 0;
    const over =
      this.unprovenTotal >= this.limits.maxConnections ? `${this.unprovenTotal} connections open (maxConnections ${this.limits.maxConnections})`
      : fromAddress >= this.limits.maxConnectionsPerAddress ? `${fromAddress} connections open from ${address} (maxConnectionsPerAddress ${this.limits.maxConnectionsPerAddress})`
      : null;
    if (over) {
      this.counts.refused++;
      this.refusals.line(`refused connection from ${address}:${socket.remotePort}: ${over}`);
      socket.destroy();
      return;
    }
    this.unprovenTotal++;
    this.unproven.set(address, fromAddress + 1);
    const key = `${address}:${socket.remotePort}`;
    let counted = true;
    const release = () => {
      if (!counted) return;
      counted = false;
      this.unprovenTotal--;
      const left = (this.unproven.get(address) ?? 1) - 1;
      if (left > 0) this.unproven.set(address, left);
      else this.unproven.delete(address);
    };
    const entry: Admitted = { release, deadline: null, conn: null };
    entry.deadline = setTimeout(() => this.late(socket, entry), this.limits.helloDeadlineMs);
    this.admitted.set(key, entry);
    socket.once('close', () => {
      release();
      if (entry.deadline) clearTimeout(entry.deadline);
      this.admitted.delete(key);
    });
  }

  /** A connection without a hello (or a TLS handshake) at its deadline is closed. */
  private late(socket: Socket, entry: Admitted): void {
    entry.deadline = null;
    const reason = `no hello within ${this.limits.helloDeadlineMs} ms (helloDeadlineMs)`;
    if (entry.conn) return this.refuse(entry.conn, reason, { close: true });
    this.counts.refused++;
    this.refusals.line(`refused TLS connection from ${socket.remoteAddress}:${socket.remotePort}: no TLS handshake and ${reason}`);
    socket.destroy();
  }

  private accept(socket: Socket): void {
    if (socket.destroyed) return;
    socket.setNoDelay(true);
    const proven = this.options.tls ? provenName((socket as TLSSocket).getPeerCertificate()) : null;
    const bucket = new TokenBucket(this.limits.clientRequestsPerSecond, this.limits.clientRequestBurst);
    const key = `${socket.remoteAddress}:${socket.remotePort}`;
    const conn: Connection = { socket, role: { kind: 'new' }, garbage: 0, closing: false, proven, key, bucket, coolingOff: false };
    this.connections.add(conn);
    const entry = this.admitted.get(key);
    if (entry) entry.conn = conn;
    const splitter = new LineSplitter(MAX_FRAME_BYTES);
    socket.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) {
        if (conn.closing || socket.destroyed) return;
        if (f.kind === 'oversized') this.guarded(conn, () => this.refuse(conn, `frame exceeds ${MAX_FRAME_BYTES} bytes`));
        else if (conn.role.kind === 'client') this.clientFrames.push(conn, f.text);
        else this.guarded(conn, () => this.onLine(conn, f.text));
      }
    });
    socket.on('timeout', () => {
      this.refusals.line(`${this.who(conn)} sent nothing for ${this.limits.clientIdleTimeoutMs} ms (clientIdleTimeoutMs); closing the connection`);
      socket.destroy();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.connections.delete(conn);
      this.clients.delete(conn);
      this.clientFrames.forget(conn);
      if (conn.role.kind === 'peer' && this.peerConnections.get(conn.role.node) === conn) this.peerConnections.delete(conn.role.node);
    });
  }

  /** A bug of ours must not take the node down on someone's input: the frame is dropped. */
  private guarded(conn: Connection, handle: () => void): void {
    try {
      handle();
    } catch (err) {
      this.log(`internal error on a frame from ${this.who(conn)}: ${(err as Error).message}; frame dropped`);
    }
  }

  /** A client's frame, on its turn: within the client's rate, handled as any frame. */
  private onClientLine(conn: Connection, line: string): void {
    if (conn.closing || conn.socket.destroyed) return;
    this.guarded(conn, () => {
      if (conn.bucket.take()) return this.onLine(conn, line);
      const { clientRequestsPerSecond: rate, clientRequestBurst: burst } = this.limits;
      this.refuse(conn, `over the rate limit of ${rate} requests/s (burst ${burst}); request dropped`, { id: idOf(line), garbage: false });
      this.coolOff(conn, Math.min(1000, (1000 * burst) / rate));
    });
  }

  /** Stops reading a client for `ms`: what it already sent is still answered, the rest waits in TCP. */
  private coolOff(conn: Connection, ms: number): void {
    if (conn.coolingOff) return;
    conn.coolingOff = true;
    conn.socket.pause();
    setTimeout(() => {
      conn.coolingOff = false;
      if (!conn.socket.destroyed && this.clientFrames.roomFor(conn)) conn.socket.resume();
    }, ms).unref();
  }

  private who(conn: Connection): string {
    const r = conn.role;
    return r.kind === 'peer' ? `peer ${r.node}` : r.kind === 'client' ? `${r.admin && this.options.tls ? 'admin' : 'client'} ${r.name}` : `unidentified connection ${conn.socket.remoteAddress}:${conn.socket.remotePort}`;
  }

  /**
   * Logs (rate-limited) and drops a frame; answers clients with an error; closes connections
   * that keep sending garbage (`garbage: false` for a frame refused for being too many, not bad).
   */
  private refuse(conn: Connection, reason: string, options: { id?: number; close?: boolean; garbage?: boolean } = {}): void {
    this.counts.refused++;
    if (options.garbage !== false) conn.garbage++;
    const close = options.close || conn.garbage >= GARBAGE_LIMIT;
    this.refusals.line(`refused frame from ${this.who(conn)}: ${reason}${close ? '; closing the connection' : ''}`);
    if (conn.role.kind !== 'peer') this.write(conn, { type: 'error', ...(options.id !== undefined ? { id: options.id } : {}), reason });
    if (close) {
      conn.closing = true;
      conn.socket.end();
      // One that neither reads nor closes its end is not kept waiting for.
      setTimeout(() => conn.socket.destroy(), 1000).unref();
    }
  }

  private onLine(conn: Connection, line: string): void {
    const checked = this.validator.check(line);
    if (!checked.ok) return this.refuse(conn, checked.reason, { id: idOf(line), close: conn.role.kind === 'new' });
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
    const claimed = 'node' in hello ? nodeName(hello.node) : clientName(hello.client);
    // The certificate alone says whether a client is an admin; its hello names it either way.
    const proven = identityOf(conn.proven);
    const agrees = conn.proven === claimed || ('client' in hello && conn.proven === adminName(hello.client));
    if (this.options.tls && !agrees) return this.refuse(conn, `hello claims ${claimed} but the certificate proves ${conn.proven}`, { close: true });
    if ('node' in hello) {
      if (!this.links.has(hello.node)) return this.refuse(conn, `hello from unknown node ${hello.node}`, { close: true });
      conn.role = { kind: 'peer', node: hello.node };
      const older = this.peerConnections.get(hello.node);
      if (older) {
        this.log(`node ${hello.node} connected again; closing its older connection`);
        older.closing = true;
        older.socket.destroy();
      }
      this.peerConnections.set(hello.node, conn);
      this.admitted.get(conn.key)?.release();
    } else {
      // Without TLS nothing is proven, so every client is trusted as an admin (the node warned at start).
      conn.role = { kind: 'client', name: hello.client, admin: !this.options.tls || proven?.role === 'admin' };
      // A writer that does not watch costs the node no write per note.
      if (hello.notes !== false) this.clients.add(conn);
      conn.socket.setTimeout(this.limits.clientIdleTimeoutMs);
    }
    const entry = this.admitted.get(conn.key);
    if (entry?.deadline) clearTimeout(entry.deadline);
    if (entry) entry.deadline = null;
    this.write(conn, { type: 'hello', cluster: this.options.cluster, version: WIRE_VERSION, node: this.id, primitive: this.options.protocol.name });
  }

  private onPeer(conn: Connection, frame: PeerFrame): void {
    if (conn.role.kind !== 'peer') return this.refuse(conn, `peer frame (${frame.msg.type}) on ${conn.role.kind === 'client' && conn.role.admin ? 'an admin' : 'a client'} connection: only nodes send peer frames`);
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
      const { statusRound, round: roundOf } = this.options.protocol;
      const round = statusRound ? statusRound(context) : roundOf?.(context);
      const status: ClientBoundFrame = {
        type: 'status',
        id: frame.id,
        node: this.id,
        primitive: this.options.protocol.name,
        state: flattenValue(this.snapshot.value),
        round: typeof round === 'number' ? round : null,
        leader: typeof context.leader === 'number' ? context.leader : null,
        connected: [...this.links.values()].filter((l) => l.connected).map((l) => l.peer),
        authenticated: !!this.options.tls,
      };
      // What it reports may be newer than the disk: it waits for the flush like any answer.
      return this.hold(this.store.submitted, () => this.write(conn, status));
    }
    const record = this.process('client', frame.request);
    if (!record && this.halted) return;
    if (!record) return this.write(conn, { type: 'error', id: frame.id, reason: `the machine failed on ${frame.request.type}` });
    this.sessions?.settle(conn, frame.request, record.before !== record.after);
    // The answer tells the client what the step did: it waits for the step's flush too, unless
    // what the step did left before it (its notes say as much as the answer).
    const answer = () => {
      const refused = record.notes.find((n) => this.options.protocol.refusals?.includes(n.type));
      if (refused) return this.write(conn, { type: 'error', id: frame.id, reason: `${frame.request.type} refused: ${describeMessage(refused)}`, note: refused });
      this.write(conn, { type: 'reply', id: frame.id, node: this.id, state: record.after, notes: record.notes });
    };
    if (this.leftEarly === record) answer();
    else this.hold(this.store.submitted, answer);
  }

  private onAdmin(conn: Connection, frame: AdminFrame): void {
    if (conn.role.kind !== 'client') return this.refuse(conn, 'admin frame on a peer connection');
    if (!conn.role.admin) return this.refuse(conn, `admin ${frame.op} on a client connection: only an admin certificate may partition or heal`, { id: frame.id });
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

  /** `frame` may come encoded already (a note for every client is encoded once). */
  private write(conn: Connection, frame: ClientBoundFrame | Buffer): void {
    if (conn.socket.destroyed) return;
    if (conn.socket.writableLength > this.limits.clientUnreadBytes) {
      this.refusals.line(`${this.who(conn)} left over ${this.limits.clientUnreadBytes} bytes unread (clientUnreadBytes); closing the connection`);
      conn.socket.destroy();
      return;
    }
    writeInTick(conn.socket, Buffer.isBuffer(frame) ? frame : encodeFrame(frame));
  }

  private toClients(frame: ClientBoundFrame): void {
    if (this.clients.size === 0) return;
    const bytes = Buffer.from(encodeFrame(frame));
    for (const c of this.clients) this.write(c, bytes);
  }
}
