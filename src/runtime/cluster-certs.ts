/**
 * A cluster CA and the certificates of its parties, made in-process: ECDSA P-256 keys from
 * Node's webcrypto, X.509 certificates encoded by @peculiar/x509, so no `openssl` command is
 * needed. Node certificates are good for both TLS ends (a node listens and dials); client and
 * admin certificates only for the client end. Private keys are written readable by the owner
 * only. The CA's private key is kept (`ca.key`) only when asked: whoever holds it can mint an
 * admin certificate, so a launcher that made every certificate it needs throws it away.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const CA_NAME = 'CN=coordkit-cluster-ca';
/** Tolerated clock difference between the machine that makes certificates and the nodes. */
const CLOCK_SKEW_MS = 5 * 60_000;

/** Common names a certificate may carry: `node-<id>`, `client-<name>`, `admin-<name>`. */
export const CERT_NAME = /^(node-[1-9]\d{0,8}|(client|admin)-[A-Za-z0-9][A-Za-z0-9_.-]{0,62})$/;

export interface ClusterCertsOptions {
  /** How long the certificates are valid (default 365 days). */
  days?: number;
  /** Keep the CA's private key as `ca.key`, so that more certificates can be issued later. */
  keepCaKey?: boolean;
}

interface Ca {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

const serialNumber = () => {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // positive
  return Buffer.from(bytes).toString('hex');
};

const newKeys = () => webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

async function writeKey(file: string, key: CryptoKey): Promise<void> {
  const pem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
  writeFileSync(file, pem + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

function validity(days: number) {
  const now = Date.now();
  return { notBefore: new Date(now - CLOCK_SKEW_MS), notAfter: new Date(now + days * 86_400_000) };
}

async function newCa(days: number): Promise<Ca> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: CA_NAME,
    ...validity(days),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey };
}

/** The CA whose `ca.pem` and `ca.key` are in `dir`. */
async function loadCa(dir: string): Promise<Ca> {
  try {
    const cert = new x509.X509Certificate(readFileSync(join(dir, 'ca.pem'), 'utf8'));
    const der = x509.PemConverter.decodeFirst(readFileSync(join(dir, 'ca.key'), 'utf8'));
    const key = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, false, ['sign']);
    return { cert, key };
  } catch (err) {
    throw new Error(`cannot read the CA in ${dir} (ca.pem, ca.key): ${(err as Error).message.split('\n')[0]}`);
  }
}

async function issue(ca: Ca, name: string, days: number): Promise<{ cert: x509.X509Certificate; key: CryptoKey }> {
  const keys = await newKeys();
  const usages = name.startsWith('node-') ? [x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth] : [x509.ExtendedKeyUsage.clientAuth];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: `CN=${name}`,
    issuer: ca.cert.subject,
    ...validity(days),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(usages),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert, key: keys.privateKey };
}

/**
 * A cluster CA in `dir` (`ca.pem`; reused when `dir` already holds `ca.pem` and `ca.key`) and,
 * for each of `names`, `<name>.pem` and `<name>.key` signed by it. Returns whether an existing CA
 * was reused.
 */
export async function makeClusterCerts(dir: string, names: readonly string[], options: ClusterCertsOptions = {}): Promise<{ reusedCa: boolean }> {
  const days = options.days ?? 365;
  for (const name of names) if (!CERT_NAME.test(name)) throw new Error(`'${name}' is not a certificate name (node-<id>, client-<name>, admin-<name>)`);
  mkdirSync(dir, { recursive: true });
  const hasCert = existsSync(join(dir, 'ca.pem'));
  const hasKey = existsSync(join(dir, 'ca.key'));
  if (hasCert && !hasKey) throw new Error(`${dir} holds a ca.pem without its ca.key: certificates cannot be added to that CA; choose an empty folder`);
  const ca = hasCert ? await loadCa(dir) : await newCa(days);
  if (!hasCert) {
    writeFileSync(join(dir, 'ca.pem'), ca.cert.toString('pem') + '\n');
    if (options.keepCaKey) await writeKey(join(dir, 'ca.key'), ca.key);
  }
  for (const name of names) {
    const { cert, key } = await issue(ca, name, days);
    writeFileSync(join(dir, `${name}.pem`), cert.toString('pem') + '\n');
    await writeKey(join(dir, `${name}.key`), key);
  }
  return { reusedCa: hasCert };
}
