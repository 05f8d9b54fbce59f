/**
 * A client of one node's port, as `coordkit cluster` and the tests use it: hello, then requests
 * answered by id (`reply`, `status` or `error`), with every pushed `note` collected.
 */
import { connect, type Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import type { TlsCredentials } from './tls.js';
import { encodeFrame, LineSplitter } from './framing.js';
import type { Address } from './peer-link.js';
import { MAX_FRAME_BYTES, WIRE_VERSION, type ClientBoundFrame, type ErrorFrame, type Hello, type NoteFrame, type ReplyFrame, type StatusFrame } from './wire.js';

export class NodeClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: ClientBoundFrame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  /** Notes pushed by the node since connecting. */
  readonly notes: NoteFrame[] = [];
  /** Errors the node sent that answered no request. */
  readonly errors: ErrorFrame[] = [];
  hello!: Hello;
  /**
   * Called with each pushed note as it arrives (the harness stamps them). A note can come in the
   * same read as the node's hello, before `open` resolves: a caller that must see every note
   * passes its listener to `open` (`onNote`), which sets it before the first byte is read.
   */
  onNote?: (frame: NoteFrame) => void;

  private constructor(private readonly socket: Socket) {}

  /**
   * Connects and exchanges hellos; fails after `timeoutMs`. With `notes: false` the node pushes it
   * no notes (a writer that does not watch); `onNote` is in place before anything is read.
   */
  static open(address: Address, cluster: string, name = 'coordkit', timeoutMs = 2000, tls?: TlsCredentials, options: { notes?: boolean; onNote?: (frame: NoteFrame) => void } = {}): Promise<NodeClient> {
    return new Promise((resolve, reject) => {
      const { host, port } = address;
      const socket = tls
        ? connectTls({ host, port, ...tls, checkServerIdentity: (_h, cert) => (/^node-\d+$/.test(String(cert.subject?.CN)) ? undefined : new Error(`certificate names ${cert.subject?.CN}, not a node`)) })
        : connect({ host, port });
      socket.setNoDelay(true);
      const client = new NodeClient(socket);
      client.onNote = options.onNote;
      const splitter = new LineSplitter(MAX_FRAME_BYTES);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no hello from ${address.host}:${address.port} within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.on(tls ? 'secureConnect' : 'connect', () => socket.write(encodeFrame({ type: 'hello', cluster, version: WIRE_VERSION, client: name, ...(options.notes === false ? { notes: false } : {}) } satisfies Hello)));
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('close', () => client.failAll(new Error(`connection to ${address.host}:${address.port} closed`)));
      socket.on('data', (chunk: Buffer) => {
        for (const f of splitter.push(chunk)) {
          if (f.kind !== 'line') continue;
          const frame = JSON.parse(f.text) as ClientBoundFrame;
          if (frame.type === 'hello') {
            clearTimeout(timer);
            client.hello = frame;
            resolve(client);
          } else client.onFrame(frame);
        }
      });
    });
  }

  private onFrame(frame: ClientBoundFrame): void {
    if (frame.type === 'note') {
      this.notes.push(frame);
      this.onNote?.(frame);
      return;
    }
    const id = 'id' in frame ? frame.id : undefined;
    const waiting = id === undefined ? undefined : this.pending.get(id);
    if (!waiting) {
      if (frame.type === 'error') this.errors.push(frame);
      return;
    }
    this.pending.delete(id!);
    clearTimeout(waiting.timer);
    waiting.resolve(frame);
  }

  private failAll(err: Error): void {
    for (const [, w] of this.pending) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.pending.clear();
  }

  /** Sends any frame with a fresh id and waits for the answer with that id. */
  call(frame: { type: 'request'; request: object } | { type: 'admin'; op: 'partition' | 'heal'; block?: number[] }, timeoutMs = 2000): Promise<ClientBoundFrame> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${JSON.stringify(frame)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(encodeFrame({ ...frame, id }));
    });
  }

  async status(timeoutMs?: number): Promise<StatusFrame> {
    const f = await this.call({ type: 'request', request: { type: 'client.status' } }, timeoutMs);
    if (f.type !== 'status') throw new Error(`expected status, got ${JSON.stringify(f)}`);
    return f;
  }

  async request(request: { type: string }, timeoutMs?: number): Promise<ReplyFrame> {
    const f = await this.call({ type: 'request', request }, timeoutMs);
    if (f.type !== 'reply') throw new Error(`request ${request.type} refused: ${f.type === 'error' ? f.reason : JSON.stringify(f)}`);
    return f;
  }

  async admin(op: 'partition' | 'heal', block?: number[]): Promise<void> {
    const f = await this.call({ type: 'admin', op, ...(block ? { block } : {}) });
    if (f.type !== 'reply') throw new Error(`admin ${op} refused: ${f.type === 'error' ? f.reason : JSON.stringify(f)}`);
  }

  close(): void {
    this.socket.destroy();
  }
}
