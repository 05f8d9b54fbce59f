/** How every command ends: its exit code, a help text on stdout, or one line on stderr for an error. */
import { HelpRequest } from './parse.js';
import { UsageError } from './usage-error.js';

/** Runs a command: 0 for help, 2 for bad usage, 3 for an internal error, each error one line. */
export async function runCommand(command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (err) {
    if (err instanceof HelpRequest) {
      process.stdout.write(err.message);
      return 0;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`coordkit: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`coordkit: ${(err as Error).message}\n`);
    return 3;
  }
}
