/**
 * The outbound link from this node to one peer: a TCP connection (TCP_NODELAY) that opens with a
 * hello and reconnects with exponential backoff when it drops. Frames sent while it is down wait
 * in a queue, in order, and leave right after the next hello. What the link holds (queued plus
 * unsent in the socket) is bounded: a frame that would exceed the bound is refused, the queue is
 * emptied and the connection is dropped and re-established. The protocols tolerate both as
 * message loss; a connection that dies with frames in flight loses them too.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { nodeName, secureContextOf, type TlsCredentials } from './tls.js';
import { encodeFrame, LineSplitter, writeInTick } from './framing.js';
import { MAX_FRAME_BYTES, type Hello } from './wire.js';

export interface Address {
  host: string;
  port: number;
}

export const MIN_BACKOFF_MS = 25;
export const MAX_BACKOFF_MS = 400;
/** Bytes a link may hold unsent before it is dropped. */
export const MAX_QUEUED_BYTES = 1024 * 1024;

export type SendOutcome = 'sent' | 'overflow';

export class PeerLink {
  private socket: Socket | null = null;
  private ready = false;
  private backoffMs = MIN_BACKOFF_MS;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;
  private queue: string[] = [];
  private queuedBytes = 0;

  constructor(
    readonly peer: number,
    private readonly address: Address,
    private readonly hello: Hello,
    private readonly log: (line: string) => void,
    private readonly tls?: TlsCredentials,
  ) {}

  open(): void {
    if (this.closed || this.socket) return;
    const { host, port } = this.address;
    const expected = nodeName(this.peer);
    const socket = this.tls
      ? connectTls({ host, port, secureContext: secureContextOf(this.tls), checkServerIdentity: (_host, cert) => (cert.subject?.CN === expected ? undefined : new Error(`certificate names ${cert.subject?.CN}, expected ${expected}`)) })
      : connect({ host, port });
    socket.setNoDelay(true);
    this.socket = socket;
    const splitter = new LineSplitter(MAX_FRAME_BYTES);
    socket.on(this.tls ? 'secureConnect' : 'connect', () => {
      socket.write(encodeFrame(this.hello));
      for (const line of this.queue) socket.write(line);
      this.queue = [];
      this.queuedBytes = 0;
      this.ready = true;
      this.backoffMs = MIN_BACKOFF_MS;
    });
    socket.on('data', (chunk: Buffer) => {
      for (const f of splitter.push(chunk)) {
        if (f.kind !== 'line') continue;
        try {
          const frame = JSON.parse(f.text);
          if (frame?.type === 'error') this.log(`peer ${this.peer} refused our link: ${String(frame.reason)}`);
        } catch {
          // a peer's answers are informational only
        }
      }
    });
    socket.on('error', (err) => {
      // 'close' follows; connection refused while the peer is down is the normal case
      if (this.tls && !/ECONNREFUSED|ECONNRESET/.test(err.message)) this.log(`TLS link to peer ${this.peer}: ${err.message}`);
    });
    socket.on('close', () => {
      this.socket = null;
      this.ready = false;
      if (this.closed) return;
      this.retry = setTimeout(() => {
        this.retry = null;
        this.open();
      }, this.backoffMs);
      this.backoffMs = Math.min(this.backoffMs * 2, MAX_BACKOFF_MS);
    });
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Bytes the link holds and has not sent. */
  private held(): number {
    return this.queuedBytes + (this.ready && this.socket ? this.socket.writableLength : 0);
  }

  /** Decides what will happen to a frame of `bytes` without sending it (traces are written before sends). */
  outcome(bytes: number): SendOutcome {
    return this.held() + bytes > MAX_QUEUED_BYTES ? 'overflow' : 'sent';
  }

  /** Sends (or queues) a frame if `outcome()` allowed it; on overflow, empties the link and re-establishes it. */
  send(line: string, outcome: SendOutcome): void {
    if (outcome === 'sent') {
      if (this.ready && this.socket) writeInTick(this.socket, line);
      else {
        this.queue.push(line);
        this.queuedBytes += Buffer.byteLength(line);
      }
      return;
    }
    this.log(`link to peer ${this.peer} would hold over ${MAX_QUEUED_BYTES} bytes: dropping what it holds and reconnecting`);
    this.queue = [];
    this.queuedBytes = 0;
    if (this.ready) this.socket?.destroy();
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
  }
}
