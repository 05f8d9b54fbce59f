/**
 * Loads a page in headless Chromium (Debian's `chromium`) and returns the `data-*` attributes
 * the page left on <body> once its scripts ran: how the report's pages tell a test what
 * Mermaid made of every diagram. Uses `--dump-dom` with a virtual-time budget, so no browser
 * driver is needed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The Chromium binary, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  // CHROMIUM, when set, names the one browser to use.
  return (process.env.CHROMIUM ? [process.env.CHROMIUM] : CANDIDATES).find((p) => existsSync(p));
}

export function bodyData(htmlFile: string, budgetMs = 120_000): Record<string, string> {
  const chromium = chromiumPath();
  if (!chromium) throw new Error('chromium is not installed (apt-get install -y chromium)');
  const dom = execFileSync(
    chromium,
    ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--allow-file-access-from-files', `--virtual-time-budget=${budgetMs}`, '--dump-dom', pathToFileURL(htmlFile).href],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'ignore'], timeout: 180_000 },
  );
  const body = /<body([^>]*)>/.exec(dom)?.[1] ?? '';
  const data: Record<string, string> = {};
  for (const m of body.matchAll(/data-([a-z-]+)="([^"]*)"/g)) {
    data[m[1]] = m[2].replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  return data;
}
