/**
 * `coordkit node`: runs one node of a primitive over mutual TLS (`--tls-dir`, a folder made by
 * `coordkit certs` holding `ca.pem`, `node-<id>.pem` and `node-<id>.key`), or plain TCP with
 * nothing authenticated when asked with `--insecure`, until SIGTERM or SIGINT.
 * Exit 2 on bad arguments or a corrupt state file, 4 when the data folder cannot be written
 * (at start or later: a full disk, a read-only folder, an I/O error); one line, never a stack trace.
 */
import type { Protocol } from '../protocol.js';
import { DiskFault } from '../runtime/disk-io.js';
import { CorruptStateError } from '../runtime/durable-store.js';
import { NodeHost } from '../runtime/node-host.js';
import { loadCredentials, nodeName } from '../runtime/tls.js';
import type { Address } from '../runtime/peer-link.js';
import { parse } from './parse.js';
import { PROTOCOL_OPTIONS, requireSchemas, resolveProtocol } from './protocol-source.js';
import { choiceArg, intArg, UsageError } from './usage-error.js';

const USAGE =
  'coordkit node --primitive P --id ID --listen HOST:PORT --peers ID=HOST:PORT,... --data DIR [--cluster C] [--variant V] [--protocol FILE | --config FILE] [--schemas DIR] (--tls-dir DIR | --insecure) [--stop-on-stdin-close]';

/** The exit code of a node stopped by a failed durable write (2 is bad usage, 3 an internal error). */
export const DISK_FAULT_EXIT = 4;

const diskFaultLine = (id: number, fault: DiskFault) => `coordkit: node ${id}: ${fault.message}; stopped before anything that depends on it was sent (exit ${DISK_FAULT_EXIT})\n`;

export function parseAddress(what: string, raw: string): Address {
  const m = /^(.+):(\d{1,5})$/.exec(raw);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UsageError(`${what} must be HOST:PORT, got '${raw}'`);
  return { host: m[1].replace(/^\[(.*)\]$/, '$1'), port };
}

export function parsePeers(raw: string): Map<number, Address> {
  const peers = new Map<number, Address>();
  for (const item of raw.split(',').filter((s) => s.trim() !== '')) {
    const m = /^(\d+)=(.+)$/.exec(item.trim());
    if (!m) throw new UsageError(`--peers entries must be ID=HOST:PORT, got '${item}'`);
    const id = Number(m[1]);
    if (peers.has(id)) throw new UsageError(`--peers names node ${id} twice`);
    peers.set(id, parseAddress(`--peers entry for node ${id}`, m[2]));
  }
  return peers;
}

/** `onReady` is called once the node listens, before the line that says so. */
export async function nodeCommand(args: string[], onReady?: () => void): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      primitive: { type: 'string', help: 'P  the primitive this node runs' },
      ...PROTOCOL_OPTIONS,
      schemas: { type: 'string', help: 'DIR  the protocol\'s generated schemas (default: where the protocol says)' },
      variant: { type: 'string', help: 'V  the variant (default: the verified one)' },
      id: { type: 'string', help: 'ID  this node\'s id, 1 to 64 (required)' },
      listen: { type: 'string', help: 'HOST:PORT  where to listen (required)' },
      peers: { type: 'string', help: 'ID=HOST:PORT,...  the other nodes (required)' },
      data: { type: 'string', help: 'DIR  durable state and trace (required)' },
      'wal-segment-bytes': { type: 'string', help: 'N  size of a write-ahead log segment before it is compacted (default 1048576)' },
      cluster: { type: 'string', help: 'C  cluster name every peer must agree on (default: coordkit)' },
      'stop-on-stdin-close': { type: 'boolean', help: 'stop when standard input closes (for launchers)' },
      'tls-dir': { type: 'string', help: 'DIR  ca.pem and node-<id>.pem/.key for mutual TLS (made by coordkit certs)' },
      insecure: { type: 'boolean', help: 'plain TCP with nothing authenticated, instead of --tls-dir' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}' (usage: ${USAGE})`);
  for (const required of ['id', 'listen', 'peers', 'data'] as const) {
    if (values[required] === undefined) throw new UsageError(`--${required} is required (usage: ${USAGE})`);
  }
  if (!values['tls-dir'] === !values.insecure) {
    throw new UsageError(values.insecure ? '--tls-dir and --insecure exclude each other' : 'a node needs --tls-dir DIR (certificates made by `coordkit certs`) or --insecure (plain TCP, nothing authenticated)');
  }
  const source = await resolveProtocol({ name: values.primitive, protocol: values.protocol, config: values.config });
  const protocol: Protocol = source.protocol;
  const schemaDir = values.schemas ?? source.schemaDir;
  requireSchemas(source, schemaDir);
  const variantName = choiceArg('variant', values.variant, protocol.variants.map((v) => v.name)) ?? protocol.defaultVariant;
  const variant = protocol.variants.find((v) => v.name === variantName)!;
  const id = intArg('id', values.id, 1, 64)!;
  const peers = parsePeers(values.peers!);
  if (peers.has(id)) throw new UsageError(`--peers must not name this node (${id})`);
  let host: NodeHost;
  let halted: (fault: DiskFault) => void = () => {};
  const fault = new Promise<DiskFault>((resolve) => (halted = resolve));
  try {
    host = new NodeHost({
      protocol,
      variant,
      id,
      cluster: values.cluster ?? 'coordkit',
      listen: parseAddress('--listen', values.listen!),
      peers,
      dataDir: values.data!,
      schemaDir,
      ...(values['tls-dir'] ? { tls: loadCredentials(values['tls-dir'], nodeName(id)) } : { insecure: true }),
      onHalt: (f) => halted(f),
      ...(values['wal-segment-bytes'] !== undefined ? { store: { segmentBytes: intArg('wal-segment-bytes', values['wal-segment-bytes'], 1, 2 ** 30)! } } : {}),
    });
    await host.start();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (err instanceof DiskFault) {
      process.stderr.write(diskFaultLine(id, err));
      return DISK_FAULT_EXIT;
    }
    const message = (err as Error).message.split('\n')[0];
    throw new UsageError(err instanceof CorruptStateError ? message : `cannot start node ${id}: ${message}`);
  }
  onReady?.();
  process.stderr.write(`node ${id}: ${protocol.name} (${variant.name}) listening on ${values.listen} (port ${host.port}, ${values['tls-dir'] ? 'mutual TLS' : 'plain TCP, unauthenticated'})\n`);
  const stopped = await new Promise<DiskFault | null>((resolve) => {
    const stop = () => resolve(null);
    void fault.then(resolve);
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    if (values['stop-on-stdin-close']) {
      // Started by a launcher: stop when it goes away, even if it was killed with -9.
      process.stdin.on('end', stop);
      process.stdin.on('close', stop);
      process.stdin.resume();
    }
  });
  await host.stop();
  process.stdin.destroy();
  if (stopped) {
    process.stderr.write(diskFaultLine(id, stopped));
    return DISK_FAULT_EXIT;
  }
  process.stderr.write(`node ${id}: stopped after ${host.counts.events} events (${host.counts.refused} frames refused)\n`);
  return 0;
}
