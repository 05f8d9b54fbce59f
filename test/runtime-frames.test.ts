/**
 * Bad input on a real node process: frames that are not JSON, of the wrong shape, of an unknown
 * type, oversized, from an unknown node or another cluster are refused with a logged reason and
 * change nothing; a connection that keeps sending garbage is closed; a corrupt state file stops
 * the node at startup with one line and exit 2. The node runs `--insecure` so that raw sockets can
 * speak for any node: the checks here are the same with TLS (see runtime-forgery.test.ts for
 * what TLS adds). Needs `npx tsc -p .` first.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../src/runtime/local-cluster.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { readTrace } from '../src/runtime/trace-log.js';
import { GARBAGE_LIMIT } from '../src/runtime/node-host.js';
import { MAX_FRAME_BYTES } from '../src/runtime/wire.js';
import { rawConnection, runCli } from './runtime-helpers.js';
import { readStoredState } from '../src/runtime/durable-store.js';

const BIN = join(__dirname, '..', 'bin', 'coordkit.js');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let dir = '';
let child: ChildProcess | null = null;
let port = 0;
let peers = '';

const raw = () => rawConnection({ host: '127.0.0.1', port });

const log = () => readFileSync(join(dir, 'node.log'), 'utf8');
const peerRecords = () => readTrace(join(dir, 'data', 'trace.ndjson')).filter((r) => r.kind === 'peer' || r.kind === 'client');

async function waitFor(what: string, ok: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'coordkit-frames-'));
  const [own, p2, p3] = await freePorts(3);
  port = own;
  // Nodes 2 and 3 are never started: node 1 campaigns alone and its term stays 0 (PreVote fails).
  peers = `2=127.0.0.1:${p2},3=127.0.0.1:${p3}`;
  const out = join(dir, 'node.log');
  writeFileSync(out, '');
  const fd = (await import('node:fs')).openSync(out, 'a');
  child = spawn(process.execPath, [BIN, 'node', '--primitive', 'election', '--id', '1', '--listen', `127.0.0.1:${port}`, '--peers', peers, '--data', join(dir, 'data'), '--cluster', 'frames', '--insecure'], { stdio: ['ignore', fd, fd], timeout: 900_000 });
  await waitFor('the node to listen', () => log().includes('listening'), 10_000);
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('inbound frames', () => {
  it('refuses bad peer frames with a logged reason and processes none of them', async () => {
    const c = await raw();
    c.socket.write(JSON.stringify({ type: 'hello', cluster: 'frames', version: 1, node: 2 }) + '\n');
    const bad = [
      'this is not json',
      JSON.stringify({ type: 'peer', from: 2, to: 1, msg: { type: 'vote', term: 'one', granted: true } }),
      JSON.stringify({ type: 'peer', from: 2, to: 1, msg: { type: 'launch_missiles', term: 1 } }),
      JSON.stringify({ type: 'peer', from: 2, to: 1, msg: { type: 'vote_request', term: 1, version: 0, pad: 'x'.repeat(MAX_FRAME_BYTES) } }),
    ];
    for (const line of bad) c.socket.write(line + '\n');
    await waitFor('four refusals', () => (log().match(/refused frame from peer 2/g) ?? []).length >= 4);
    expect(log()).toMatch(/refused frame from peer 2: not JSON/);
    expect(log()).toMatch(/refused frame from peer 2: bad vote message: \/term must be integer/);
    expect(log()).toMatch(/refused frame from peer 2: unknown message type "launch_missiles"/);
    expect(log()).toMatch(new RegExp(`refused frame from peer 2: frame exceeds ${MAX_FRAME_BYTES} bytes`));
    expect(peerRecords()).toHaveLength(0);
    expect(c.closed()).toBe(false);

    // The same connection still carries good frames: a valid pre-vote request is processed.
    c.socket.write(JSON.stringify({ type: 'peer', from: 2, to: 1, msg: { type: 'pre_vote_request', term: 1, version: 0 } }) + '\n');
    await waitFor('the valid frame to be processed', () => peerRecords().length === 1);
    expect(peerRecords()[0].kind === 'peer' && peerRecords()[0].event).toEqual({ type: 'pre_vote_request', term: 1, version: 0, from: 2 });
    c.socket.destroy();
  });

  it('refuses frames that lie about sender or receiver', async () => {
    const c = await raw();
    c.socket.write(JSON.stringify({ type: 'hello', cluster: 'frames', version: 1, node: 3 }) + '\n');
    c.socket.write(JSON.stringify({ type: 'peer', from: 2, to: 1, msg: { type: 'vote', term: 5, granted: true } }) + '\n');
    c.socket.write(JSON.stringify({ type: 'peer', from: 3, to: 2, msg: { type: 'vote', term: 5, granted: true } }) + '\n');
    await waitFor('two refusals', () => /claims to be from node 2 on node 3's connection/.test(log()) && /for node 2 reached node 1/.test(log()));
    expect(peerRecords()).toHaveLength(1);
    c.socket.destroy();
  });

  it('closes a connection that keeps sending garbage', async () => {
    const c = await raw();
    c.socket.write(JSON.stringify({ type: 'hello', cluster: 'frames', version: 1, node: 2 }) + '\n');
    for (let i = 0; i < GARBAGE_LIMIT; i++) c.socket.write(`{"type":"peer"} ${i}\n`);
    await waitFor('the node to close the connection', () => c.closed());
    expect(log()).toMatch(/closing the connection/);
  });

  it('refuses hellos from an unknown node, another cluster or another version, and frames before hello', async () => {
    const cases: [object | string, RegExp][] = [
      [{ type: 'hello', cluster: 'frames', version: 1, node: 9 }, /hello from unknown node 9/],
      [{ type: 'hello', cluster: 'elsewhere', version: 1, node: 2 }, /hello from cluster 'elsewhere'/],
      [{ type: 'hello', cluster: 'frames', version: 99, node: 2 }, /wire version 99 not supported/],
      [{ type: 'peer', from: 2, to: 1, msg: { type: 'vote', term: 1, granted: true } }, /expected hello, got peer/],
      ['[1,2,3]', /frame is not a JSON object/],
    ];
    for (const [frame, reason] of cases) {
      const c = await raw();
      c.socket.write((typeof frame === 'string' ? frame : JSON.stringify(frame)) + '\n');
      await waitFor(`refusal ${reason}`, () => c.closed());
      expect(c.received()).toMatch(/"type":"error"/);
      expect(log()).toMatch(reason);
    }
    expect(peerRecords()).toHaveLength(1);
  });

  it('answers bad client requests with an error and keeps serving', async () => {
    const client = await NodeClient.open({ host: '127.0.0.1', port }, 'frames', 'test');
    expect(client.hello).toMatchObject({ node: 1, primitive: 'election' });
    const unknown = await client.call({ type: 'request', request: { type: 'client.fly' } });
    expect(unknown).toEqual({ type: 'error', id: 1, reason: 'unknown client request type "client.fly"' });
    const wrong = await client.call({ type: 'request', request: { type: 'client.set', value: 7 } });
    expect(wrong).toMatchObject({ type: 'error', id: 2 });
    const partitionUnknown = await client.call({ type: 'admin', op: 'partition', block: [7] });
    expect(partitionUnknown).toMatchObject({ type: 'error', reason: 'cannot partition from unknown node(s) 7' });
    const status = await client.status();
    expect(status).toMatchObject({ node: 1, primitive: 'election', round: 0, leader: null });
    expect(peerRecords()).toHaveLength(1);
    // Durable state: still term 0, no vote.
    expect(readStoredState(join(dir, 'data'))!.durable).toMatchObject({ currentTerm: 0, votedFor: null });
    client.close();
    expect(child!.exitCode).toBeNull();
  });
});

describe('request ids', () => {
  it('an error echoes the id of a refused request only when it is exactly a valid id', async () => {
    const c = await raw();
    c.socket.write(JSON.stringify({ type: 'hello', cluster: 'frames', version: 1, client: 'ids' }) + '\n');
    const ids = ['2.5', '9007199254740993', '-1', '7'];
    for (const id of ids) c.socket.write(`{"type":"request","id":${id},"request":{"type":"client.set","value":1}}\n`);
    await waitFor('four errors', () => (c.received().match(/"type":"error"/g) ?? []).length === 4);
    const errors = c.received().trim().split('\n').map((l) => JSON.parse(l)).filter((f) => f.type === 'error');
    expect(errors.map((f) => f.id)).toEqual([undefined, undefined, undefined, 7]);
    c.socket.destroy();
  });
});

describe('startup errors', () => {
  const run = (args: string[]) => runCli(['node', '--insecure', ...args]);

  it('a corrupt state file is one line and exit 2, and the file is left alone', async () => {
    const data = join(dir, 'corrupt');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'state.json'), '{"primitive":"election","node":1,"durable":{"currentTe');
    const r = await run(['--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', peers, '--data', data]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^coordkit: state file .*state\.json is corrupt/);
    expect(readFileSync(join(data, 'state.json'), 'utf8')).toContain('currentTe');
  });

  it("another node's state file is refused", async () => {
    const data = join(dir, 'other');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'state.json'), JSON.stringify({ primitive: 'election', node: 2, durable: { currentTerm: 3 } }));
    const r = await run(['--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', peers, '--data', data]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/belongs to election node 2, not election node 1/);
  });

  it('bad arguments are one line and exit 2', async () => {
    for (const args of [
      ['--primitive', 'election', '--id', '1', '--listen', 'nowhere', '--peers', peers, '--data', dir],
      ['--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', '2=x', '--data', dir],
      ['--primitive', 'election', '--id', '4', '--listen', '127.0.0.1:0', '--peers', peers, '--data', dir],
      ['--primitive', 'nope', '--id', '1', '--listen', '127.0.0.1:0', '--peers', peers, '--data', dir],
      ['--primitive', 'election', '--listen', '127.0.0.1:0', '--peers', peers, '--data', dir],
    ]) {
      const r = await run(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^coordkit: /);
    }
  });

  it('a node without --tls-dir or --insecure is one line naming both, exit 2', async () => {
    const r = await runCli(['node', '--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', peers, '--data', join(dir, 'none')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^coordkit: a node needs --tls-dir DIR .* or --insecure/);
    const both = await run(['--tls-dir', dir, '--primitive', 'election', '--id', '1', '--listen', '127.0.0.1:0', '--peers', peers, '--data', join(dir, 'none')]);
    expect(both.stderr).toMatch(/^coordkit: --tls-dir and --insecure exclude each other\n$/);
  });

  it('an insecure node warns at startup and says so in its status', async () => {
    expect(log()).toMatch(/^node 1: WARNING: insecure: plain TCP, nothing authenticated; anyone who can reach port \d+ can act as any node, client or admin$/m);
    expect(log()).toMatch(/listening on .*plain TCP, unauthenticated/);
    const client = await NodeClient.open({ host: '127.0.0.1', port }, 'frames', 'status');
    expect((await client.status()).authenticated).toBe(false);
    client.close();
  });
});
