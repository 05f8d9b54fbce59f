/**
 * `coordkit cluster <primitive> --nodes N [--script FILE] [--out DIR]`: runs N real nodes on
 * loopback through a fault script, stops them, and checks the run: properties over the merged
 * trace, conformance to the pure machine, a Mermaid sequence diagram. Exit 0 when all hold,
 * 1 when not, 2 on bad input. The nodes talk mutual TLS with a CA made for the run in
 * `<out>/tls` (whose key is thrown away), unless `--insecure`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Protocol } from '../protocol.js';
import { requestScript, scriptNodes, ScriptError, validateScript, type ClusterScript } from '../runtime/cluster-script.js';
import { defaultScript, defaultScriptFile, runCluster, type ClusterReport } from '../runtime/run-cluster.js';
import { parse } from './parse.js';
import { initialRequests } from '../sim/initial-requests.js';
import { PROTOCOL_OPTIONS, requireSchemas, resolveProtocol, type ProtocolSource } from './protocol-source.js';
import { choiceArg, intArg, UsageError } from './usage-error.js';

const USAGE = "coordkit cluster <primitive> [--nodes N (default: the script's count, else 5)] [--script FILE] [--out DIR] [--variant V] [--protocol FILE | --config FILE] [--schemas DIR] [--insecure] [--json]";

function readScript(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read --script ${file}: ${(err as Error).message.split('\n')[0]}`);
  }
}

function checkScript(raw: unknown, n: number, what: string): ClusterScript {
  try {
    return validateScript(raw, n);
  } catch (err) {
    if (err instanceof ScriptError) throw new UsageError(`${what}: ${err.message}`);
    throw err;
  }
}

/** A fresh output folder: created, or emptied if it holds an earlier run (and nothing else). */
function prepareOut(dir: string): void {
  if (existsSync(dir)) {
    const entries = readdirSync(dir);
    const ours = entries.every((e) => /^(node-\d+|tls|cluster\.ndjson|trace\.ndjson|sequence\.md|report\.json)$/.test(e));
    if (!ours) throw new UsageError(`--out ${dir} exists and holds files that are not an earlier cluster run; choose another folder`);
    for (const e of entries) rmSync(join(dir, e), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
}

export async function clusterCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      nodes: { type: 'string', help: "N  node processes (default: the script's count, else 5)" },
      script: { type: 'string', help: 'FILE  a fault script (default: the primitive\'s own)' },
      out: { type: 'string', help: 'DIR  where traces, the diagram and report.json go' },
      variant: { type: 'string', help: 'V  the variant the nodes run' },
      ...PROTOCOL_OPTIONS,
      schemas: { type: 'string', help: 'DIR  the protocol\'s generated schemas (default: where the protocol says)' },
      json: { type: 'boolean', help: 'print the report as JSON' },
      insecure: { type: 'boolean', help: 'plain TCP with nothing authenticated (default: mutual TLS with certificates made for the run)' },
    },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const source = await resolveProtocol({ name: positionals[0], protocol: values.protocol, config: values.config });
  const protocol: Protocol = source.protocol;
  const variantName = choiceArg('variant', values.variant, protocol.variants.map((v) => v.name)) ?? protocol.defaultVariant;
  const variant = protocol.variants.find((v) => v.name === variantName)!;
  const raw = values.script ? readScript(values.script) : defaultScriptFile(source.scenarioDir);
  const nodes = intArg('nodes', values.nodes, 2, 9) ?? scriptNodes(raw) ?? 5;
  const script = raw === undefined ? unscripted(source, nodes) : checkScript(raw, nodes, values.script ? `--script ${values.script}` : `the default ${protocol.name} script`);
  const schemaDir = resolve(values.schemas ?? source.schemaDir);
  requireSchemas(source, schemaDir);
  const dir = resolve(values.out ?? join('coordkit-cluster', protocol.name));
  prepareOut(dir);
  if (values.insecure) process.stderr.write('coordkit cluster: WARNING: --insecure: the nodes and the launcher talk plain TCP with nothing authenticated\n');
  const report = await runCluster({ protocol, variant, nodes, script, dir, protocolFile: source.builtIn ? undefined : source.module, schemaDir, insecure: values.insecure });
  if (values.json) process.stdout.write(JSON.stringify(report) + '\n');
  else printReport(report, script);
  return report.ok ? 0 : 1;
}

/**
 * The script of a protocol with no cluster script: one that asks its nodes for the client
 * requests it enables; with no client requests at all, the generic split-and-heal run (timers
 * alone drive such a protocol).
 */
function unscripted(source: ProtocolSource, nodes: number): ClusterScript {
  if (!source.protocol.clients && !source.protocol.spontaneous) return defaultScript(source.scenarioDir, nodes);
  const requests = initialRequests(source.protocol, nodes);
  if (!requests.length) throw new UsageError(`${source.protocol.name} ships no cluster script and enables no client request in its initial state: give --script FILE`);
  return requestScript(requests);
}

function printReport(r: ClusterReport, script: ClusterScript): void {
  const out: string[] = [];
  out.push(`${r.primitive} · variant ${r.variant} · ${r.nodes} node processes on loopback (${r.tls ? 'mutual TLS' : 'plain TCP, unauthenticated'}) · ${r.elapsedMs} ms`);
  if (script.description) out.push(`script: ${script.description}`);
  out.push(...r.steps.map((s) => `  ${s}`));
  if (r.scriptError) out.push(`script stopped: ${r.scriptError}`);
  out.push(`trace: ${r.records} records, properties checked in ${r.properties.worlds} worlds`);
  for (const name of r.properties.checked) {
    const bad = r.properties.violations.find((v) => v.property === name);
    out.push(`  ${bad ? 'VIOLATED' : 'ok      '} ${name}${bad ? (bad.index >= 0 ? ` (after trace record ${bad.index})` : ' (at the end)') : ''}`);
  }
  for (const u of r.unpersisted) {
    out.push(
      u.left
        ? `note: node ${u.node} was killed between tracing and persisting record ${u.seq}, whose messages may leave before its flush; it restarted from the state before it, with what it sent already out`
        : `note: node ${u.node} was killed between tracing and persisting record ${u.seq}; none of its messages left, so it is treated as not having happened`,
    );
  }
  if (r.divergences.length === 0) out.push('conformance: every node did what the pure machine does with the same events');
  for (const d of r.divergences) out.push(`DIVERGENCE node ${d.node} record ${d.seq}: ${d.what}`);
  out.push(`wrote ${r.traceFile}, ${r.diagramFile}, ${join(r.dir, 'report.json')}`);
  out.push(r.ok ? 'PASS' : 'FAIL');
  process.stdout.write(out.join('\n') + '\n');
}
