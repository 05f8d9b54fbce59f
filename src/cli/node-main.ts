/**
 * `coordkit node` alone: the entry of the one-file bundle a node process runs
 * (bin/node-bundle.cjs builds it), so that a node loads no module of another command.
 */
import { nodeCommand } from './node.js';
import { runCommand } from './run-command.js';

export const nodeMain = (args: string[]): Promise<number> => runCommand(() => nodeCommand(args));
