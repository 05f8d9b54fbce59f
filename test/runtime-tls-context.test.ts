/**
 * A node builds one TLS context: its links dial with the context its server built from the same
 * credentials (each context parses the key and the certificates, milliseconds of a start). The
 * links work with it: test/runtime-tls.test.ts elects a leader over them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { protocols } from '../machines/index.js';
import { kitSchemaDir } from '../src/cli/protocol-source.js';
import { makeClusterCerts } from '../src/runtime/cluster-certs.js';
import { NodeHost } from '../src/runtime/node-host.js';
import { loadCredentials, nodeName, secureContextOf, shareServerContext } from '../src/runtime/tls.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-tls-context-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const serverContext = (server: object) => (server as { _sharedCreds: unknown })._sharedCreds;

describe('the TLS context of a node', () => {
  it('is its server\'s, which its links dial with', async () => {
    await makeClusterCerts(join(root, 'tls'), [nodeName(1), nodeName(2)]);
    const tls = loadCredentials(join(root, 'tls'), nodeName(1));
    const election = protocols.find((p) => p.name === 'election')!;
    const host = new NodeHost({ protocol: election, variant: election.variants[0], id: 1, cluster: 'c', listen: { host: '127.0.0.1', port: 0 }, peers: new Map([[2, { host: '127.0.0.1', port: 1 }]]), dataDir: join(root, 'data'), schemaDir: kitSchemaDir(), log: () => {}, tls });
    try {
      await host.start();
      const server = (host as unknown as { server: object }).server;
      expect(serverContext(server)).toBeDefined();
      expect(secureContextOf(tls)).toBe(serverContext(server));
    } finally {
      await host.stop();
    }
  }, 30_000);

  it('is built for the links when there is no server context to share', async () => {
    const tls = loadCredentials(join(root, 'tls'), nodeName(2));
    shareServerContext(tls, {});
    const own = secureContextOf(tls);
    expect(own.context).toBeTruthy();
    // And a server's context does not replace one the links already have.
    shareServerContext(tls, createServer({ ...tls }));
    expect(secureContextOf(tls)).toBe(own);
  });
});
