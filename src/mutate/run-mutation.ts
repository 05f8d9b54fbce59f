/**
 * Mutation analysis of a protocol's machine: every single-point mutant of the machine's source
 * is loaded as the protocol itself would be and checked, first with the default check, then
 * with each further configuration while it survives. A mutant is killed when a check fails (a
 * property violated, or the machine throwing), or when a check outlives its time limit; it
 * survives when every configuration passes. The score is killed / (mutants − equivalent −
 * invalid), invalid being a mutant that does not load.
 */
import { createHash } from 'node:crypto';
import { relative } from 'node:path';
import { mutantsOf, type Mutant } from './mutants.js';
import { createPool, type CheckResult } from './pool.js';
import type { SourceGraph } from './source-graph.js';
import { createWorkspace } from './workspace.js';

export type MutantStatus = 'killed' | 'timeout' | 'error' | 'survived' | 'equivalent' | 'invalid';

export interface MutantResult extends Omit<Mutant, 'edits'> {
  status: MutantStatus;
  /** The configurations checked, in order (the last one killed it, unless it survived). */
  tried: string[];
  /** Killed: the properties violated. */
  properties?: string[];
  /** Equivalent: why; error or invalid: the error. */
  detail?: string;
  /** Listed as equivalent, yet a check killed it. */
  notEquivalent?: boolean;
  elapsedMs: number;
}

export interface MutationReport {
  protocol: string;
  files: string[];
  /** The configurations, by their `coordkit check` options (`default` for none). */
  configs: string[];
  jobs: number;
  timeoutsMs: number[];
  total: number;
  killed: number;
  survived: number;
  equivalent: number;
  invalid: number;
  /** killed / (total − equivalent − invalid), null when nothing counts. */
  score: number | null;
  elapsedMs: number;
  /** Set when only a random sample was checked: the score estimates the whole's. */
  sample?: { of: number; seed: number };
  /** Seed of the walks of configurations that name none. */
  walkSeed?: number;
  /** Ids the equivalents file lists that no mutant has (the code changed since). */
  staleEquivalents: string[];
  mutants: MutantResult[];
}

export interface MutationProgress {
  done: number;
  total: number;
  killed: number;
  elapsedMs: number;
}

export interface MutationOptions {
  protocol: string;
  graph: SourceGraph;
  /** Absolute paths of the files to mutate. */
  files: string[];
  /** Folder file names in reports are relative to. */
  displayRoot: string;
  /** Further configurations (the default check, `[]`, always comes first). */
  checks: string[][];
  /** Seed of the walks of every configuration that walks and names no seed (the original's too). */
  walkSeed?: number;
  equivalent: Map<string, string>;
  jobs: number;
  /** Per check; default: ten times what the original took, at least 30 s. */
  timeoutMs?: number;
  /** Only these mutant ids. */
  only?: Set<string>;
  /** The ids were a random sample of this many mutants, drawn with this seed. */
  sample?: { of: number; seed: number };
  compiledRoot?: string;
  exportName?: string;
  onProgress?(p: MutationProgress): void;
}

/** The original protocol failed one of the configurations: there is nothing to measure against. */
export class BaselineError extends Error {}

export const configLabel = (args: string[]) => (args.length ? args.join(' ') : 'default');

/**
 * The arguments a configuration is checked with: one that walks (any mode but explore) and names
 * no seed walks with `seed`, the same for the original and every mutant, so that a kill by a
 * walk is the same on every run and `coordkit check --protocol MUTANT ARGS --seed S` replays it.
 */
export function seededArgs(args: string[], seed: number | undefined): string[] {
  if (seed === undefined) return args;
  const mode = args.flatMap((a, i) => (a === '--mode' ? [args[i + 1]] : a.startsWith('--mode=') ? [a.slice(7)] : []));
  if (mode.includes('explore') || args.some((a) => a === '--seed' || a.startsWith('--seed='))) return args;
  return [...args, '--seed', String(seed)];
}

/** Every mutant of the files, named relative to `displayRoot`. */
export function listMutants(graph: SourceGraph, files: string[], displayRoot: string): (Mutant & { path: string })[] {
  return files.flatMap((path) => mutantsOf(relative(displayRoot, path), graph.files.get(path)!.text).map((m) => ({ ...m, path })));
}

/** A random sample of `size` ids, the same for the same seed and mutants. */
export function sampleIds(ids: string[], size: number, seed: number): Set<string> {
  const rank = (id: string) => createHash('sha256').update(`${seed}:${id}`).digest('hex');
  return new Set([...ids].sort((a, b) => (rank(a) < rank(b) ? -1 : 1)).slice(0, size));
}

const violated = (output: string): string[] => {
  try {
    const json = JSON.parse(output) as { violations?: { invariant: string }[] };
    return [...new Set((json.violations ?? []).map((v) => v.invariant))];
  } catch {
    return [];
  }
};

const firstLine = (s: string) => s.trim().split('\n')[0].replace(/^coordkit: /, '');

export async function runMutation(o: MutationOptions): Promise<MutationReport> {
  const started = performance.now();
  const configs = [[], ...o.checks];
  const runArgs = configs.map((args) => seededArgs(args, o.walkSeed));
  const all = listMutants(o.graph, o.files, o.displayRoot);
  const mutants = o.only ? all.filter((m) => o.only!.has(m.id)) : all;
  const workspace = createWorkspace({ graph: o.graph, compiledRoot: o.compiledRoot, exportName: o.exportName });
  const pool = createPool(Math.max(1, Math.min(o.jobs, mutants.length || 1)));
  const cleanup = () => {
    pool.close();
    workspace.dispose();
  };
  const onSignal = () => {
    cleanup();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    // The original, copied and loaded the same way, must pass every configuration.
    const original = workspace.write('original', o.files[0], []);
    const timeoutsMs: number[] = [];
    for (const [i, args] of configs.entries()) {
      // The original's time sets the limit of each mutant's check: it has an hour.
      const r = await pool.check(original, runArgs[i], 3_600_000);
      const label = `check ${configLabel(args)}`;
      if (r.kind === 'timeout') throw new BaselineError(`the original protocol did not finish \`${label}\` within an hour`);
      if (r.kind === 'lost') throw new BaselineError(`the original protocol's \`${label}\` failed: ${r.detail}`);
      if (r.code === 2 || r.code === 3) throw new BaselineError(`the original protocol's \`${label}\` failed: ${firstLine(r.output)}`);
      if (r.code === 1) throw new BaselineError(`the original protocol fails \`${label}\` (${violated(r.output).join(', ') || 'a property failed'}): a mutant can only be measured against a configuration the protocol passes`);
      timeoutsMs.push(o.timeoutMs ?? Math.max(30_000, 10 * r.elapsedMs));
    }
    workspace.remove('original');

    let done = 0;
    let killed = 0;
    const results: MutantResult[] = new Array(mutants.length);
    const checkOne = async (m: (typeof mutants)[number], index: number) => {
      const name = `m-${m.id}`;
      const module = workspace.write(name, m.path, m.edits);
      const tried: string[] = [];
      const t0 = performance.now();
      let result: Pick<MutantResult, 'status' | 'properties' | 'detail'> = { status: 'survived' };
      for (const [i, args] of configs.entries()) {
        tried.push(configLabel(args));
        const r: CheckResult = await pool.check(module, runArgs[i], timeoutsMs[i]);
        if (r.kind === 'timeout') result = { status: 'timeout', detail: `no verdict within ${Math.round(timeoutsMs[i] / 1000)} s` };
        else if (r.kind === 'lost') result = { status: 'error', detail: r.detail };
        else if (r.code === 1) result = { status: 'killed', properties: violated(r.output) };
        else if (r.code === 2) result = { status: 'invalid', detail: firstLine(r.output) };
        else if (r.code === 3) result = { status: 'error', detail: firstLine(r.output) };
        if (result.status !== 'survived') break;
      }
      workspace.remove(name);
      const { edits: _edits, path: _path, ...shown } = m;
      const reason = o.equivalent.get(m.id);
      const res: MutantResult = { ...shown, ...result, tried, elapsedMs: Math.round(performance.now() - t0) };
      if (reason !== undefined) {
        if (res.status === 'survived') Object.assign(res, { status: 'equivalent', detail: reason });
        else if (res.status !== 'invalid') res.notEquivalent = true;
      }
      results[index] = res;
      done++;
      if (['killed', 'timeout', 'error'].includes(res.status)) killed++;
      o.onProgress?.({ done, total: mutants.length, killed, elapsedMs: performance.now() - started });
    };
    // As many mutants in flight as processes: each is written to disk only when it is checked.
    let next = 0;
    const lane = async () => {
      while (next < mutants.length) {
        const i = next++;
        await checkOne(mutants[i], i);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, o.jobs) }, lane));

    const count = (...s: MutantStatus[]) => results.filter((r) => s.includes(r.status)).length;
    const equivalent = count('equivalent');
    const invalid = count('invalid');
    const counted = results.length - equivalent - invalid;
    const ids = new Set(all.map((m) => m.id));
    return {
      protocol: o.protocol,
      files: o.files.map((f) => relative(o.displayRoot, f)),
      configs: configs.map(configLabel),
      walkSeed: o.walkSeed,
      jobs: o.jobs,
      timeoutsMs: timeoutsMs.map(Math.round),
      total: results.length,
      killed,
      survived: count('survived'),
      equivalent,
      invalid,
      score: counted ? killed / counted : null,
      elapsedMs: Math.round(performance.now() - started),
      sample: o.sample,
      staleEquivalents: [...o.equivalent.keys()].filter((id) => !ids.has(id)),
      mutants: results,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    cleanup();
  }
}
