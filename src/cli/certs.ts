/**
 * `coordkit certs --out DIR --nodes N [--clients a,b] [--admins x] [--days D]`: a cluster CA and
 * the certificates of a hand-started cluster: `node-1..node-N` for the nodes, `client-<name>` for
 * clients, `admin-<name>` for clients that may also partition and heal. The CA's private key is
 * kept as `DIR/ca.key` so that running the command again on the same folder adds certificates
 * to the same CA; it belongs with whoever issues certificates, never on a node.
 */
import { makeClusterCerts } from '../runtime/cluster-certs.js';
import { adminName, clientName, nodeName } from '../runtime/tls.js';
import { parse } from './parse.js';
import { intArg, UsageError } from './usage-error.js';

const USAGE = 'coordkit certs --out DIR [--nodes N] [--clients NAME,...] [--admins NAME,...] [--days D (default 365)]';
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function namesArg(flag: string, raw: string | undefined): string[] {
  const names = (raw ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) if (!NAME.test(name)) throw new UsageError(`--${flag}: '${name}' is not a name (letters, digits, '_', '.', '-'; up to 63)`);
  return names;
}

export async function certsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      out: { type: 'string', help: 'DIR  where ca.pem, ca.key and each <name>.pem/.key go (adds to the CA already there)' },
      nodes: { type: 'string', help: 'N  certificates node-1 .. node-N (peers)' },
      clients: { type: 'string', help: 'NAME,...  client certificates client-NAME (client requests only)' },
      admins: { type: 'string', help: 'NAME,...  admin certificates admin-NAME (client requests, partition and heal)' },
      days: { type: 'string', help: 'D  validity in days (default 365)' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
  if (!values.out) throw new UsageError(`--out is required (usage: ${USAGE})`);
  const nodes = intArg('nodes', values.nodes, 1, 64) ?? 0;
  const days = intArg('days', values.days, 1, 3650) ?? 365;
  const names = [
    ...Array.from({ length: nodes }, (_, i) => nodeName(i + 1)),
    ...namesArg('clients', values.clients).map(clientName),
    ...namesArg('admins', values.admins).map(adminName),
  ];
  if (names.length === 0) throw new UsageError(`nothing to make: give --nodes, --clients or --admins (usage: ${USAGE})`);
  let reusedCa: boolean;
  try {
    ({ reusedCa } = await makeClusterCerts(values.out, names, { days, keepCaKey: true }));
  } catch (err) {
    throw new UsageError(`cannot make certificates in ${values.out}: ${(err as Error).message.split('\n')[0]}`);
  }
  process.stdout.write(
    [
      `${reusedCa ? 'added to the CA' : 'made a new cluster CA'} in ${values.out}: ca.pem (give it to every party), ca.key (the CA's private key: keep it off the nodes)`,
      `certificates (NAME.pem, NAME.key), valid ${days} days: ${names.join(' ')}`,
      `a node needs ca.pem and its own pair: coordkit node --tls-dir DIR ... (a folder with ca.pem, node-<id>.pem, node-<id>.key)`,
    ].join('\n') + '\n',
  );
  return 0;
}
