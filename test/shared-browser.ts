/**
 * The headless Chromium every browser test shares (see browser-broker.ts): connecting to a
 * running browser takes milliseconds where launching one takes seconds on a loaded machine.
 */
import { chromium, type Browser } from 'playwright-core';
import { inject } from 'vitest';
import { chromiumPath } from '../src/report/headless-chromium.js';
import { CHROMIUM_ARGS } from './browser-broker.js';

let connected: Promise<Browser> | undefined;

/** This test file's connection to the shared browser (its own browser without the broker). */
export function sharedBrowser(): Promise<Browser> {
  connected ??= (async () => {
    const broker = inject('browserBroker');
    if (!broker) {
      const executablePath = chromiumPath();
      if (!executablePath) throw new Error('chromium is not installed (apt-get install -y chromium)');
      return chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
    }
    const res = await fetch(broker, { signal: AbortSignal.timeout(70_000) });
    const body = await res.text();
    if (!res.ok) throw new Error(body);
    return chromium.connect(body, { timeout: 60_000 });
  })();
  return connected;
}

/** Closes this file's connection (the broker closes the browser itself). */
export async function releaseBrowser(): Promise<void> {
  const b = await connected?.catch(() => undefined);
  connected = undefined;
  await b?.close();
}
