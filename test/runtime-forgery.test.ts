/**
 * Forged frames against real node processes on their default transport (mutual TLS): from a
 * process without a certificate, from a client certificate, from an admin certificate and from
 * another node's certificate, every forgery is refused and logged, a client is told why, and
 * nothing changes: no term adopted, no vote cast, no foreign value decided, no second lock
 * holder, and the runs' traces still satisfy the primitives' properties and the pure machine.
 * Needs `npx tsc -p .` first.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { LOCAL_CLIENT, LocalCluster } from '../src/runtime/local-cluster.js';
import { analyzeTraces } from '../src/runtime/run-cluster.js';
import { adminName, clientName, loadCredentials, nodeName, type TlsCredentials } from '../src/runtime/tls.js';
import { readTrace, type NodeRecord } from '../src/runtime/trace-log.js';
import type { StatusFrame } from '../src/runtime/wire.js';
import { runCli, waitFor } from './runtime-helpers.js';
import { readStoredState } from '../src/runtime/durable-store.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-forgery-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Sender = 'plain' | 'tls-without-certificate' | TlsCredentials;

/**
 * Opens a connection to `port` as `sender`, sends `frames` one per line, and collects what the
 * node answers until it closes the connection or `ms` pass.
 */
function attack(port: number, sender: Sender, frames: object[], ms = 800): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket =
      sender === 'plain' ? connect({ host: '127.0.0.1', port })
      : sender === 'tls-without-certificate' ? connectTls({ host: '127.0.0.1', port, ca: loadCa(), checkServerIdentity: () => undefined })
      : connectTls({ host: '127.0.0.1', port, ...sender, checkServerIdentity: () => undefined });
    let text = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(done, ms);
    socket.on(sender === 'plain' ? 'connect' : 'secureConnect', () => {
      for (const f of frames) socket.write(JSON.stringify(f) + '\n');
    });
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      closed = true;
      done();
    });
  });
}

let caPem: Buffer;
const loadCa = () => caPem;

/** Answers as frames (one JSON object per line). */
const frames = (text: string) => text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
const log = (c: LocalCluster, id: number) => readFileSync(join(c.nodeDir(id), 'node.log'), 'utf8');

const statuses = (c: LocalCluster) => Promise.all(c.ids.map((id) => c.client(id).status()));
const peerEvents = (c: LocalCluster, id: number) => readTrace(join(c.nodeDir(id), 'trace.ndjson')).filter((r): r is NodeRecord => r.kind === 'peer');

/** Stops the cluster and judges its whole run from the traces: properties and conformance. */
async function judge(c: LocalCluster, name: string) {
  await c.stop();
  const protocol = protocols.find((p) => p.name === name)!;
  const variant = protocol.variants.find((v) => v.name === protocol.defaultVariant)!;
  const files = [join(c.options.dir, 'cluster.ndjson'), ...c.ids.map((id) => join(c.nodeDir(id), 'trace.ndjson'))];
  return analyzeTraces(protocol, variant, c.ids.length, files);
}

/** A client (or admin) of `name` that says hello and then sends one forged frame; returns the node's answers. */
async function asClient(c: LocalCluster, node: number, creds: TlsCredentials, name: string, frame: object) {
  const hello = { type: 'hello', cluster: c.cluster, version: 1, client: name };
  const { text } = await attack(c.addresses.get(node)!.port, creds, [hello, frame]);
  return frames(text);
}

describe('forged frames against an election cluster (mutual TLS by default)', () => {
  it('refuses every forgery from outside, logs it, and nothing changes', async () => {
    const c = await LocalCluster.start({ primitive: 'election', nodes: 3, dir: join(root, 'election'), cluster: 'forge' });
    try {
      caPem = readFileSync(join(c.tlsDir!, 'ca.pem'));
      const agreed = (s: StatusFrame[]) => s.filter((x) => x.state === 'leader').length === 1 && new Set(s.map((x) => `${x.leader}/${x.round}`)).size === 1 && s[0].leader !== null;
      const before = await waitFor('a leader', () => statuses(c), agreed);
      expect(before.every((s) => s.authenticated)).toBe(true);
      const leader = before[0].leader!;
      // The target is a follower: forged votes would make it a candidate's voter, forged syncs rewrite its value.
      const target = c.ids.find((id) => id !== leader)!;
      const other = c.ids.find((id) => id !== leader && id !== target)!;
      const port = c.addresses.get(target)!.port;
      const peer = (msg: object) => ({ type: 'peer', from: other, to: target, msg });
      const forged = [
        peer({ type: 'state_sync', term: 1000, data: { version: 99, value: 'forged' } }),
        peer({ type: 'vote_request', term: 1000, version: 99 }),
        peer({ type: 'pre_vote_request', term: 1000, version: 99 }),
        peer({ type: 'pre_vote', term: 1000, granted: true }),
        peer({ type: 'vote', term: 1000, granted: true }),
        peer({ type: 'leader_announce', term: 1000, version: 99 }),
      ];
      const helloAsOther = { type: 'hello', cluster: c.cluster, version: 1, node: other };

      // 1. No certificate at all: plain TCP, or TLS without a client certificate. Nothing is read.
      for (const sender of ['plain', 'tls-without-certificate'] as const) {
        const r = await attack(port, sender, [helloAsOther, ...forged]);
        expect(r.text, sender).not.toMatch(/"type":"hello"/);
        expect(r.closed, sender).toBe(true);
      }
      const user = loadCredentials(c.tlsDir!, clientName(LOCAL_CLIENT));
      const admin = loadCredentials(c.tlsDir!, adminName('launcher'));

      // 2. A client certificate: a hello claiming node `other` (connected right now) is refused...
      const claim = frames((await attack(port, user, [helloAsOther, ...forged])).text);
      expect(claim).toEqual([{ type: 'error', reason: `hello claims node-${other} but the certificate proves client-user` }]);
      // ...and as itself, every peer frame is refused with an error frame; so is a partition.
      for (const f of forged) {
        const answers = await asClient(c, target, user, LOCAL_CLIENT, f);
        expect(answers.map((a) => a.type)).toEqual(['hello', 'error']);
        expect(answers[1].reason).toBe(`peer frame (${f.msg.type}) on a client connection: only nodes send peer frames`);
      }
      const partition = await asClient(c, target, user, LOCAL_CLIENT, { type: 'admin', id: 7, op: 'partition', block: [leader] });
      expect(partition[1]).toEqual({ type: 'error', id: 7, reason: 'admin partition on a client connection: only an admin certificate may partition or heal' });

      // 3. An admin certificate may partition, but is not a peer either.
      const asAdmin = await asClient(c, target, admin, 'launcher', forged[1]);
      expect(asAdmin[1].reason).toBe('peer frame (vote_request) on an admin connection: only nodes send peer frames');

      // 4. Another node's certificate cannot speak for `other`, in the hello or in a frame.
      const thief = loadCredentials(c.tlsDir!, nodeName(leader));
      const hello = frames((await attack(port, thief, [helloAsOther])).text);
      expect(hello).toEqual([{ type: 'error', reason: `hello claims node-${other} but the certificate proves node-${leader}` }]);
      await sleep(200);
      const nodeLog = log(c, target);
      expect(nodeLog).toMatch(new RegExp(`refused frame from unidentified connection .*: hello claims node-${other} but the certificate proves node-${leader}`));
      expect(nodeLog).toMatch(/refused TLS connection from 127\.0\.0\.1:\d+: .*certificate/);
      expect(nodeLog.match(/refused TLS connection from/g)!.length).toBeGreaterThanOrEqual(2);
      for (const f of forged) expect(nodeLog).toContain(`refused frame from client user: peer frame (${f.msg.type}) on a client connection`);
      expect(nodeLog).toContain('refused frame from client user: admin partition on a client connection');

      // Nothing changed: the same leader in the same term, the follower's durable state untouched,
      // and no forged event ever reached a machine.
      const after = await statuses(c);
      expect(after.map((s) => [s.state, s.round, s.leader])).toEqual(before.map((s) => [s.state, s.round, s.leader]));
      const durable = readStoredState(c.nodeDir(target))!.durable as { currentTerm: number; data?: { value: unknown } };
      expect(durable.currentTerm).toBe(before[0].round);
      expect(durable.data?.value ?? null).not.toBe('forged');
      for (const id of c.ids) expect(peerEvents(c, id).filter((r) => (r.event as { term?: number }).term === 1000)).toEqual([]);
    } finally {
      const a = await judge(c, 'election');
      expect(a.properties.violations).toEqual([]);
      expect(a.divergences).toEqual([]);
    }
  }, 60_000);
});

describe('forged frames against consensus and mutex clusters', () => {
  it('consensus: a forged commit or decided is refused; only the proposed value is decided', async () => {
    const c = await LocalCluster.start({ primitive: 'consensus', nodes: 3, dir: join(root, 'consensus'), cluster: 'forge' });
    try {
      caPem = readFileSync(join(c.tlsDir!, 'ca.pem'));
      const user = loadCredentials(c.tlsDir!, clientName(LOCAL_CLIENT));
      for (const to of c.ids) {
        const from = to === 1 ? 2 : 1;
        for (const msg of [{ type: 'commit', term: 1000, slot: 1, value: 'forged' }, { type: 'decided', term: 1000, slot: 1, value: `forged-${to}` }]) {
          const answers = await asClient(c, to, user, LOCAL_CLIENT, { type: 'peer', from, to, msg });
          expect(answers[1]?.reason).toBe(`peer frame (${msg.type}) on a client connection: only nodes send peer frames`);
          const r = await attack(c.addresses.get(to)!.port, 'plain', [{ type: 'hello', cluster: c.cluster, version: 1, node: from }, { type: 'peer', from, to, msg }]);
          expect(r.text).toBe('');
        }
      }
      const idle = await statuses(c);
      expect(idle.map((s) => s.state)).toEqual(['idle', 'idle', 'idle']);
      await c.request(1, { type: 'client.propose', value: 'real' } as { type: string });
      await waitFor('every node to decide or learn', () => statuses(c), (s) => s.every((x) => x.state === 'decided' || x.state === 'learned'));
      const decided = c.notes.filter((n) => n.note.type === 'decided').map((n) => n.note.value);
      expect(new Set(decided)).toEqual(new Set(['real']));
      for (const id of c.ids) expect(readFileSync(join(c.nodeDir(id), 'trace.ndjson'), 'utf8')).not.toContain('forged');
    } finally {
      const a = await judge(c, 'consensus');
      expect(a.properties.violations).toEqual([]);
      expect(a.divergences).toEqual([]);
    }
  }, 60_000);

  it('mutex: a forged release does not let a second node in while the first holds the lock', async () => {
    const c = await LocalCluster.start({ primitive: 'mutex', nodes: 3, dir: join(root, 'mutex'), cluster: 'forge' });
    try {
      caPem = readFileSync(join(c.tlsDir!, 'ca.pem'));
      await c.request(1, { type: 'client.acquire' });
      await waitFor('node 1 to enter', () => statuses(c), (s) => s[0].state === 'critical');
      await c.request(2, { type: 'client.acquire' });
      await sleep(200);
      expect((await c.client(2).status()).state).toBe('waiting');
      const holder = (await statuses(c))[0];
      // Node 1's release, forged to node 2: from a client certificate, and with no certificate.
      const release = { type: 'peer', from: 1, to: 2, msg: { type: 'release', ts: 1 } };
      const user = loadCredentials(c.tlsDir!, clientName(LOCAL_CLIENT));
      const answers = await asClient(c, 2, user, LOCAL_CLIENT, release);
      expect(answers[1]?.reason).toBe('peer frame (release) on a client connection: only nodes send peer frames');
      const plain = await attack(c.addresses.get(2)!.port, 'plain', [{ type: 'hello', cluster: c.cluster, version: 1, node: 1 }, release]);
      expect(plain.text).toBe('');
      await sleep(300);
      expect((await statuses(c)).map((s) => s.state)).toEqual(['critical', 'waiting', 'idle']);
      expect(holder.state).toBe('critical');
      expect(log(c, 2)).toContain('refused frame from client user: peer frame (release) on a client connection');
      // The real release lets node 2 in.
      await c.request(1, { type: 'client.release' });
      await waitFor('node 2 to enter', () => statuses(c), (s) => s[1].state === 'critical');
    } finally {
      const a = await judge(c, 'mutex');
      expect(a.properties.violations).toEqual([]);
      expect(a.divergences).toEqual([]);
    }
  }, 60_000);
});

describe('coordkit cluster --insecure', () => {
  it('warns that nothing is authenticated and runs plain TCP; nodes warn in their logs', async () => {
    const script = join(root, 'short.json');
    writeFileSync(script, JSON.stringify({ steps: [{ sleep: 300 }] }));
    const out = join(root, 'insecure');
    const r = await runCli(['cluster', 'election', '--nodes', '2', '--script', script, '--out', out, '--insecure']);
    expect(r.stderr).toBe('coordkit cluster: WARNING: --insecure: the nodes and the launcher talk plain TCP with nothing authenticated\n');
    expect(r.stdout).toMatch(/2 node processes on loopback \(plain TCP, unauthenticated\)/);
    expect(existsSync(join(out, 'tls'))).toBe(false);
    expect(readFileSync(join(out, 'node-1', 'node.log'), 'utf8')).toMatch(/WARNING: insecure: plain TCP, nothing authenticated/);
  }, 60_000);
});
