/**
 * What a client can rely on, through real clusters (node processes, mutual TLS): a write at a
 * follower is refused with an error naming the leader to ask; the replicated value, and the
 * consensus decision, can be read at any node that knows it; a proposal at a node that already
 * knows the decision of the slot its client allows is answered with it; `status.round` is the term the node
 * is in; every answer echoes its request's id exactly. Needs `npx tsc -p .` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { MAX_COUNTER } from '../src/bounds.js';
import { LOCAL_CLIENT, LocalCluster } from '../src/runtime/local-cluster.js';
import { clientName, loadCredentials } from '../src/runtime/tls.js';
import type { ClientBoundFrame, ErrorFrame, ReplyFrame, StatusFrame } from '../src/runtime/wire.js';
import { waitFor } from './runtime-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-semantics-'));
let cluster: LocalCluster | null = null;
afterEach(async () => {
  await cluster?.stop();
  cluster = null;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const registered = (name: string) => protocols.some((p) => p.name === name);

const until = <T>(what: string, probe: () => Promise<T>, ok: (v: T) => boolean) => waitFor(what, probe, ok, 10_000);

const statuses = (c: LocalCluster) => Promise.all(c.ids.map((id) => c.client(id).status()));
const noteOf = (reply: ReplyFrame, type: string) => reply.notes.find((n) => n.type === type) as Record<string, any> | undefined;

describe.runIf(registered('election'))('election clients', () => {
  it.each([3, 5])('%i nodes: a write at a follower names the leader; the leader writes; every node then reads the value; status.round is the term', async (nodes) => {
    cluster = await LocalCluster.start({ primitive: 'election', nodes, dir: join(root, `election-${nodes}`) });
    const c = cluster;
    const agreed = await until('a leader all agree on', () => statuses(c), (s) => s.filter((x) => x.state === 'leader').length === 1 && new Set(s.map((x) => `${x.leader}/${x.round}`)).size === 1 && s[0].leader !== null);
    const leader = agreed[0].leader!;
    const term = agreed[0].round!;
    expect(term).toBeGreaterThanOrEqual(1);

    for (const id of c.ids.filter((i) => i !== leader)) {
      const answer = (await c.client(id).call({ type: 'request', request: { type: 'client.set', value: 'nope' } })) as ErrorFrame;
      expect(answer.type, JSON.stringify(answer)).toBe('error');
      expect(answer.note).toEqual({ type: 'not_leader', term, leader });
      expect(answer.reason).toBe(`client.set refused: not_leader leader=${leader} term=${term}`);
    }

    const written = await c.client(leader).request({ type: 'client.set', value: 'v-contract' });
    expect(noteOf(written, 'written')).toEqual({ type: 'written', term, version: 1 });

    for (const id of c.ids) {
      const read = await until(`node ${id} to read the written value`, () => c.client(id).request({ type: 'client.get' }), (r) => noteOf(r, 'value')?.version === 1);
      expect(noteOf(read, 'value')).toEqual({ type: 'value', term, version: 1, value: 'v-contract', leader });
    }
    // The refused writes changed nothing anywhere: version 1 is the leader's one write.
    for (const s of await statuses(c)) expect(s.round).toBe(term);
  });
});

describe.runIf(registered('consensus'))('consensus clients', () => {
  it('proposals fill the log slot by slot; a leader runs phase 2 only; a proposal for a decided slot is answered with it; any node reads the log', async () => {
    cluster = await LocalCluster.start({ primitive: 'consensus', nodes: 3, dir: join(root, 'consensus') });
    const c = cluster;
    await c.waitLinked(20_000);
    for (const s of await statuses(c)) expect(s.round).toBe(0);
    const before = await c.client(2).request({ type: 'client.get' });
    expect(noteOf(before, 'log')).toEqual({ type: 'log', decided: [] });
    const readLog = async (id: number, length: number) =>
      noteOf(await until(`node ${id} to learn ${length} slot(s)`, () => c.client(id).request({ type: 'client.get' }), (r) => (noteOf(r, 'log')?.decided as unknown[]).length === length), 'log');
    const decision = (id: number, value: string) => until(`node ${id} to answer ${value}`, async () => c.notes.find((f) => f.node === id && f.note.type === 'decision' && f.note.proposal === value), (f) => f !== undefined);

    await c.client(1).request({ type: 'client.propose', value: 'first' });
    for (const id of c.ids) expect(await readLog(id, 1)).toEqual({ type: 'log', decided: ['first'] });
    // Node 1 proposed in term 1 (round 0 of 3 terms); every acceptor promised it.
    for (const s of await statuses(c)) expect(s.round, `node ${s.node}`).toBe(1);

    // Node 3 knows slot 1: its client's value goes to slot 2, after a phase 1 of its own (term 3).
    const second = await c.client(3).request({ type: 'client.propose', value: 'second' });
    expect(second.notes).toEqual([{ type: 'proposed', slot: 2, value: 'second' }, { type: 'promised', term: 3 }]);
    expect((await decision(3, 'second'))!.note).toEqual({ type: 'decision', slot: 2, value: 'second', proposal: 'second' });
    // A proposal allowing no slot past 1 is answered with slot 1's decision.
    const late = await c.client(3).request({ type: 'client.propose', value: 'third', maxSlot: 1 });
    expect(late.notes).toEqual([{ type: 'decision', slot: 1, value: 'first', proposal: 'third' }]);
    // Node 3 leads term 3: its next proposal is committed at once, no promise asked.
    const fourth = await c.client(3).request({ type: 'client.propose', value: 'fourth' });
    expect(fourth.state).toBe('committing');
    expect(fourth.notes).toEqual([{ type: 'proposed', slot: 3, value: 'fourth' }, { type: 'accepted', slot: 3, term: 3, value: 'fourth' }]);
    expect((await decision(3, 'fourth'))!.note).toEqual({ type: 'decision', slot: 3, value: 'fourth', proposal: 'fourth' });
    // Node 1 promised term 3 since it led term 1: it runs phase 1 again, in term 4.
    const fifth = await c.client(1).request({ type: 'client.propose', value: 'fifth' });
    expect(fifth.notes).toEqual([{ type: 'proposed', slot: 4, value: 'fifth' }, { type: 'promised', term: 4 }]);
    expect((await decision(1, 'fifth'))!.note).toEqual({ type: 'decision', slot: 4, value: 'fifth', proposal: 'fifth' });
    for (const id of c.ids) expect(await readLog(id, 4)).toEqual({ type: 'log', decided: ['first', 'second', 'fourth', 'fifth'] });
  });
});

/** A raw mutual-TLS client connection as the local cluster's client certificate: every frame it gets. */
function rawClient(c: LocalCluster, id: number): Promise<{ send: (f: object) => void; frames: () => ClientBoundFrame[]; close: () => void }> {
  const { port } = c.addresses.get(id)!;
  return new Promise((resolve, reject) => {
    let text = '';
    const socket = connect({ host: '127.0.0.1', port, ...loadCredentials(c.tlsDir!, clientName(LOCAL_CLIENT)), checkServerIdentity: () => undefined }, () => {
      socket.write(JSON.stringify({ type: 'hello', cluster: c.cluster, version: 1, client: LOCAL_CLIENT }) + '\n');
      resolve({
        send: (f) => socket.write(JSON.stringify(f) + '\n'),
        frames: () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l)),
        close: () => socket.destroy(),
      });
    });
    socket.on('data', (d) => (text += d.toString()));
    socket.once('error', reject);
  });
}

describe.runIf(registered('election'))('ids', () => {
  it('every answer (reply, status, refusal, refused admin) echoes its request id exactly, up to MAX_COUNTER', async () => {
    cluster = await LocalCluster.start({ primitive: 'election', nodes: 2, dir: join(root, 'ids') });
    const c = cluster;
    const s = await until('a leader', () => statuses(c), (x) => x.some((y: StatusFrame) => y.state === 'leader') && x.every((y) => y.leader !== null));
    const follower = s.find((x) => x.state !== 'leader')!.node;
    const raw = await rawClient(c, follower);
    const ids = [0, 1, 2 ** 32 + 1, 2 ** 47 + 3, MAX_COUNTER];
    const kinds = [{ request: { type: 'client.status' } }, { request: { type: 'client.get' } }, { request: { type: 'client.set', value: 'x' } }, { op: 'heal' }];
    const sent: [number, string][] = [];
    for (const [i, id] of ids.entries()) {
      const kind = kinds[i % kinds.length];
      raw.send('op' in kind ? { type: 'admin', id, ...kind } : { type: 'request', id, ...kind });
      sent.push([id, 'op' in kind ? 'admin' : kind.request.type]);
    }
    const answers = await until('an answer to each request', async () => raw.frames().filter((f) => f.type !== 'hello' && f.type !== 'note'), (f) => f.length >= ids.length);
    raw.close();
    expect(answers.map((f) => ('id' in f ? f.id : undefined))).toEqual(ids);
    expect(answers.map((f) => f.type)).toEqual(['status', 'reply', 'error', 'error', 'status']);
    expect(sent.map(([, t]) => t)).toEqual(['client.status', 'client.get', 'client.set', 'admin', 'client.status']);
  });
});
