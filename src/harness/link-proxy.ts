/**
 * The kit's proxy on one directed link, node `from` to node `to`. Node `from` dials it as if it
 * were node `to`: the proxy terminates mutual TLS with `to`'s certificate (the harness is the
 * cluster's CA and issued it), requires `from`'s, and answers the hello as `to`. It dials node
 * `to` as `from`. Each frame it reads is validated against the primitive's wire schema,
 * recorded, and then delivered, delayed, dropped or cut by the partition, as the fault plan says
 * now. Frames keep their order on the link, delayed or not. A frame that arrives while node `to`
 * is unreachable is lost, as on a connection that died.
 */
import { createServer as createTlsServer, connect as connectTls, type TLSSocket, type Server } from 'node:tls';
import type { Address } from '../runtime/peer-link.js';
import { encodeFrame, LineSplitter } from '../runtime/framing.js';
import { MAX_FRAME_BYTES, WIRE_VERSION } from '../runtime/wire.js';
import { nodeName, provenName, type TlsCredentials } from '../runtime/tls.js';
import type { FrameValidator } from '../runtime/validator.js';
import { traceNow } from '../runtime/trace-clock.js';
import type { FaultPlan } from './fault-plan.js';
import type { Msg, WireRecord } from './wire-record.js';

export interface LinkProxyOptions {
  from: number;
  to: number;
  cluster: string;
  primitive: string;
  /** Node `to`'s real address. */
  upstream: Address;
  /** `from`'s credentials (to dial `to`) and `to`'s (to be dialled by `from`). */
  fromTls: TlsCredentials;
  toTls: TlsCredentials;
  validator: FrameValidator;
  faults: FaultPlan;
  record: (r: WireRecord) => void;
}

export class LinkProxy {
  private server!: Server;
  private downstream: TLSSocket | null = null;
  private upstream: TLSSocket | null = null;
  private upstreamReady = false;
  private retry: NodeJS.Timeout | null = null;
  private backoffMs = 25;
  private closed = false;
  /** When the last delayed frame on this link leaves, so that a delay keeps the link's order. */
  private lastRelease = 0;
  private readonly pending = new Set<NodeJS.Timeout>();
  port = 0;

  constructor(private readonly o: LinkProxyOptions) {}

  /** Listens on an ephemeral loopback port and starts dialling node `to`. */
  async start(): Promise<number> {
    const { toTls } = this.o;
    this.server = createTlsServer({ ca: toTls.ca, cert: toTls.cert, key: toTls.key, requestCert: true, rejectUnauthorized: true }, (s) => this.accept(s));
    this.server.on('tlsClientError', () => {});
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as { port: number }).port;
    this.dial();
    return this.port;
  }

  /** Both ends connected: node `from` reaches the proxy and the proxy reaches node `to`. */
  get linked(): boolean {
    return this.downstream !== null && this.upstreamReady;
  }

  get upstreamLinked(): boolean {
    return this.upstreamReady;
  }

  private now = () => traceNow();

  private accept(socket: TLSSocket): void {
    const { from, to, cluster, primitive } = this.o;
    socket.setNoDelay(true);
    const refuse = (reason: string) => {
      socket.end(encodeFrame({ type: 'error', reason }));
    };
    if (provenName(socket.getPeerCertificate()) !== nodeName(from)) return refuse(`this is node ${from}'s link to node ${to}: only ${nodeName(from)} may connect`);
    const splitter = new LineSplitter(MAX_FRAME_BYTES);
    let helloed = false;
    socket.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) {
        if (socket.destroyed) return;
        const line = f.kind === 'line' ? f.text : '';
        if (!helloed) {
          let hello: Record<string, unknown> | null = null;
          try {
            hello = JSON.parse(line);
          } catch {
            // refused below
          }
          if (hello?.type !== 'hello' || hello.node !== from || hello.cluster !== cluster || hello.version !== WIRE_VERSION) {
            this.o.record({ time: this.now(), kind: 'invalid', node: from, to, line: line.slice(0, 300), reason: `expected the hello of node ${from} in cluster '${cluster}', version ${WIRE_VERSION}` });
            return refuse(`expected the hello of node ${from} in cluster '${cluster}', version ${WIRE_VERSION}`);
          }
          helloed = true;
          if (this.downstream && this.downstream !== socket) this.downstream.destroy();
          this.downstream = socket;
          this.o.record({ time: this.now(), kind: 'link', node: from, to, up: true });
          socket.write(encodeFrame({ type: 'hello', cluster, version: WIRE_VERSION, node: to, primitive }));
          continue;
        }
        this.onFrame(f.kind === 'line' ? f.text : null);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.downstream !== socket) return;
      this.downstream = null;
      this.o.record({ time: this.now(), kind: 'link', node: from, to, up: false });
    });
  }

  private onFrame(line: string | null): void {
    const { from, to } = this.o;
    const invalid = (reason: string) => this.o.record({ time: this.now(), kind: 'invalid', node: from, to, line: (line ?? '').slice(0, 300), reason });
    if (line === null) return invalid(`frame over ${MAX_FRAME_BYTES} bytes`);
    const checked = this.o.validator.check(line);
    if (!checked.ok) return invalid(checked.reason);
    const frame = checked.value;
    if (frame.type !== 'peer') return invalid(`a ${frame.type} frame on a peer link`);
    if (frame.from !== from || frame.to !== to) return invalid(`a peer frame from ${frame.from} to ${frame.to} on the link from ${from} to ${to}`);
    const msg = frame.msg as Msg;
    const fate = this.o.faults.fate(from, to);
    if (fate.kind !== 'pass') {
      this.o.record({ time: this.now(), kind: 'send', node: from, to, msg, fate: fate.kind });
      return;
    }
    const now = performance.now();
    if (fate.delayMs === 0 && this.lastRelease <= now) {
      this.forward(line, msg, 'delivered');
      return;
    }
    const release = Math.max(now + fate.delayMs, this.lastRelease);
    this.lastRelease = release;
    this.o.record({ time: this.now(), kind: 'send', node: from, to, msg, fate: 'delayed' });
    const timer = setTimeout(() => {
      this.pending.delete(timer);
      this.forward(line, msg, null);
    }, release - now);
    this.pending.add(timer);
  }

  /** Writes a frame to node `to` (recording the send first when it was not delayed). */
  private forward(line: string, msg: Msg, fate: 'delivered' | null): void {
    const { from, to } = this.o;
    const up = this.upstreamReady && this.upstream;
    if (fate) this.o.record({ time: this.now(), kind: 'send', node: from, to, msg, fate: up ? 'delivered' : 'unreachable' });
    if (!up) return;
    this.upstream!.write(line + '\n');
    this.o.record({ time: this.now(), kind: 'deliver', node: to, from, msg });
  }

  private dial(): void {
    if (this.closed) return;
    const { from, to, cluster, upstream, fromTls } = this.o;
    const socket = connectTls({
      host: upstream.host,
      port: upstream.port,
      ...fromTls,
      checkServerIdentity: (_h, cert) => (cert.subject?.CN === nodeName(to) ? undefined : new Error(`certificate names ${cert.subject?.CN}, expected ${nodeName(to)}`)),
    });
    socket.setNoDelay(true);
    this.upstream = socket;
    socket.on('secureConnect', () => {
      socket.write(encodeFrame({ type: 'hello', cluster, version: WIRE_VERSION, node: from }));
      this.upstreamReady = true;
      this.backoffMs = 25;
    });
    socket.on('data', () => {}); // the node's hello, or its refusals: it logs them itself
    socket.on('error', () => {});
    socket.on('close', () => {
      if (this.upstream === socket) {
        this.upstream = null;
        this.upstreamReady = false;
      }
      if (this.closed) return;
      this.retry = setTimeout(() => {
        this.retry = null;
        this.dial();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, 400);
    });
  }

  /** Drops the connection to node `to` at once (it was killed) instead of waiting for the kernel to say so. */
  upstreamGone(): void {
    this.upstream?.destroy();
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
    this.downstream?.destroy();
    this.upstream?.destroy();
    await new Promise((r) => this.server.close(r));
  }
}
