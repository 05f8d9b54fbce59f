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
 *
 * The bundle runs with V8's code cache of it (node-bundle.v8cache beside it, see loadBundle): a
 * start then reads back most of the code it would compile.
 */
'use strict';
const { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } = require('node:fs');
const { dirname, join, relative } = require('node:path');

const ROOT = join(__dirname, '..');
const ENTRY = join(ROOT, 'dist', 'src', 'cli', 'node-main.js');
// Beside its entry, so that paths the modules take from `import.meta.url` still lead where they did.
const BUNDLE = join(ROOT, 'dist', 'src', 'cli', 'node-bundle.cjs');
const INPUTS = join(ROOT, 'dist', 'src', 'cli', 'node-bundle.inputs.json');
// V8's code cache of the bundle, made by a node the first time it listens (see loadBundle).
const CODE_CACHE = join(ROOT, 'dist', 'src', 'cli', 'node-bundle.v8cache');

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
  // A stat per input at every start: the path put together plainly (inputs are relative and
  // normalized), and a missing file answered without an exception (less to allocate and to run).
  const quiet = { throwIfNoEntry: false };
  try {
    for (const file of inputs) {
      const stat = statSync(`${ROOT}/${file}`, quiet);
      if (stat === undefined || stat.mtimeMs > built) return false;
    }
  } catch {
    return false;
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
    // ASCII only (esbuild's default, said here because loadBundle reads the file as one byte a character).
    charset: 'ascii',
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
 * The bundled `coordkit node` for these arguments (`nodeMain(args)`, and `codeCache.state`: what
 * became of its code cache), built first when it is missing or older than its inputs; null when
 * the node is to run unbundled. `cacheFile`: where the code cache is kept (default CODE_CACHE).
 */
function nodeBundle(args, cacheFile = CODE_CACHE) {
  if (process.env.COORDKIT_NODE_BUNDLE === '0' || userProtocol(args)) return null;
  let file;
  try {
    file = currentBundle();
  } catch (err) {
    process.stderr.write(`coordkit: running the node unbundled: cannot build ${relative(process.cwd(), BUNDLE)}: ${String(err.message).split('\n')[0]}\n`);
    return null;
  }
  const { exports, codeCache } = loadBundle(file, cacheFile);
  return { nodeMain: (nodeArgs) => exports.nodeMain(nodeArgs, codeCache.save), codeCache };
}

// The code cache file: this line, the key, a checksum of what follows, then V8's data.
const CACHE_MAGIC = 'coordkit node-bundle v8 code cache 1';
const sha256 = (data) => require('node:crypto').createHash('sha256').update(data).digest('hex');

/** The key a code cache must carry to be offered to V8: the bundle's bytes, this Node and this CPU. */
const cacheKey = (bytes) => `${sha256(bytes)} ${process.version} ${process.arch}`;

/**
 * V8's data from the code cache file when it was made for this key and is whole (`data`), or why
 * there is none to offer: 'absent' (no file, or one that cannot be read), 'foreign' (made for
 * another bundle, Node or CPU), 'damaged' (not such a file, or its data is not what was written).
 */
function readCodeCache(file, key) {
  let raw;
  try {
    raw = readFileSync(file);
  } catch {
    return { state: 'absent' };
  }
  const lines = [];
  let at = 0;
  for (let i = 0; i < 3; i++) {
    const end = raw.indexOf(10, at);
    if (end < 0 || end - at > 200) return { state: 'damaged' };
    lines.push(raw.toString('latin1', at, end));
    at = end + 1;
  }
  if (lines[0] !== CACHE_MAGIC) return { state: 'damaged' };
  if (lines[1] !== key) return { state: 'foreign' };
  const data = raw.subarray(at);
  // V8 checks its own header (its version, flags, the source's length) but, in a release build, not
  // the rest: damaged data ends the process in its deserializer (a fatal error, not an exception).
  return lines[2] === sha256(data) ? { state: 'offered', data } : { state: 'damaged' };
}

/** Writes the code cache whole (a temporary file renamed into place); whether it did. A folder that cannot be written is no fault. */
function writeCodeCache(file, key, script) {
  const tmp = `${file}.${process.pid}.tmp`;
  let fd;
  try {
    // Opened first: in a folder that takes no writes (a read-only install) V8 is not asked for data.
    fd = openSync(tmp, 'w');
  } catch {
    return false;
  }
  try {
    const data = script.createCachedData();
    writeFileSync(fd, Buffer.concat([Buffer.from(`${CACHE_MAGIC}\n${key}\n${sha256(data)}\n`, 'latin1'), data]));
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, file);
    return true;
  } catch {
    try {
      if (fd !== undefined) closeSync(fd);
      unlinkSync(tmp);
    } catch {
      // gone already
    }
    return false;
  }
}

/**
 * Runs the bundle as `require` would, but compiled with V8's code cache of it: most of what a start
 * compiles (the bundle's text, and every function the start runs) is read back instead of compiled
 * again. A start without a cache V8 accepted makes one once the node listens (`codeCache.save`,
 * which the node calls before it says it listens, so that a process killed at once still leaves
 * one). A cache of another bundle, Node or CPU, a damaged file or one V8 refuses is not used, and
 * a folder that cannot be written leaves each start as it would be without a cache.
 * `codeCache.state` says which: 'accepted', or 'absent', 'foreign', 'damaged', 'rejected' (by
 * V8), or 'unsupported' on a Node without the main context's loader for `import()` in a vm.Script
 * (20.x before 20.16), which requires the bundle plainly.
 */
function loadBundle(file, cacheFile = CODE_CACHE) {
  const vm = require('node:vm');
  const importLoader = vm.constants && vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER;
  if (!importLoader) return { exports: require(file), codeCache: { state: 'unsupported', save: () => false } };
  // esbuild writes ASCII (charset: 'ascii'): read as one-byte text, hashed as the bytes it is.
  const bytes = readFileSync(file);
  const source = bytes.toString('latin1');
  const key = cacheKey(bytes);
  const cached = readCodeCache(cacheFile, key);
  // The wrapper `require` puts around a CommonJS module, on the bundle's first line so that line numbers stay.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n})`, {
    filename: file,
    cachedData: cached.data,
    importModuleDynamically: importLoader,
  });
  const codeCache = {
    state: cached.data === undefined ? cached.state : script.cachedDataRejected ? 'rejected' : 'accepted',
    /** Writes the cache when this start had none that V8 accepted; whether it wrote one. */
    save: () => codeCache.state !== 'accepted' && writeCodeCache(cacheFile, key, script),
  };
  const Module = require('node:module');
  const mod = new Module(file, module);
  mod.filename = file;
  mod.paths = Module._nodeModulePaths(dirname(file));
  script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  return { exports: mod.exports, codeCache };
}

module.exports = { nodeBundle, currentBundle, loadBundle, INPUTS, CODE_CACHE };
