/**
 * A seeded generator of malformed frames for a mutex node, by connection: what an unidentified
 * connection sends before its hello, what a client sends after its hello, what a connection
 * claiming to be node `peer` sends after its hello. Every frame is one the node must refuse:
 * truncated JSON, binary garbage, JSON that is not an object, unknown types, wrong field types,
 * numbers past 2^53 or past a double, extra fields, missing fields, lines over the frame limit,
 * and well-formed frames on the wrong connection or with a sender, receiver or hello that lies.
 * Frames never hold a newline (one frame is one line) and are never blank (blank lines are not
 * frames).
 */
import { Rng } from '../src/sim/timed-rng.js';
import { MAX_FRAME_BYTES } from '../src/runtime/wire.js';

export type Phase = 'before hello' | 'client' | 'peer';

export interface Target {
  cluster: string;
  /** The node the frames go to. */
  node: number;
  /** The node id a peer connection claims (a node that is down, so the claim is not taken). */
  peer: number;
  /** Nodes of the cluster. */
  n: number;
}

const line = (v: unknown) => JSON.stringify(v);

export class FrameFuzzer {
  private readonly rng: Rng;

  constructor(readonly seed: number, private readonly t: Target) {
    this.rng = new Rng(seed);
  }

  /** The generator's next number in [0, 1). */
  random(): number {
    return this.rng.next();
  }

  private int(n: number): number {
    return Math.floor(this.rng.next() * n);
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Text no number field accepts: not a number, or past a double (JSON.parse makes 1e400 Infinity). */
  private notANumber(): string {
    return this.pick(['1e400', '-1e400', '"7"', 'null', 'true', '[1]', '{}', '"NaN"']);
  }

  /** Text no id field (an integer with a minimum) accepts. */
  private badId(): string {
    return this.rng.next() < 0.4 ? this.pick(['-1', '1.5', '-0.5', '0.999']) : this.notANumber();
  }

  /** A mutex message that validates, with a timestamp that does. */
  private goodMsg(): Record<string, unknown> {
    const ts = this.int(50);
    return this.pick([{ type: 'request', ts }, { type: 'reply', ts }, { type: 'release', ts }, { type: 'rejoin', ts }, { type: 'rejoin_ack', ts, pending: null }]);
  }

  /** A mutex message no schema accepts. */
  private badMsg(): string {
    const m = this.goodMsg();
    switch (this.int(7)) {
      case 0:
        return line({ ...m, type: this.pick(['launch_missiles', 'REQUEST', '', 'client.acquire', 'vote', 'request ']) });
      case 1: {
        const { ts: _ts, ...rest } = m;
        return line(rest);
      }
      case 2:
        return line(m).replace(/"ts":\d+/, `"ts":${this.notANumber()}`);
      case 3:
        return line({ ...m, [this.pick(['term', 'from', 'extra', '__proto__x', 'token'])]: this.int(9) });
      case 4:
        return line({ ...m, type: this.int(9) });
      case 5:
        return this.pick(['[]', '"request"', '7', 'null']);
      default:
        return m.type === 'rejoin_ack' ? line({ ...m, pending: 'x' }) : line({ ...m, ts: `${m.ts}` });
    }
  }

  /** Frames any connection must refuse, whatever it said in its hello. */
  private garbage(): string {
    const valid = line({ type: 'peer', from: this.t.peer, to: this.t.node, msg: this.goodMsg() });
    switch (this.int(9)) {
      case 0: // truncated JSON: every proper prefix of an object is not JSON
        return valid.slice(0, 1 + this.int(valid.length - 1));
      case 1: {
        // binary garbage, no newline, starting with a byte that is not blank
        const bytes = Buffer.alloc(1 + this.int(200), 0);
        for (let i = 0; i < bytes.length; i++) bytes[i] = this.int(256);
        bytes[0] = 0xff;
        return bytes.toString('latin1').replace(/\n/g, '\u0001');
      }
      case 2:
        return this.pick(['[]', '[{"type":"peer"}]', '42', '"hello"', 'null', 'true', '{}', '{"type":null}', '1e400']);
      case 3:
        return line({ type: this.pick(['Peer', 'hello ', 'note', 'reply', 'status', 'error', 'shutdown', '']), id: 1 });
      case 4:
        return '['.repeat(2000) + ']'.repeat(2000);
      case 5:
        // a timestamp past any double (JSON.parse makes it Infinity), whole or cut short
        return '{"type":"peer","from":' + this.t.peer + ',"to":' + this.t.node + ',"msg":{"type":"request","ts":' + '9'.repeat(400) + (this.int(3) === 0 ? '}' : '}}');
      case 6:
        return line({ type: 'peer', from: this.t.peer, to: this.t.node, msg: this.goodMsg(), pad: 'x' });
      case 7:
        return '{"type":"request","id":1,"request":{"type":"client.acquire"}' + this.pick(['', ',', ',}', '}}', ']']);
      default:
        return '\u00ff\u00fe' + line({ type: 'hello' }).slice(1);
    }
  }

  /** A line over the frame limit (the node skips it to its newline). */
  oversized(): string {
    return line({ type: 'peer', from: this.t.peer, to: this.t.node, msg: { type: 'request', ts: 1, pad: 'x'.repeat(MAX_FRAME_BYTES + this.int(1000)) } });
  }

  /** A first frame that is not an acceptable hello: the node closes the connection on it. */
  beforeHello(): string {
    const { cluster, node, n, peer } = this.t;
    const hello = { type: 'hello', cluster, version: 1 };
    switch (this.int(6)) {
      case 0:
        return this.garbage();
      case 1:
        return line({ type: 'peer', from: peer, to: node, msg: this.goodMsg() });
      case 2:
        return line(this.pick([{ type: 'request', id: 1, request: { type: 'client.acquire' } }, { type: 'admin', id: 1, op: 'partition', block: [1] }, { type: 'request', id: 2, request: { type: 'client.status' } }]));
      case 3:
        return line(this.pick([{ ...hello, cluster: `${cluster}-other`, client: 'x' }, { ...hello, version: 2, client: 'x' }, { ...hello, node: peer, client: 'x' }, hello, { ...hello, node: n + 1 + this.int(100) }, { ...hello, node: 2 ** 53 + 2 }]));
      case 4:
        return line({ ...hello, client: 'x' }).replace('"version":1', `"version":${this.badId()}`);
      default:
        return line({ ...hello, [this.pick(['node', 'client'])]: this.pick([0, -1, 1.5, [], {}, null]) });
    }
  }

  /** A frame a client connection must refuse after its hello. */
  afterClientHello(): string {
    const { cluster, node, peer } = this.t;
    switch (this.int(8)) {
      case 0:
      case 1:
        return this.garbage();
      case 2: // a peer's frame, well-formed, on a client's connection
        return line({ type: 'peer', from: peer, to: node, msg: this.goodMsg() });
      case 3:
        return line({ type: 'request', id: this.int(100), request: { type: this.pick(['client.nuke', 'acquire', 'client.status ', 'request', '']) } });
      case 4:
        return line({ type: 'request', id: this.int(100), request: { type: this.pick(['client.acquire', 'client.release', 'client.status']), [this.pick(['ts', 'node', 'force'])]: 1 } });
      case 5:
        return line({ type: 'request', id: 1, request: { type: 'client.acquire' } }).replace('"id":1', `"id":${this.badId()}`);
      case 6:
        return line(this.pick([{ type: 'admin', id: 1, op: 'explode' }, { type: 'admin', id: 1, op: 'partition', block: ['2'] }, { type: 'admin', id: 1, op: 'partition', block: [0] }, { type: 'admin', op: 'heal' }, { type: 'admin', id: 1, op: 'heal', block: 2 }]));
      default:
        return line({ type: 'hello', cluster, version: 1, client: 'again' });
    }
  }

  /** A frame a connection that said it is node `peer` must refuse after its hello. */
  afterPeerHello(): string {
    const { cluster, node, n, peer } = this.t;
    const others = Array.from({ length: n }, (_, i) => i + 1).filter((v) => v !== peer);
    switch (this.int(9)) {
      case 0:
      case 1:
        return this.garbage();
      case 2:
      case 3:
        return line({ type: 'peer', from: peer, to: node, msg: 0 }).replace('"msg":0', `"msg":${this.badMsg()}`);
      case 4: // a well-formed message that lies about its sender
        return line({ type: 'peer', from: this.pick([...others, n + 1, 2 ** 53 + 1]), to: node, msg: this.goodMsg() });
      case 5: // or its receiver
        return line({ type: 'peer', from: peer, to: this.pick([...others.filter((v) => v !== node), peer, n + 7, 2 ** 60]), msg: this.goodMsg() });
      case 6:
        return line({ type: 'peer', from: 1, to: node, msg: this.goodMsg() }).replace('"from":1', `"from":${this.badId()}`);
      case 7: // client and admin frames on a peer's connection
        return line(this.pick([{ type: 'request', id: 1, request: { type: 'client.acquire' } }, { type: 'admin', id: 1, op: 'partition', block: [1] }, { type: 'admin', id: 2, op: 'heal' }]));
      default:
        return line({ type: 'hello', cluster, version: 1, node: peer });
    }
  }
}
