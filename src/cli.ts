/** The `coordkit` command: one subcommand per file under cli/. */
import { allCommand } from './cli/all.js';
import { certsCommand } from './cli/certs.js';
import { checkCommand } from './cli/check.js';
import { clusterCommand } from './cli/cluster.js';
import { conformCommand } from './cli/conform.js';
import { initCommand } from './cli/init.js';
import { listCommand } from './cli/list.js';
import { nodeCommand } from './cli/node.js';
import { reportCommand } from './cli/report.js';
import { simulateCommand } from './cli/simulate.js';
import { UsageError } from './cli/usage-error.js';

type Command = (args: string[]) => Promise<number>;

// Loaded only when run: it brings the schema generator and TypeScript, which no other command needs.
const schemasCommand: Command = async (args) => (await import('./cli/schemas.js')).schemasCommand(args);

const commands: Record<string, Command> = {
  simulate: simulateCommand,
  report: reportCommand,
  list: listCommand,
  check: checkCommand,
  all: allCommand,
  node: nodeCommand,
  cluster: clusterCommand,
  conform: conformCommand,
  certs: certsCommand,
  schemas: schemasCommand,
  init: initCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const names = Object.keys(commands).join(', ');
  try {
    if (!name || name === '--help' || name === 'help') {
      process.stdout.write(`usage: coordkit <command> [options]\ncommands: ${names}\n`);
      return name ? 0 : 2;
    }
    const command = commands[name];
    if (!command) throw new UsageError(`unknown command '${name}' (choose from: ${names})`);
    return await command(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`coordkit: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`coordkit: ${(err as Error).message}\n`);
    return 3;
  }
}
