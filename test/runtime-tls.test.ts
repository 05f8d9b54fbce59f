/**
 * Mutual TLS with a cluster CA: nodes elect a leader over TLS; a plain TCP client, a certificate
 * from another CA, and a hello claiming another identity than the certificate proves are all
 * refused. Certificates are made in-process (no openssl). Needs `npx tsc -p .` first.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_CLIENT, LocalCluster } from '../src/runtime/local-cluster.js';
import { makeClusterCerts } from '../src/runtime/cluster-certs.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { clientName, loadCredentials, type TlsCredentials } from '../src/runtime/tls.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-tls-'));
let cluster: LocalCluster;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (id: number) => readFileSync(join(cluster.nodeDir(id), 'node.log'), 'utf8');

beforeAll(async () => {
  cluster = await LocalCluster.start({ primitive: 'election', nodes: 3, dir: join(root, 'c'), cluster: 'tls' });
});
afterAll(async () => {
  await cluster?.stop();
  rmSync(root, { recursive: true, force: true });
});

/** Raw TLS connection with given credentials; resolves with what the node sent, once it closed or said hello. */
function tlsExchange(creds: TlsCredentials, hello: object): Promise<string> {
  return new Promise((resolve) => {
    const s = connectTls({ host: '127.0.0.1', port: cluster.addresses.get(1)!.port, ...creds, checkServerIdentity: () => undefined });
    let text = '';
    s.on('secureConnect', () => s.write(JSON.stringify(hello) + '\n'));
    s.on('data', (d) => {
      text += d;
      if (text.includes('"type":"hello"')) s.destroy();
    });
    s.on('error', (e) => (text += `[${e.message}]`));
    s.on('close', () => resolve(text));
  });
}

describe('mutual TLS', () => {
  it('is the default: elects a leader with every link and the launcher on TLS', async () => {
    const deadline = Date.now() + 8000;
    for (;;) {
      const s = await Promise.all(cluster.ids.map((id) => cluster.client(id).status()));
      if (s.filter((x) => x.state === 'leader').length === 1 && new Set(s.map((x) => x.leader)).size === 1 && s[0].leader !== null) break;
      if (Date.now() > deadline) throw new Error(`no leader: ${JSON.stringify(s)}`);
      await sleep(25);
    }
    expect(log(1)).toMatch(/mutual TLS/);
    expect(log(1)).not.toMatch(/WARNING/);
    expect((await cluster.client(1).status()).authenticated).toBe(true);
  });

  it('refuses a plain TCP connection', async () => {
    const text = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port: cluster.addresses.get(1)!.port });
      let got = '';
      s.on('connect', () => s.write(JSON.stringify({ type: 'hello', cluster: 'tls', version: 1, client: 'plain' }) + '\n'));
      s.on('data', (d) => (got += d));
      s.on('error', () => {});
      s.on('close', () => resolve(got));
    });
    expect(text).not.toMatch(/"type":"hello"/);
    await sleep(50);
    expect(log(1)).toMatch(/refused TLS connection from/);
  });

  it('refuses a certificate from another CA', async () => {
    const other = join(root, 'other-ca');
    await makeClusterCerts(other, [clientName('mallory')]);
    await expect(NodeClient.open(cluster.addresses.get(1)!, 'tls', 'mallory', 1500, loadCredentials(other, clientName('mallory')))).rejects.toThrow();
  });

  it('refuses a hello that claims another identity than the certificate proves', async () => {
    const tlsDir = cluster.tlsDir!;
    const asNode2 = await tlsExchange(loadCredentials(tlsDir, 'node-3'), { type: 'hello', cluster: 'tls', version: 1, node: 2 });
    expect(asNode2).toMatch(/hello claims node-2 but the certificate proves node-3/);
    const clientAsNode = await tlsExchange(loadCredentials(tlsDir, clientName(LOCAL_CLIENT)), { type: 'hello', cluster: 'tls', version: 1, node: 2 });
    expect(clientAsNode).toMatch(/hello claims node-2 but the certificate proves client-user/);
    const clientAsOther = await tlsExchange(loadCredentials(tlsDir, clientName(LOCAL_CLIENT)), { type: 'hello', cluster: 'tls', version: 1, client: 'launcher' });
    expect(clientAsOther).toMatch(/hello claims client-launcher but the certificate proves client-user/);
    // The rightful identity is accepted.
    const user = await tlsExchange(loadCredentials(tlsDir, clientName(LOCAL_CLIENT)), { type: 'hello', cluster: 'tls', version: 1, client: LOCAL_CLIENT });
    expect(user).toMatch(/"type":"hello".*"node":1/);
  });
});
