/**
 * The outbound link from this node to one peer: a TCP connection (TCP_NODELAY) that opens with a
 * hello, reconnects with exponential backoff when it drops, and bounds what it buffers. A send
 * while the link is down is lost, and so is everything buffered when the bound is exceeded (the
 * link is then dropped and re-established): the protocols tolerate both as message loss.
 */
import { connect, type Socket } from 'node:net';
import { encodeFrame, LineSplitter } from './framing.js';
import { MAX_FRAME_BYTES, type Hello } from './wire.js';

export interface Address {
  host: string;
  port: number;
}

export const MIN_BACKOFF_MS = 25;
export const MAX_BACKOFF_MS = 400;
/** Bytes a link may hold unsent before it is dropped. */
export const MAX_QUEUED_BYTES = 1024 * 1024;

export type SendOutcome = 'sent' | 'unconnected' | 'overflow';

export class PeerLink {
  private socket: Socket | null = null;
  private ready = false;
  private backoffMs = MIN_BACKOFF_MS;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    readonly peer: number,
    private readonly address: Address,
    private readonly hello: Hello,
    private readonly log: (line: string) => void,
  ) {}

  open(): void {
    if (this.closed || this.socket) return;
    const socket = connect({ host: this.address.host, port: this.address.port, noDelay: true });
    this.socket = socket;
    const splitter = new LineSplitter(MAX_FRAME_BYTES);
    socket.on('connect', () => {
      socket.write(encodeFrame(this.hello));
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
    socket.on('error', () => {
      // 'close' follows; connection refused while the peer is down is the normal case
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

  /** Decides what will happen to a frame without sending it (traces are written before sends). */
  outcome(): SendOutcome {
    if (!this.ready || !this.socket) return 'unconnected';
    if (this.socket.writableLength > MAX_QUEUED_BYTES) return 'overflow';
    return 'sent';
  }

  /** Sends a frame if `outcome()` allowed it; on overflow, drops the link so it is re-established. */
  send(frame: object, outcome: SendOutcome): void {
    if (outcome === 'sent') this.socket!.write(encodeFrame(frame));
    else if (outcome === 'overflow' && this.socket) {
      this.log(`link to peer ${this.peer} exceeded ${MAX_QUEUED_BYTES} queued bytes: dropping it`);
      this.socket.destroy();
    }
  }

  close(): void {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.socket?.destroy();
  }
}
