/**
 * What a protocol keeps about its own mutation analysis, in a JSON file beside it
 * (`mutation.json`): the check configurations, besides the default check, that a mutant must
 * also survive (`"checks": ["--nodes 4"]`, each the options of `coordkit check`), and the
 * mutants known to be equivalent (no check can kill them: the behaviour is the same), by id,
 * each with the one-line reason a reviewer can judge.
 */
import { existsSync, readFileSync } from 'node:fs';

export interface MutationFile {
  checks: string[][];
  equivalent: Map<string, string>;
}

/**
 * Options of `coordkit check` that a configuration may not set: the protocol and the output are
 * the analysis's own. `--variant` may name another verified variant (the mutated machine is
 * shared by all of them), since the original must pass every configuration.
 */
const RESERVED = ['--protocol', '--config', '--json', '--path', '--explore-link', '--help', '-h'];

/** The words of one configuration (`--nodes 4 --faults crash`), or why they cannot be one. */
export function checkArgs(text: string): string[] | string {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const reserved = words.find((w) => RESERVED.includes(w.split('=')[0]));
  if (reserved) return `${reserved} is set by the analysis itself`;
  if (words.length && !words[0].startsWith('--')) return `it must be options of \`coordkit check\` (starting with --), got '${words[0]}'`;
  return words;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's contents, or a one-line problem (thrown as a string). */
export function readMutationFile(path: string, required: boolean): MutationFile {
  if (!existsSync(path)) {
    if (required) throw `${path}: no such file`;
    return { checks: [], equivalent: new Map() };
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw `${path} is not JSON: ${(err as Error).message.split('\n')[0]}`;
  }
  if (!isObj(data)) throw `${path} must hold an object { "checks": [...], "equivalent": { "<id>": { "reason": "..." } } }`;
  const checks: string[][] = [];
  if (data.checks !== undefined) {
    if (!Array.isArray(data.checks)) throw `${path}: "checks" must be a list of \`coordkit check\` options, such as "--nodes 4"`;
    for (const [i, c] of data.checks.entries()) {
      const args = typeof c === 'string' ? checkArgs(c) : 'it must be a string';
      if (typeof args === 'string') throw `${path}: checks[${i}]: ${args}`;
      checks.push(args);
    }
  }
  const equivalent = new Map<string, string>();
  if (data.equivalent !== undefined) {
    if (!isObj(data.equivalent)) throw `${path}: "equivalent" must map mutant ids to { "reason": "..." }`;
    for (const [id, entry] of Object.entries(data.equivalent)) {
      if (!/^[0-9a-f]{8}$/.test(id)) throw `${path}: equivalent: '${id}' is not a mutant id (8 hex digits, as \`coordkit mutate --list\` prints)`;
      const reason = typeof entry === 'string' ? entry : isObj(entry) ? entry.reason : undefined;
      if (typeof reason !== 'string' || !reason.trim()) throw `${path}: equivalent.${id} needs a "reason" (one line)`;
      equivalent.set(id, reason.trim());
    }
  }
  return { checks, equivalent };
}
