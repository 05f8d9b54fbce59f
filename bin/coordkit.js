#!/usr/bin/env node
import { main } from '../dist/src/cli.js';

// A reader that stops early (`coordkit list | head -1`) closes the pipe: the rest is not wanted.
// End at once with the status of a process SIGPIPE ended (128 + 13), as `seq`, `cat` and the
// shell's own tools do; never a stack trace, never a status claiming the command ran to its end.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(141);
  });
}
process.exitCode = await main(process.argv.slice(2));
