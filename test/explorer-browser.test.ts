/**
 * The browser explorer, driven in real headless Chromium (Debian's, through playwright-core,
 * which downloads no browser): a counterexample the checker found is taken by clicking, the
 * property turns red at the step the checker says, and the URL reproduces the run on reload;
 * the same for a user's protocol; bad URLs get a message on the page. One explorer serves both
 * protocols, as `coordkit explore` without a primitive does, and the pages share one browser.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli.js';
import { explore } from '../src/check/explore.js';
import { createModel, type Model } from '../src/check/model.js';
import { builtIns, loadProtocolFile } from '../src/cli/protocol-source.js';
import type { Protocol } from '../src/protocol.js';
import { modelQuery } from '../src/viewer/model-query.js';
import { startViewer, type Viewer } from '../src/viewer/server.js';
import { releaseBrowser, sharedBrowser } from './shared-browser.js';

let context: BrowserContext;
let viewer: Viewer;
let election: Protocol;
let twoPhase: Protocol;

beforeAll(async () => {
  election = (await builtIns()).find((s) => s.protocol.name === 'election')!.protocol;
  twoPhase = (await loadProtocolFile('examples/two-phase-commit/index.ts')).protocol;
  viewer = await startViewer({ protocols: [election, twoPhase], defaults: {}, port: 0 });
  // One context: its pages share the HTTP cache, so Mermaid's bundle is fetched once.
  context = await (await sharedBrowser()).newContext({ viewport: { width: 1280, height: 900 } });
});

afterAll(async () => {
  await context?.close();
  await releaseBrowser();
  await viewer?.close();
});

/** The first counterexample the checker finds for `property`, as choice indices. */
function counterexample(model: Model, property: string): number[] {
  const found = explore(model, { maxStates: 200_000 }).violations.find((v) => v.invariant === property);
  if (!found) throw new Error(`the checker finds no violation of ${property}`);
  return found.path;
}

const ready = (page: Page, path: number[], at = path.length) => page.waitForSelector(`body[data-ready="${path.join(':')}@${at}"]`, { timeout: 30_000 });
const verdict = (page: Page, property: string) => page.getAttribute(`#props tr[data-property="${property}"]`, 'data-verdict');
const worldText = (page: Page) => page.evaluate(() => ['cards', 'network', 'props', 'steps'].map((id) => document.getElementById(id)!.innerText).join('\n---\n'));

/** Clicks every choice of `path` from the initial world, checking `property` before each click; returns the verdict after each step. */
async function clickThrough(page: Page, path: number[], property: string): Promise<string[]> {
  const seen: string[] = [];
  for (const [i, index] of path.entries()) {
    seen.push((await verdict(page, property))!);
    await page.click(`#choices button[data-choice="${index}"]`);
    await ready(page, path.slice(0, i + 1));
  }
  seen.push((await verdict(page, property))!);
  return seen;
}

describe('coordkit explore in headless Chromium', () => {
  it("takes election vote-twice's counterexample by clicking: the property turns red at its last step, and the URL is the run", async () => {
    const model = createModel(election, { variant: 'vote-twice' });
    const property = 'one vote per node per term';
    const path = counterexample(model, property);
    expect(path.length).toBeGreaterThan(3);
    const page = await context.newPage();
    await page.goto(`${viewer.url}?${modelQuery(model)}`);
    await ready(page, []);
    expect(await page.locator('#cards .card').count()).toBe(3);

    const verdicts = await clickThrough(page, path, property);
    // Red exactly at the last step, never before.
    expect(verdicts.slice(0, -1).every((v) => v === 'holds')).toBe(true);
    expect(verdicts.at(-1)).toBe('violated');
    expect(await page.textContent(`#props tr[data-property="${property}"]`)).toContain(`first at step ${path.length}`);
    expect(await page.locator('#diagram svg').count()).toBe(1);
    // The step where it first fails is marked with the property's name, and no other step.
    expect(await page.locator('#steps li.fails').count()).toBe(1);
    expect(await page.textContent(`#steps li[data-step="${path.length}"]`)).toContain(`✗ ${property}`);
    // The machine's diagram marks the states the nodes are in (two candidates, one follower).
    expect(await page.locator('#states svg .here').count()).toBe(2);
    expect(await page.textContent('#states-caption')).toContain('Node 3: follower');
    expect(page.url()).toContain(`path=${path.join(':')}`);
    // The README's picture of the explorer is this page at this step.
    await page.screenshot({ path: 'docs/explorer.png' });
    expect(statSync('docs/explorer.png').size).toBeGreaterThan(10_000);
    expect(statSync('docs/explorer.png').size).toBeLessThan(300_000);

    // Reload: the same world.
    const before = await worldText(page);
    await page.reload();
    await ready(page, path);
    expect(await worldText(page)).toBe(before);
    // The same URL in a fresh page too.
    const other = await context.newPage();
    await other.goto(page.url());
    await ready(other, path);
    expect(await worldText(other)).toBe(before);
    await other.close();

    // Arrows move in the run; a number key takes a choice.
    await page.keyboard.press('ArrowLeft');
    await ready(page, path, path.length - 1);
    expect(await verdict(page, property)).toBe('holds');
    expect(page.url()).toContain(`at=${path.length - 1}`);
    await page.click('#undo');
    await ready(page, path, path.length - 2);
    await page.keyboard.press('ArrowRight');
    await page.waitForSelector(`body[data-ready="${path.join(':')}@${path.length - 1}"]`);
    await page.keyboard.press('ArrowRight');
    await ready(page, path);
    expect(await verdict(page, property)).toBe('violated');
    await page.keyboard.press('Home');
    await ready(page, path, 0);
    await page.keyboard.press('1');
    await ready(page, [0]);
    await page.close();
  });

  it("opens a user's protocol (examples/two-phase-commit) the same way", async () => {
    const model = createModel(twoPhase, { variant: 'commit-early' });
    const property = 'no resource manager commits while another aborts';
    const path = counterexample(model, property);
    const page = await context.newPage();
    await page.goto(`${viewer.url}?${modelQuery(model)}`);
    await ready(page, []);
    expect(await page.locator('#cards .card').count()).toBe(model.config.nodes);
    const verdicts = await clickThrough(page, path, property);
    expect(verdicts.slice(0, -1).every((v) => v === 'holds')).toBe(true);
    expect(verdicts.at(-1)).toBe('violated');
    // Both `sometimes` properties: the run has committed (and aborted), and says at which step.
    expect(await verdict(page, 'a transaction commits')).toBe('satisfied');
    const before = await worldText(page);
    await page.reload();
    await ready(page, path);
    expect(await worldText(page)).toBe(before);
    // A choice this world does not enable: the run up to the step before, and a message.
    await page.goto(`${viewer.url}?${modelQuery(model, [...path.slice(0, 2), 99])}`);
    await ready(page, path.slice(0, 2));
    expect(await page.textContent('#error')).toMatch(/step 3: choice 99 is not enabled/);
    expect(await page.locator('#cards .card').count()).toBe(model.config.nodes);
    await page.close();
  });

  it('random steps are reproducible from their seed, and a run stays readable at 5 nodes', async () => {
    const model = createModel(election, { nodes: 5 });
    const page = await context.newPage();
    await page.goto(`${viewer.url}?${modelQuery(model)}`);
    await ready(page, []);
    const randomRun = async () => {
      await page.fill('#seed', '42');
      for (let i = 0; i < 4; i++) {
        const at = await page.getAttribute('body', 'data-ready');
        await page.click('#random');
        await page.waitForFunction((old) => document.body.dataset.ready && document.body.dataset.ready !== old, at);
      }
      return page.getAttribute('body', 'data-ready');
    };
    const first = await randomRun();
    expect(first).toMatch(/^\d+(:\d+){3}@4$/);
    await page.click('#restart');
    await ready(page, []);
    expect(await randomRun()).toBe(first);

    expect(await page.locator('#cards .card').count()).toBe(5);
    const widths = await page.locator('#cards .card').evaluateAll((cards) => cards.map((c) => c.getBoundingClientRect().width));
    expect(Math.min(...widths)).toBeGreaterThanOrEqual(200);
    // No sideways scrolling of the page itself (the diagram scrolls inside its box).
    expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    // The diagram keeps its natural size: its text is not scaled down to fit.
    const fontPx = await page.evaluate(() => {
      const svg = document.querySelector('#diagram svg') as SVGSVGElement;
      const box = svg.getBoundingClientRect();
      return box.width / svg.viewBox.baseVal.width;
    });
    expect(fontPx).toBeGreaterThanOrEqual(0.99);
    await page.close();
  });

  it.each([
    ['path=0:x', /malformed path '0:x'/, 'error'],
    ['path=0:999', /step 2: choice 999 is not enabled/, '0@1'],
    ['protocol=nosuch', /serves election, two-phase-commit, not 'nosuch'/, 'error'],
    ['protocol=two-phase-commit&path=1:x', /malformed path '1:x'/, 'error'],
    ['variant=nope', /unknown variant 'nope' \(choose from: prevote/, 'error'],
    ['nodes=40', /nodes must be from 2 to 7, got 40/, 'error'],
  ])('bad input %s: a clear message on the page, never a blank page', async (query, message, shown) => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${viewer.url}?${query}`);
    await page.waitForSelector(`body[data-ready="${shown}"]`, { timeout: 30_000 });
    expect(await page.isVisible('#error')).toBe(true);
    expect(await page.textContent('#error')).toMatch(message);
    expect(await page.textContent('header')).toContain('coordkit explore');
    expect(errors).toEqual([]);
    await page.close();
  });
});

describe('coordkit explore on the command line', () => {
  /** The command line's entry point in this process: its exit code and what it wrote to stderr. */
  const run = async (...args: string[]) => {
    let stderr = '';
    const write = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((stderr += String(chunk)), true));
    try {
      return { status: await main(['explore', ...args]), stderr };
    } finally {
      write.mockRestore();
    }
  };

  it('a port in use: one line, exit 2', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    const r = await run('election', '--port', String(port));
    busy.close();
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(`coordkit: port ${port} on 127.0.0.1 is in use: choose another with --port (--port 0 takes any free port)\n`);
  });

  it.each([
    [['nosuch'], /^coordkit: unknown primitive 'nosuch' \(choose from: election/],
    [['election', '--variant', 'nope'], /^coordkit: unknown variant 'nope'/],
    [['election', '--port', 'http'], /^coordkit: --port must be a whole number/],
    [['election', '--path', '1:x'], /^coordkit: --path must be choice numbers/],
    [['--variant', 'vote-twice'], /^coordkit: --variant sets the model of one protocol: name the primitive \(choose from: election, consensus, mutex, barrier/],
  ])('%j: one-line error, exit 2', async (args, message) => {
    const r = await run(...args);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('without a primitive, serves every one on loopback, and stops on SIGTERM', async () => {
    const child = spawn('node', ['bin/coordkit.js', 'explore', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    let out = '';
    const url = await new Promise<string>((resolve) => child.stdout.on('data', (d) => {
      out += d;
      const m = /at (http:\/\/127\.0\.0\.1:\d+\/\S*)/.exec(out);
      if (m) resolve(m[1]);
    }));
    const res = await fetch(url.replace('/?', '/api/run?'));
    expect(res.status).toBe(200);
    expect((await res.json()).cards).toHaveLength(3);
    expect(out).toContain('also serving consensus, mutex, barrier');
    const mutex = await (await fetch(url.replace(/\/\?.*/, '/api/run?protocol=mutex&nodes=4'))).json();
    expect([mutex.protocol, mutex.cards.length]).toEqual(['mutex', 4]);
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    clearTimeout(timer);
  });
});
