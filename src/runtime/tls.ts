/**
 * Mutual TLS between nodes and clients, with a cluster CA. Every party holds a certificate
 * signed by the cluster's CA whose common name says who it is: `node-<id>` for node `id`,
 * `client-<name>` for a client. A node accepts only connections presenting such a certificate
 * and then checks that the hello claims the identity the certificate proves (a peer cannot
 * pretend to be another node); a node dialling a peer checks the peer's certificate names the
 * node it meant to reach. Certificates are made with the `openssl` command (`makeClusterCerts`),
 * since Node.js can make keys but not X.509 certificates.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';

/** A party's credentials, as PEM bytes. */
export interface TlsCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export const nodeName = (id: number) => `node-${id}`;
export const clientName = (name: string) => `client-${name}`;

/** The credentials `name` (`node-2`, `client-launcher`) has in a folder made by `makeClusterCerts`. */
export function loadCredentials(dir: string, name: string): TlsCredentials {
  const read = (file: string) => {
    const path = join(dir, file);
    try {
      return readFileSync(path);
    } catch {
      throw new Error(`TLS file ${path} is missing or unreadable`);
    }
  };
  return { ca: read('ca.pem'), cert: read(`${name}.pem`), key: read(`${name}.key`) };
}

/** The common name a peer's certificate proves, if it was verified against the CA. */
export function provenName(cert: PeerCertificate | undefined): string | null {
  const cn = cert?.subject?.CN;
  return typeof cn === 'string' ? cn : null;
}

const openssl = (args: string[], cwd: string) => {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stderr?: Buffer };
    throw new Error(e.code === 'ENOENT' ? 'TLS needs the openssl command, which is not installed' : `openssl ${args[0]} failed: ${String(e.stderr ?? '').trim().split('\n')[0]}`);
  }
};

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

/** A fresh cluster CA in `dir` and a certificate for each of `names` (`node-1`, `client-launcher`, ...). */
export function makeClusterCerts(dir: string, names: readonly string[], days = 30): void {
  mkdirSync(dir, { recursive: true });
  openssl(['req', '-x509', ...EC, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', String(days), '-subj', '/CN=coordkit-cluster-ca'], dir);
  for (const name of names) {
    openssl(['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`], dir);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', String(days)], dir);
    rmSync(join(dir, `${name}.csr`));
  }
  if (!existsSync(join(dir, 'ca.pem'))) throw new Error(`openssl made no CA in ${dir}`);
}
