#!/usr/bin/env node
/**
 * `npm test` runs this first. Two tests need programs from the system, not from npm: the report
 * tests render Mermaid in Debian's `chromium`, the TLS tests make certificates with `openssl`.
 * When one is missing and this user can install it (root, apt-get), it is installed; otherwise
 * one line says what is missing and how to get it, and the tests run anyway (those few fail,
 * saying why).
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
/** Where src/report/headless-chromium.ts looks. */
const hasChromium = () => [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].some((p) => p && existsSync(p));
const missing = () => [...(hasChromium() ? [] : ['chromium']), ...(onPath('openssl') ? [] : ['openssl'])];

let lacking = missing();
if (lacking.length && process.getuid?.() === 0 && onPath('apt-get')) {
  process.stdout.write(`installing ${lacking.join(' and ')} with apt-get (the report and TLS tests need them)\n`);
  const apt = (args) => spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeout: 900_000 });
  apt(['update', '-qq']);
  apt(['install', '-y', '-qq', ...lacking]);
  lacking = missing();
}
if (lacking.length) {
  const needs = lacking.map((p) => (p === 'chromium' ? 'chromium (the report tests; or set CHROMIUM=/path/to/it)' : 'openssl (the TLS tests)')).join(' and ');
  process.stdout.write(`coordkit tests: missing ${needs}; install with: sudo apt-get install -y ${lacking.join(' ')}\n`);
}
