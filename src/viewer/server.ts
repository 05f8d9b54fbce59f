/**
 * The browser explorer's HTTP server: the page, Mermaid from node_modules (no CDN), and a JSON
 * API that runs the pure simulator. It listens on loopback unless told otherwise and keeps no
 * state: every request names its protocol, model and run in its query, so a URL is the run. One
 * server can serve several protocols (every one a report shows), so each report link opens in it.
 */
import { createReadStream } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CheckConfig, Protocol } from '../protocol.js';
import { walk } from '../check/walk.js';
import type { Model } from '../check/model.js';
import type { Violation } from '../check/violation.js';
import { mermaidBundle } from '../report/write-report.js';
import { modelFromQuery } from './model-query.js';
import { explorerPage } from './page.js';
import { parsePath, randomRun, runView } from './run-view.js';

export interface ViewerOptions {
  /** The protocols served; a URL without `protocol=` shows the first. */
  protocols: readonly Protocol[];
  /** The model of the first protocol a URL without a query shows (the command line's choices). */
  defaults: Partial<CheckConfig>;
  host?: string;
  port?: number;
}

export interface Viewer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Random runs stop after this many steps when nothing brings quiescence. */
const MAX_RANDOM_STEPS = 200;

class BadRequest extends Error {}

export function startViewer(options: ViewerOptions): Promise<Viewer> {
  const { protocols } = options;
  const host = options.host ?? '127.0.0.1';
  const page = explorerPage(protocols.map((p) => p.name).join(', '));
  const model = (q: URLSearchParams) => {
    const named = q.get('protocol');
    const protocol = named === null ? protocols[0] : protocols.find((p) => p.name === named);
    if (!protocol) throw new BadRequest(`this explorer serves ${protocols.map((p) => p.name).join(', ')}, not '${named!.slice(0, 60)}': start \`coordkit explore ${named!.slice(0, 60)}\` to explore it`);
    try {
      return modelFromQuery(protocol, protocol === protocols[0] ? options.defaults : {}, q);
    } catch (err) {
      throw new BadRequest((err as Error).message);
    }
  };
  const path = (q: URLSearchParams) => {
    try {
      return parsePath(q.get('path'));
    } catch (err) {
      throw new BadRequest((err as Error).message);
    }
  };
  const at = (q: URLSearchParams, length: number) => {
    const raw = q.get('at');
    if (raw === null) return length;
    if (!/^\d{1,6}$/.test(raw)) throw new BadRequest(`malformed 'at' '${raw.slice(0, 40)}': expected a step number`);
    return Number(raw);
  };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const q = url.searchParams;
    if (req.method !== 'GET') return send(res, 405, 'text/plain', 'only GET');
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', page);
      case '/mermaid.min.js':
        res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'max-age=3600' });
        createReadStream(mermaidBundle()).pipe(res);
        return;
      case '/api/run': {
        const m = model(q);
        const p = q.has('walk') ? walkPath(m, q.get('seed'), q.get('walk')!) : path(q);
        return json(res, 200, runView(m, p, at(q, p.length)));
      }
      case '/api/random': {
        const m = model(q);
        const p = path(q);
        const seed = q.get('seed') ?? '1';
        if (!/^\d{1,10}$/.test(seed)) throw new BadRequest(`malformed seed '${seed.slice(0, 40)}': expected a whole number`);
        const untilQuiescent = q.get('until') === 'quiescent';
        return json(res, 200, { path: randomRun(m, p, at(q, p.length), Number(seed), { steps: 1, untilQuiescent, maxSteps: MAX_RANDOM_STEPS }) });
      }
      default:
        return send(res, 404, 'text/plain', 'not found');
    }
  };
  const server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (err) {
      // A bad query is the user's to fix; anything else is ours, still one line.
      const message = err instanceof BadRequest ? err.message : `internal error: ${(err as Error).message?.split('\n')[0]}`;
      json(res, err instanceof BadRequest ? 400 : 500, { error: message });
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      const shown = host.includes(':') ? `[${host}]` : host;
      resolve({ url: `http://${shown}:${port}/`, server, close: () => new Promise((r) => server.close(() => r())) });
    });
  });
}

/**
 * A walk's failing run, from the seed and fast-check path its replay command prints
 * (`--seed=S --path P`), as choice indices.
 */
function walkPath(model: Model, seed: string | null, fcPath: string): number[] {
  if (seed === null || !/^-?\d{1,10}$/.test(seed)) throw new BadRequest(`a walk path needs the walk's seed: add &seed=S from its replay command`);
  if (!/^\d{1,6}(:\d{1,6})*$/.test(fcPath)) throw new BadRequest(`malformed walk path '${fcPath.slice(0, 80)}': expected fast-check's path, numbers joined by ':'`);
  // Every property the run breaks (a replay command may name one found with others excluded,
  // which the same run breaks later): the run up to the last of them.
  const found = walk(model, { seed: Number(seed), path: fcPath, all: true }).violations.reduce<Violation | undefined>((a, v) => (v.steps.length > (a?.steps.length ?? 0) ? v : a), undefined);
  if (!found) throw new BadRequest(`walk path ${fcPath.slice(0, 80)} with seed ${seed} replays no failing run of this model`);
  return found.path;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

const json = (res: ServerResponse, status: number, body: unknown) => send(res, status, 'application/json', JSON.stringify(body));
