/** The `coordkit` command: one subcommand per file under cli/. */
import { runCommand } from './cli/run-command.js';
import { UsageError } from './cli/usage-error.js';

type Command = (args: string[]) => Promise<number>;

// Each command is loaded only when run: a node must not pay for the checker, the report or the
// schema generator (and TypeScript), which only other commands need.
const allCommand: Command = async (args) => (await import('./cli/all.js')).allCommand(args);
const certsCommand: Command = async (args) => (await import('./cli/certs.js')).certsCommand(args);
const checkCommand: Command = async (args) => (await import('./cli/check.js')).checkCommand(args);
const clusterCommand: Command = async (args) => (await import('./cli/cluster.js')).clusterCommand(args);
const conformCommand: Command = async (args) => (await import('./cli/conform.js')).conformCommand(args);
const exploreCommand: Command = async (args) => (await import('./cli/explore.js')).exploreCommand(args);
const initCommand: Command = async (args) => (await import('./cli/init.js')).initCommand(args);
const listCommand: Command = async (args) => (await import('./cli/list.js')).listCommand(args);
const nodeCommand: Command = async (args) => (await import('./cli/node.js')).nodeCommand(args);
const reportCommand: Command = async (args) => (await import('./cli/report.js')).reportCommand(args);
const simulateCommand: Command = async (args) => (await import('./cli/simulate.js')).simulateCommand(args);
const harnessCommand: Command = async (args) => (await import('./cli/harness.js')).harnessCommand(args);
const mergeCommand: Command = async (args) => (await import('./cli/merge.js')).mergeCommand(args);
const schemasCommand: Command = async (args) => (await import('./cli/schemas.js')).schemasCommand(args);
// Loaded only when run: it parses sources with TypeScript.
const mutateCommand: Command = async (args) => (await import('./cli/mutate.js')).mutateCommand(args);

const commands: Record<string, Command> = {
  simulate: simulateCommand,
  report: reportCommand,
  list: listCommand,
  check: checkCommand,
  merge: mergeCommand,
  explore: exploreCommand,
  all: allCommand,
  node: nodeCommand,
  cluster: clusterCommand,
  conform: conformCommand,
  harness: harnessCommand,
  certs: certsCommand,
  schemas: schemasCommand,
  init: initCommand,
  mutate: mutateCommand,
};

/** One line per command for `coordkit --help`. */
const summaries: Record<string, string> = {
  check: 'model-check one primitive: explore its worlds and/or walk random runs',
  all: 'check every protocol and variant (built-ins, or your config\'s), write results and the report',
  list: 'list the primitives, their variants and properties',
  simulate: 'one timed run of a scenario, with diagrams and metrics',
  report: 'check every primitive and write the report (Markdown and HTML)',
  node: 'run one node of a protocol over mutual TLS (or --insecure plain TCP)',
  cluster: 'run N real nodes on loopback through a fault script and check the run',
  certs: 'make a cluster CA and node, client and admin certificates for hand-started nodes',
  schemas: "generate the JSON Schemas of a protocol's messages from its TypeScript types",
  merge: "join the --json results of 'check --shard i/n' into one verdict",
  harness: 'run another implementation as N processes behind kit proxies, fault it and judge it against the model',
  conform: "check another implementation's NDJSON traces against the model",
  explore: 'step through a protocol in the browser: every choice a button, a run is its URL',
  init: 'scaffold a protocol project of your own: machine, properties, a buggy variant, tests',
  mutate: "mutation analysis: how many single-point mutants of a machine its checks kill",
};

function topHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  return [
    'usage: coordkit <command> [options]',
    '',
    'commands:',
    ...Object.keys(commands).map((n) => `  ${n.padEnd(width)}  ${summaries[n] ?? ''}`.trimEnd()),
    '',
    "Run 'coordkit <command> --help' for a command's options.",
    'Exit codes: 0 success, 1 a property failed, 2 bad input, 3 internal error.',
  ].join('\n') + '\n';
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = Object.keys(commands).join(', ');
  return runCommand(async () => {
    if (!name || name === '--help' || name === '-h' || name === 'help') {
      (name ? process.stdout : process.stderr).write(topHelp());
      return name ? 0 : 2;
    }
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command '${name}' (choose from: ${names}; coordkit --help describes them)`);
    return await command(rest);
  });
}
