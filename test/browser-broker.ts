/**
 * Vitest global setup: one headless Chromium for every test file that drives a browser. Test
 * files run in separate processes, so the browser is a Playwright browser server they connect
 * to; it is launched on the first request to a small loopback broker, so a run without browser
 * tests never starts one.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserServer } from 'playwright-core';
import type { TestProject } from 'vitest/node';
import { chromiumPath } from '../src/report/headless-chromium.js';

export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

declare module 'vitest' {
  export interface ProvidedContext {
    browserBroker: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let launched: Promise<BrowserServer> | undefined;
  const broker = createServer((_req, res) => {
    const executablePath = chromiumPath();
    if (!executablePath) {
      res.writeHead(503).end('chromium is not installed (apt-get install -y chromium)');
      return;
    }
    launched ??= chromium.launchServer({ executablePath, args: CHROMIUM_ARGS, timeout: 60_000 });
    launched.then(
      (server) => res.writeHead(200).end(server.wsEndpoint()),
      (err: Error) => res.writeHead(503).end(`chromium did not start: ${err.message.split('\n')[0]}`),
    );
  });
  await new Promise<void>((resolve) => broker.listen(0, '127.0.0.1', resolve));
  project.provide('browserBroker', `http://127.0.0.1:${(broker.address() as AddressInfo).port}/`);
  return async () => {
    broker.close();
    await (await launched?.catch(() => undefined))?.close();
  };
}
