/**
 * Mutual TLS between nodes and clients, with a cluster CA. Every party holds a certificate
 * signed by the cluster's CA whose common name says who it is and which role it has:
 * `node-<id>` for node `id` (a peer), `client-<name>` for a client, `admin-<name>` for a client
 * that may also partition and heal. A node accepts only connections presenting such a
 * certificate and then checks that the hello claims the identity the certificate proves (a peer
 * cannot pretend to be another node, a client cannot pretend to be a node); the role is taken
 * from the certificate alone, never from the hello. A node dialling a peer checks the peer's
 * certificate names the node it meant to reach. Certificates are made by `makeClusterCerts`
 * (cluster-certs.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSecureContext, type PeerCertificate, type SecureContext } from 'node:tls';

/** A party's credentials, as PEM bytes. */
export interface TlsCredentials {
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export const nodeName = (id: number) => `node-${id}`;
export const clientName = (name: string) => `client-${name}`;
export const adminName = (name: string) => `admin-${name}`;

/** Who a certificate's common name proves a party to be. */
export type Identity = { role: 'peer'; node: number } | { role: 'client'; name: string } | { role: 'admin'; name: string };

/** The identity a common name proves, or null for a name that proves no role. */
export function identityOf(cn: string | null): Identity | null {
  const m = /^(node|client|admin)-(.+)$/.exec(cn ?? '');
  if (!m) return null;
  if (m[1] !== 'node') return { role: m[1] as 'client' | 'admin', name: m[2] };
  return /^[1-9]\d{0,8}$/.test(m[2]) ? { role: 'peer', node: Number(m[2]) } : null;
}

const contexts = new WeakMap<TlsCredentials, SecureContext>();

/** One TLS context per set of credentials: making one parses the CA and key, which costs more than the handshake. */
export function secureContextOf(credentials: TlsCredentials): SecureContext {
  let context = contexts.get(credentials);
  if (!context) contexts.set(credentials, (context = createSecureContext(credentials)));
  return context;
}

/**
 * Lets a node's links dial with the context its TLS server built from the same credentials, rather
 * than build a second one (each parses the key and the certificates: milliseconds of a node's
 * start). Node keeps a server's context as `_sharedCreds`; where it is not there, the links build
 * their own as before.
 */
export function shareServerContext(credentials: TlsCredentials, server: object): void {
  const context = (server as { _sharedCreds?: SecureContext })._sharedCreds;
  if (!contexts.has(credentials) && typeof context?.context === 'object' && context.context !== null) contexts.set(credentials, context);
}

/** The credentials `name` (`node-2`, `client-billing`, `admin-ops`) has in a folder made by `makeClusterCerts`. */
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
