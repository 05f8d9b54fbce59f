/**
 * `coordkit node` from one file. A node process spent more of its start resolving, reading and
 * linking its ES modules (a hundred files, xstate's included) than running them; bundled into one
 * CommonJS file (esbuild, from the compiled dist/), the same code starts in less CPU.
 *
 * The bundle is built from dist/ by `npm run build`, and again here whenever a file it was made
 * from, or this file, is newer than it (dist/ rebuilt by `tsc` alone, a reinstalled xstate): the
 * list of those files is written beside it, and checking it costs a stat per file. A node of a protocol of the
 * user's (`--protocol`, `--config`, a coordkit.config.js here) runs unbundled, so that the user's
 * module and the kit share one copy of every module; so does every node when
 * COORDKIT_NODE_BUNDLE=0, or when the bundle cannot be built (a note says why).
 */
'use strict';
const { existsSync, readFileSync, renameSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRY = join(ROOT, 'dist', 'src', 'cli', 'node-main.js');
// Beside its entry, so that paths the modules take from `import.meta.url` still lead where they did.
const BUNDLE = join(ROOT, 'dist', 'src', 'cli', 'node-bundle.cjs');
const INPUTS = join(ROOT, 'dist', 'src', 'cli', 'node-bundle.inputs.json');

/** Whether these `coordkit node` arguments run a protocol of the user's, which the bundle does not hold. */
const userProtocol = (args) =>
  args.some((a) => /^--(protocol|config)(=|$)/.test(a)) || existsSync('coordkit.config.js');

/** Whether the bundle is there and no file it was made from changed since. */
function fresh() {
  let built;
  let inputs;
  try {
    built = statSync(BUNDLE).mtimeMs;
    inputs = JSON.parse(readFileSync(INPUTS, 'utf8'));
  } catch {
    return false;
  }
  for (const file of inputs) {
    try {
      if (statSync(join(ROOT, file)).mtimeMs > built) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Builds the bundle and its list of inputs (each written whole, then renamed into place). */
function build() {
  const { buildSync } = require('esbuild');
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  const result = buildSync({
    entryPoints: [ENTRY],
    outfile: tmp,
    absWorkingDir: ROOT,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${process.versions.node.split('.')[0]}`,
    metafile: true,
    // Less text to parse at every start (a few ms); names are kept, so an error still names its function.
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: 'silent',
    // Loaded only when needed: ajv to compile a schema edited by hand, tsx for a protocol in TypeScript.
    external: ['ajv', 'ajv/*', 'tsx', 'tsx/*'],
    banner: { js: 'const __coordkitBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
    define: { 'import.meta.url': '__coordkitBundleUrl' },
  });
  // This file too: a change to how the bundle is built makes it stale as well.
  const inputs = [relative(ROOT, __filename), ...Object.keys(result.metafile.inputs).map((f) => relative(ROOT, join(ROOT, f)))];
  writeFileSync(`${INPUTS}.${process.pid}.tmp`, JSON.stringify(inputs, null, 1) + '\n');
  renameSync(`${INPUTS}.${process.pid}.tmp`, INPUTS);
  renameSync(tmp, BUNDLE);
}

/** The bundle's path, built first when it is missing or older than a file it was made from. */
function currentBundle() {
  if (!fresh()) build();
  return BUNDLE;
}

/**
 * The bundled `coordkit node` (`{ nodeMain(args) }`) for these arguments, built first when it is
 * missing or older than its inputs; null when the node is to run unbundled.
 */
function nodeBundle(args) {
  if (process.env.COORDKIT_NODE_BUNDLE === '0' || userProtocol(args)) return null;
  try {
    return require(currentBundle());
  } catch (err) {
    process.stderr.write(`coordkit: running the node unbundled: cannot build ${relative(process.cwd(), BUNDLE)}: ${String(err.message).split('\n')[0]}\n`);
    return null;
  }
}

module.exports = { nodeBundle, currentBundle, INPUTS };
