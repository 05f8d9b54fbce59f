/**
 * `coordkit explore <primitive>`: serves the browser explorer on loopback until interrupted.
 * The command line picks the model a bare URL opens; a URL's query can name another variant,
 * node count, network or fault set of the same protocol, and the run to show. Without a
 * primitive it serves every protocol `coordkit report` would show (the kit's, the `--protocol`
 * files or the config's), so every link of a report opens in one explorer.
 */
import { spawn } from 'node:child_process';
import { FAULTS, NETWORKS, type CheckConfig, type FaultName, type NetworkName } from '../protocol.js';
import { createModel } from '../check/model.js';
import { DEFAULT_EXPLORE_PORT } from '../viewer/explore-link.js';
import { modelQuery } from '../viewer/model-query.js';
import { startViewer } from '../viewer/server.js';
import { paramArgs } from './param-args.js';
import { parse } from './parse.js';
import { resolveProtocol, resolveProtocols } from './protocol-source.js';
import { choiceArg, intArg, listArg, UsageError } from './usage-error.js';

const USAGE =
  'coordkit explore [<primitive>] [--variant V] [--nodes N] [--network fifo|unordered|unordered-duplicating] [--faults loss,dup,crash,partition] [--param NAME=VALUE]... [--path P] [--port P] [--host H] [--open] [--protocol FILE... | --config FILE]';

export async function exploreCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      variant: { type: 'string' },
      nodes: { type: 'string' },
      network: { type: 'string' },
      faults: { type: 'string' },
      path: { type: 'string' },
      param: { type: 'string', multiple: true },
      port: { type: 'string' },
      host: { type: 'string' },
      open: { type: 'boolean' },
      protocol: { type: 'string', multiple: true },
      config: { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const files = values.protocol ?? [];
  const many = positionals[0] === undefined && files.length !== 1;
  const sources = many ? await resolveProtocols({ protocol: files, config: values.config }) : [await resolveProtocol({ name: positionals[0], protocol: files, config: values.config })];
  const { protocol } = sources[0];
  const modelFlag = (['variant', 'nodes', 'network', 'faults', 'param', 'path'] as const).find((k) => values[k] !== undefined);
  if (sources.length > 1 && modelFlag) throw new UsageError(`--${modelFlag} sets the model of one protocol: name the primitive (choose from: ${sources.map((s) => s.protocol.name).join(', ')})`);
  if (values.path !== undefined && !/^\d+(:\d+)*$/.test(values.path)) throw new UsageError(`--path must be choice numbers joined by ':', got '${values.path}'`);
  const defaults: Partial<CheckConfig> = {
    variant: choiceArg('variant', values.variant, protocol.variants.map((v) => v.name)),
    nodes: intArg('nodes', values.nodes, 2, 7),
    network: choiceArg<NetworkName>('network', values.network, NETWORKS),
    faults: listArg<FaultName>('fault', values.faults, FAULTS),
  };
  defaults.params = paramArgs(protocol, values.param, createModel(protocol, Object.fromEntries(Object.entries(defaults).filter(([, v]) => v !== undefined))).config.nodes);
  const model = createModel(protocol, Object.fromEntries(Object.entries(defaults).filter(([, v]) => v !== undefined)));
  const problem = protocol.checkParams?.(model.config);
  if (problem) throw new UsageError(problem);
  const port = intArg('port', values.port, 0, 65535) ?? DEFAULT_EXPLORE_PORT;
  const host = values.host ?? '127.0.0.1';
  let viewer;
  try {
    viewer = await startViewer({ protocols: sources.map((s) => s.protocol), defaults: { ...defaults, variant: model.config.variant }, host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${host} is in use: choose another with --port (--port 0 takes any free port)`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on host '${host}': no such local address`);
    throw err;
  }
  const url = `${viewer.url}?${modelQuery(model, values.path?.split(':').map(Number))}`;
  const others = sources.length > 1 ? ` (also serving ${sources.slice(1).map((s) => s.protocol.name).join(', ')})` : '';
  process.stdout.write(`exploring ${protocol.name} at ${url}${others}\n(press Ctrl+C to stop)\n`);
  if (values.open) openBrowser(url);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void viewer.close().then(resolve);
      // Browsers keep idle connections open; do not wait for them.
      viewer.server.closeAllConnections?.();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return 0;
}

/** The desktop's own opener; a missing one only means the user opens the printed URL. */
function openBrowser(url: string): void {
  const command = process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => process.stderr.write(`coordkit: could not start ${command}; open ${url} yourself\n`));
    child.unref();
  } catch {
    process.stderr.write(`coordkit: could not start ${command}; open ${url} yourself\n`);
  }
}
