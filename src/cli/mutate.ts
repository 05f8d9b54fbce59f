/**
 * `coordkit mutate <primitive> | --protocol FILE`: mutation analysis of a protocol's machine.
 * How much of its plausible bugs do its properties catch? Every single-point mutant of the
 * machine's source is checked (see src/mutate/); survivors are bugs the checks cannot see.
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../package-root.js';
import { checkArgs, readMutationFile } from '../mutate/mutation-file.js';
import { formatMutation, mutationProgress } from '../mutate/mutation-text.js';
import { BaselineError, listMutants, runMutation, sampleIds } from '../mutate/run-mutation.js';
import { machineFiles, sourceGraph } from '../mutate/source-graph.js';
import { parse } from './parse.js';
import { PROTOCOL_OPTIONS, resolveProtocol } from './protocol-source.js';
import { intArg, UsageError } from './usage-error.js';

const USAGE =
  'coordkit mutate <primitive> | --protocol FILE [--files LIST] [--check "OPTIONS"]... [--mutation-file FILE] [--jobs N] [--timeout S] [--only IDS | --sample N [--seed S]] [--walk-seed S] [--list] [--json] [--min-score PERCENT]';

/** `--check --nodes 4` as `--check=--nodes 4`: parseArgs takes a value that starts with a dash for an option. */
const joinCheckValues = (args: string[]) => args.flatMap((a, i) => (a === '--check' && i + 1 < args.length ? [] : args[i - 1] === '--check' ? [`--check=${a}`] : [a]));

export async function mutateCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    joinCheckValues(args),
    {
      ...PROTOCOL_OPTIONS,
      files: { type: 'string', help: "LIST the protocol's local modules to mutate, comma-separated (default: those that call createMachine)" },
      check: { type: 'string', multiple: true, help: 'OPTIONS a further `coordkit check` configuration a mutant must also survive, e.g. "--nodes 4" (repeatable; after the default check and those the mutation file declares)' },
      'mutation-file': { type: 'string', help: 'FILE the checks and equivalent mutants the protocol declares (default: mutation.json beside the protocol)' },
      jobs: { type: 'string', help: `N check processes in parallel (default: ${availableParallelism()}, the cores)` },
      timeout: { type: 'string', help: 'S seconds one check of one mutant may take before it counts as killed by timeout (default: 10 times the original, at least 30)' },
      only: { type: 'string', help: 'IDS check only these mutants (comma-separated ids)' },
      sample: { type: 'string', help: 'N check a random sample of N mutants: the score is then an estimate, and says so' },
      seed: { type: 'string', help: 'S seed of --sample (default 1)' },
      'walk-seed': { type: 'string', help: 'S seed of the walks of every check that walks and names no --seed of its own, the original\'s and every mutant\'s (default 1): a kill is then reproducible' },
      list: { type: 'boolean', help: 'list the mutants (id, place, change) without checking them' },
      json: { type: 'boolean', help: 'print one JSON object instead of text' },
      'min-score': { type: 'string', help: 'PERCENT exit 1 when the score is below it' },
    },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const source = await resolveProtocol({ name: positionals[0], protocol: values.protocol, config: values.config });
  const name = source.protocol.name;

  // The kit's own primitives are mutated in their sources, checked against the compiled kit.
  const root = packageRoot();
  const entry = source.builtIn ? join(root, 'machines', name, 'index.ts') : source.module;
  if (!existsSync(entry)) throw new UsageError(`the sources of ${name} are not installed (no ${entry})`);
  let exportName: string | undefined;
  if (source.builtIn) {
    const compiled = (await import(pathToFileURL(join(root, 'dist', 'machines', name, 'index.js')).href)) as Record<string, unknown>;
    exportName = Object.keys(compiled).find((k) => compiled[k] === source.protocol);
    if (!exportName) throw new UsageError(`machines/${name}/index.ts exports no protocol named ${name}`);
  }
  // The kit's own sources (which a protocol in this repository imports by path) are not the protocol's.
  const graph = sourceGraph(entry, [join(root, 'src'), join(root, 'dist')]);
  const displayRoot = source.builtIn ? root : process.cwd();
  const local = [...graph.files.keys()];
  const shown = (f: string) => relative(displayRoot, f);
  let files: string[];
  if (values.files !== undefined) {
    files = values.files.split(',').map((f) => f.trim()).filter(Boolean).map((f) => resolve(f));
    const outside = files.find((f) => !graph.files.has(f));
    if (!files.length) throw new UsageError('--files needs at least one file');
    if (outside) throw new UsageError(`--files: ${shown(outside)} is not one of the protocol's local modules (${local.map(shown).join(', ')})`);
  } else {
    files = machineFiles(graph);
    if (!files.length) throw new UsageError(`no local module of ${name} calls createMachine: name the files to mutate with --files (one of ${local.map(shown).join(', ')})`);
  }

  const mutationPath = values['mutation-file'] ?? join(source.builtIn ? dirname(entry) : dirname(source.module), 'mutation.json');
  let declared;
  try {
    declared = readMutationFile(mutationPath, values['mutation-file'] !== undefined);
  } catch (problem) {
    throw new UsageError(String(problem));
  }
  const checks = [...declared.checks];
  for (const c of values.check ?? []) {
    const a = checkArgs(c);
    if (typeof a === 'string') throw new UsageError(`--check '${c}': ${a}`);
    if (a.length) checks.push(a);
  }
  const jobs = intArg('jobs', values.jobs, 1, 256) ?? availableParallelism();
  const timeout = intArg('timeout', values.timeout, 1, 86_400);
  const minScore = values['min-score'] === undefined ? undefined : Number(values['min-score']);
  if (minScore !== undefined && !(minScore >= 0 && minScore <= 100)) throw new UsageError(`--min-score must be a percentage from 0 to 100, got '${values['min-score']}'`);
  let only = values.only === undefined ? undefined : new Set(values.only.split(',').map((s) => s.trim()).filter(Boolean));
  const sampleSize = intArg('sample', values.sample, 1, 100_000);
  const seed = intArg('seed', values.seed, 0, 2 ** 31 - 1);
  const walkSeed = intArg('walk-seed', values['walk-seed'], 0, 2 ** 31 - 1) ?? 1;
  if (seed !== undefined && sampleSize === undefined) throw new UsageError('--seed draws the sample of --sample N: give --sample too');
  if (sampleSize !== undefined && only) throw new UsageError('give --only or --sample, not both');

  if (values.list) {
    const mutants = listMutants(graph, files, displayRoot).filter((m) => !only || only.has(m.id));
    if (values.json) process.stdout.write(JSON.stringify(mutants.map(({ edits: _e, path: _p, ...m }) => ({ ...m, equivalent: declared.equivalent.get(m.id) }))) + '\n');
    else for (const m of mutants) process.stdout.write(`${m.id}  ${m.file}:${m.line}  ${m.operator}  ${m.before} → ${m.after}${declared.equivalent.has(m.id) ? `  (equivalent: ${declared.equivalent.get(m.id)})` : ''}\n`);
    return 0;
  }
  if (only) {
    const ids = new Set(listMutants(graph, files, displayRoot).map((m) => m.id));
    const unknown = [...only].find((id) => !ids.has(id));
    if (unknown) throw new UsageError(`--only: no mutant '${unknown}' (coordkit mutate ${source.ref} --list shows them)`);
  }

  // Progress goes to stderr even with --json: an analysis takes minutes.
  let sample: { of: number; seed: number } | undefined;
  if (sampleSize !== undefined) {
    const ids = listMutants(graph, files, displayRoot).map((m) => m.id);
    if (sampleSize < ids.length) {
      sample = { of: ids.length, seed: seed ?? 1 };
      only = sampleIds(ids, sampleSize, sample.seed);
    }
  }
  const printer = mutationProgress(`mutate ${name}`);
  let report;
  try {
    report = await runMutation({
      protocol: name,
      graph,
      files,
      displayRoot,
      checks,
      walkSeed,
      equivalent: declared.equivalent,
      jobs,
      timeoutMs: timeout === undefined ? undefined : timeout * 1000,
      only,
      sample,
      compiledRoot: source.builtIn ? root : undefined,
      exportName,
      onProgress: printer.update,
    });
  } catch (err) {
    if (err instanceof BaselineError) throw new UsageError(err.message);
    throw err;
  } finally {
    printer.done();
  }
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(formatMutation(report));
  return minScore !== undefined && report.score !== null && report.score * 100 < minScore ? 1 : 0;
}
