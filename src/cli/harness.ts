/**
 * `coordkit harness <primitive> --cmd "TEMPLATE" --nodes N [--ours 1,2] [--script FILE] [--out DIR]`:
 * runs another implementation of a primitive as N processes (some of them ours, with `--ours`),
 * every link through a kit proxy that records what crosses it and applies the script's faults,
 * and judges the run against the model (src/harness/). Exit 0 when the run conforms and every
 * property held, 1 when not, 2 on bad input.
 */
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { ScriptError, validateScript, type ClusterScript } from '../runtime/cluster-script.js';
import { defaultScript } from '../runtime/run-cluster.js';
import { FrameValidator } from '../runtime/validator.js';
import { checkTemplate, PLACEHOLDERS } from '../harness/command-template.js';
import { runHarness, type HarnessReport } from '../harness/run-harness.js';
import { HIDDEN_STEPS } from '../harness/wire-replay.js';
import { MAX_NODES } from '../bounds.js';
import { helpText, HelpRequest, parse } from './parse.js';
import { requireSchemas, resolveProtocol } from './protocol-source.js';
import { choiceArg, intArg, UsageError } from './usage-error.js';

const USAGE = 'coordkit harness <primitive> --cmd "TEMPLATE" --nodes N [--ours 1,2] [--script FILE] [--out DIR] [--seed S] [--timeout SEC] [--variant V] [--protocol FILE | --config FILE] [--json]';

const TEMPLATE_HELP = `TEMPLATE starts one node of the implementation under test; it is split into words as a shell
would (quotes, no expansion) and run without a shell. Placeholders:
${Object.entries(PLACEHOLDERS).map(([k, v]) => `  {${k}}  ${v}`).join('\n')}
Example: --cmd "python3 examples/python/peer.py --id {id} --listen {listen} --peers {peers} --data {data} --cluster {cluster} --tls-dir {tls}"`;

function readScript(file: string, n: number): ClusterScript {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read --script ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return validateScript(raw, n, { proxied: true });
  } catch (err) {
    if (err instanceof ScriptError) throw new UsageError(`--script ${file}: ${err.message}`);
    throw err;
  }
}

function prepareOut(dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    if (!entries.every((e) => /^(node-\d+|tls|wire\.ndjson|sequence\.md|report\.json)$/.test(e))) throw new UsageError(`--out ${dir} exists and holds files that are not an earlier harness run; choose another folder`);
    for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
}

/** Whether a command names an executable file, as given or found on PATH. */
function executable(command: string): boolean {
  const runnable = (file: string) => {
    try {
      accessSync(file, constants.X_OK);
      return statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes('/')) return runnable(command);
  return (process.env.PATH ?? '').split(delimiter).some((dir) => dir && runnable(join(dir, command)));
}

const OPTIONS = {
  cmd: { type: 'string', help: 'TEMPLATE  the command that starts one node of the implementation (placeholders above)' },
  nodes: { type: 'string', help: `N  nodes, 2 to ${MAX_NODES}` },
  ours: { type: 'string', help: 'IDS  nodes that run coordkit node instead of the command, e.g. 1,2' },
  script: { type: 'string', help: "FILE  a fault script (coordkit cluster's steps, plus delay and drop; default: the primitive's own)" },
  out: { type: 'string', help: 'DIR  where wire.ndjson, sequence.md, report.json and the nodes\' folders go' },
  seed: { type: 'string', help: 'S  seed of the drops (default: random, printed)' },
  timeout: { type: 'string', help: 'SEC  the whole run, start to verdict; every process is killed by then (default 120)' },
  variant: { type: 'string', help: 'V  the model variant to judge against, and that our nodes run' },
  protocol: { type: 'string', help: 'FILE  a protocol module of your own' },
  config: { type: 'string', help: 'FILE  a coordkit.config.js naming your protocols' },
  json: { type: 'boolean', help: 'print the report as JSON' },
} as const;

export async function harnessCommand(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) throw new HelpRequest(helpText(USAGE, OPTIONS).replace('\n\noptions:', `\n\n${TEMPLATE_HELP}\n\noptions:`));
  const { values, positionals } = parse(args, OPTIONS, USAGE);
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: coordkit harness --help)`);
  const nodes = intArg('nodes', values.nodes, 2, MAX_NODES);
  if (nodes === undefined) throw new UsageError('give --nodes N');
  const ours = (values.ours ?? '').split(',').filter(Boolean).map((s) => {
    const id = Number(s);
    if (!/^\d+$/.test(s) || id < 1 || id > nodes) throw new UsageError(`--ours lists node ids from 1 to ${nodes}, got '${s}'`);
    return id;
  });
  if (ours.length === nodes && values.cmd === undefined) {
    // every node is ours: the harness tests itself
  } else if (values.cmd === undefined) throw new UsageError('give --cmd "TEMPLATE" (see coordkit harness --help)');
  let command: string[] = [];
  try {
    if (values.cmd !== undefined) command = checkTemplate(values.cmd);
  } catch (err) {
    throw new UsageError(`--cmd: ${(err as Error).message}`);
  }
  if (command.length && !executable(command[0])) throw new UsageError(`--cmd: ${command[0]} is not an executable file${command[0].includes('/') ? '' : ' on PATH'}`);
  const seed = intArg('seed', values.seed, 0, 2 ** 31 - 1) ?? Math.floor(Math.random() * 2 ** 31);
  const timeoutMs = (intArg('timeout', values.timeout, 5, 3600) ?? 120) * 1000;
  const source = await resolveProtocol({ name: positionals[0], protocol: values.protocol, config: values.config });
  const { protocol } = source;
  const variantName = choiceArg('variant', values.variant, protocol.variants.map((v) => v.name)) ?? protocol.defaultVariant;
  const variant = protocol.variants.find((v) => v.name === variantName)!;
  requireSchemas(source, source.schemaDir);
  const script = values.script ? readScript(values.script, nodes) : defaultScript(source.scenarioDir, nodes);
  const dir = resolve(values.out ?? join('coordkit-harness', protocol.name));
  prepareOut(dir);
  const report = await runHarness({
    protocol,
    variant,
    nodes,
    command,
    commandText: values.cmd ?? '',
    ours: [...new Set(ours)].sort((a, b) => a - b),
    script,
    dir,
    validator: new FrameValidator(source.schemaDir, protocol.name),
    seed,
    timeoutMs,
    protocolFile: source.builtIn ? undefined : source.module,
    schemaDir: source.schemaDir,
  });
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
  else process.stdout.write(describe(report, script));
  return report.ok ? 0 : 1;
}

function describe(r: HarnessReport, script: ClusterScript): string {
  const foreign = Array.from({ length: r.nodes }, (_, i) => i + 1).filter((id) => !r.ours.includes(id));
  const out: string[] = [];
  out.push(`${r.primitive} · judged against variant ${r.variant} · ${r.nodes} nodes: ${foreign.length ? `${foreign.join(',')} run \`${r.command}\`` : ''}${foreign.length && r.ours.length ? '; ' : ''}${r.ours.length ? `${r.ours.join(',')} run coordkit node` : ''} · every link through a kit proxy (mutual TLS) · seed ${r.seed} · ${r.elapsedMs} ms`);
  if (script.description) out.push(`script: ${script.description}`);
  out.push(...r.steps.map((s) => `  ${s}`));
  if (r.stopped) out.push(`RUN STOPPED: ${r.stopped}`);
  for (const c of r.crashed) out.push(`CRASHED: node ${c.node}'s process ended on its own (${c.status})`);
  const lost = Object.entries(r.wire.lost).map(([k, v]) => `${v} ${k}`).join(', ') || 'none';
  out.push(`wire: ${r.wire.sent} peer frames read by the proxies, ${r.wire.delivered} delivered, lost: ${lost}; ${r.wire.refused} refused by the contract; ${r.wire.notes} notes and ${r.wire.answers} answers to the harness's client`);
  if (!r.divergences.length) out.push(`conformance: every frame, note and answer of every node is explained by a run of the model (hidden timer firings and handling delays inferred, up to ${HIDDEN_STEPS} hidden steps between observations)`);
  for (const d of r.divergences) out.push(`DIVERGENCE node ${d.node}: ${d.what}`);
  for (const d of r.traceDivergences) out.push(`DIVERGENCE (explained run, node ${d.node} step ${d.seq}): ${d.what}`);
  out.push(`properties over the explained run${r.properties.upTo === 'end' ? '' : ' up to the first divergence'} (${r.properties.worlds} worlds), and the history properties over every note the nodes pushed:`);
  for (const name of r.properties.checked) {
    const bad = r.properties.violations.find((v) => v.property === name);
    if (r.properties.notJudged.includes(name)) out.push(`  not judged ${name} (the run diverged before its end)`);
    else out.push(`  ${bad ? 'VIOLATED' : 'ok      '} ${name}${bad ? ` (over the ${bad.over})` : ''}`);
  }
  if (r.divergences.length) out.push('the run up to the first divergence:', '```mermaid', readFileSync(r.diagramFile, 'utf8').replace(/^```mermaid\n|```\n$/g, '').trimEnd(), '```');
  out.push(`wrote ${r.wireFile}, ${r.diagramFile}, ${join(r.dir, 'report.json')}`);
  out.push(r.ok ? 'PASS for this run: it conforms to the model and every property held (one run, not a proof)' : 'FAIL');
  return out.join('\n') + '\n';
}
