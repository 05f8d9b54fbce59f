#!/usr/bin/env node
// CommonJS (bin/package.json), so that a node process starts without the ES module loader:
// `coordkit node` runs from one bundled file (node-bundle.cjs), every other command from dist/.
'use strict';

// A reader that stops early (`coordkit list | head -1`) closes the pipe: the rest is not wanted.
// End at once with the status of a process SIGPIPE ended (128 + 13), as `seq`, `cat` and the
// shell's own tools do; never a stack trace, never a status claiming the command ran to its end.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(141);
  });
}
const args = process.argv.slice(2);
const bundle = args[0] === 'node' ? require('./node-bundle.cjs').nodeBundle(args.slice(1)) : null;
const run = bundle ? bundle.nodeMain(args.slice(1)) : import('../dist/src/cli.js').then((cli) => cli.main(args));
run.then((code) => {
  process.exitCode = code;
});
