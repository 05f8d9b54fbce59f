/**
 * Which clients a node pushes notes to: every client by default, none to a client whose hello
 * said `notes: false` (a writer that does not watch), whose replies still carry its own steps'
 * notes. Three election nodes run in this process over plain TCP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import { freePorts, LocalCluster } from '../src/runtime/local-cluster.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { NodeHost } from '../src/runtime/node-host.js';
import { waitFor } from './runtime-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-notes-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const election = protocols.find((p) => p.name === 'election')!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('notes pushed to clients', () => {
  it('a client that said notes: false gets none pushed, and its reply still carries its step\'s notes; a default client gets every note', async () => {
    const ports = await freePorts(3);
    const addr = (id: number) => ({ host: '127.0.0.1', port: ports[id - 1] });
    const hosts = [1, 2, 3].map(
      (id) =>
        new NodeHost({
          protocol: election,
          variant: election.variants.find((v) => v.name === election.defaultVariant)!,
          id,
          cluster: 'notes',
          listen: addr(id),
          peers: new Map([1, 2, 3].filter((p) => p !== id).map((p) => [p, addr(p)])),
          dataDir: join(root, `node-${id}`),
          schemaDir: kitSchemaDir(),
          log: () => {},
          insecure: true,
        }),
    );
    const clients: NodeClient[] = [];
    try {
      for (const h of hosts) await h.start();
      const probes = await Promise.all([1, 2, 3].map((id) => NodeClient.open(addr(id), 'notes', 'probe')));
      clients.push(...probes);
      const leader = await waitFor('a leader', () => Promise.all(probes.map((c) => c.status())), (s) => s.some((x) => x.state === 'leader')).then((s) => s.find((x) => x.state === 'leader')!.node);
      const watcher = await NodeClient.open(addr(leader), 'notes', 'watcher');
      const writer = await NodeClient.open(addr(leader), 'notes', 'writer', 2000, undefined, { notes: false });
      clients.push(watcher, writer);
      for (let i = 0; i < 3; i++) {
        const reply = await writer.request({ type: 'client.set', value: `v${i}` } as { type: string });
        expect(reply.notes.map((n) => n.type)).toEqual(['written']);
      }
      await waitFor('three written notes at the watcher', async () => watcher.notes.filter((n) => n.note.type === 'written').length, (n) => n === 3, 5000);
      await sleep(200); // a heartbeat or more: any note the node pushed the writer has arrived
      expect(writer.notes).toEqual([]);
    } finally {
      for (const c of clients) c.close();
      await Promise.all(hosts.map((h) => h.stop()));
    }
  }, 30_000);

  it('a local cluster started with launcherNotes: false pushes no note to the launcher, and every note to a client that takes them', async () => {
    const c = await LocalCluster.start({ primitive: 'mutex', nodes: 3, dir: join(root, 'quiet-launcher'), insecure: true, launcherNotes: false, startTimeoutMs: 30_000 });
    try {
      const user = await NodeClient.open(c.addresses.get(1)!, c.cluster, 'user', 5000);
      await user.request({ type: 'client.acquire' }, 5000);
      await waitFor('the enter note', async () => user.notes.map((n) => n.note.type), (types) => types.includes('enter'));
      await user.request({ type: 'client.release' }, 5000);
      await waitFor('the exit note', async () => user.notes.map((n) => n.note.type), (types) => types.includes('exit'));
      user.close();
      // Node 1 noted the request, the enter and the exit; none of it went to the launcher's connection.
      expect(c.notes).toEqual([]);
    } finally {
      await c.stop();
    }
  }, 60_000);
});
