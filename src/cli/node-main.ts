/**
 * `coordkit node` alone: the entry of the one-file bundle a node process runs
 * (bin/node-bundle.cjs builds it), so that a node loads no module of another command.
 */
import { nodeCommand } from './node.js';
import { runCommand } from './run-command.js';

/** `onReady`: called once the node listens, before it says so (the bundle's loader writes its code cache then). */
export const nodeMain = (args: string[], onReady?: () => void): Promise<number> => runCommand(() => nodeCommand(args, onReady));
