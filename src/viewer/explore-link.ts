/** The browser explorer's address for a run: what `coordkit check --explore-link` prints beside a replay command. */
import type { Model } from '../check/model.js';
import { modelQuery } from './model-query.js';

/** The port `coordkit explore` listens on unless given `--port`. */
export const DEFAULT_EXPLORE_PORT = 4820;

/** `coordkit explore REF`, then the URL that opens `path` (choice indices) in it. */
export function exploreLink(ref: string, model: Model, path: readonly number[], port = DEFAULT_EXPLORE_PORT): { command: string; url: string } {
  return { command: `coordkit explore ${ref}`, url: `http://127.0.0.1:${port}/?${modelQuery(model, path)}` };
}
