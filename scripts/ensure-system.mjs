#!/usr/bin/env node
/**
 * `npm test` runs this first. The report tests need a program from the system, not from npm:
 * they render Mermaid in Debian's `chromium`. When it is missing and this user can install it
 * (root, apt-get), it is installed; otherwise one line says what is missing and how to get it,
 * and the tests run anyway (those few fail, saying why). Certificates are made in-process.
 * Python's jsonschema is optional (below).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const onPath = (cmd) =>
  (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, cmd), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
/** Where src/report/headless-chromium.ts looks: CHROMIUM alone when set, else the usual places. */
const hasChromium = () => (process.env.CHROMIUM ? [process.env.CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']).some((p) => existsSync(p));
const missing = () => (hasChromium() ? [] : ['chromium']);

let lacking = missing();
if (lacking.length && process.getuid?.() === 0 && onPath('apt-get')) {
  process.stdout.write(`installing ${lacking.join(' and ')} with apt-get (the report tests need it)\n`);
  const apt = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 900_000 });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', ...lacking]);
  lacking = missing();
}
if (lacking.length) {
  process.stdout.write(`coordkit tests: missing chromium (the report tests; or set CHROMIUM=/path/to/it); install with: sudo apt-get install -y chromium\n`);
}

// The wire-contract tests also validate with Python's jsonschema, a validator not written in
// JavaScript. pip gets one quick try (no retries) when the module is missing; without it those
// checks are skipped and say so.
const hasJsonschema = () => spawnSync('python3', ['-c', 'import jsonschema'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
if (onPath('python3') && !hasJsonschema()) {
  spawnSync('python3', ['-m', 'pip', 'install', '--quiet', '--user', '--retries', '0', '--timeout', '10', 'jsonschema'], { stdio: 'ignore', timeout: 120_000 });
  if (!hasJsonschema()) process.stdout.write('coordkit tests: python3 lacks jsonschema (the Python schema checks are skipped); install with: python3 -m pip install jsonschema\n');
}
