/**
 * `coordkit conform <primitive> --trace FILE... [--nodes N] [--variant V]`: checks traces of
 * nodes that may not be ours (NDJSON trace records, as `schemas/README.md` specifies) against
 * the model: each node's received events replayed through the pure machine, which must reach
 * the traced states and send the traced messages, the channels must deliver only what was sent,
 * and the primitive's properties are judged over the merged trace. The first divergence is
 * printed with a sequence diagram of the trace up to it. Exit 0 when all hold, 1 when not.
 */
import { existsSync } from 'node:fs';
import { checkConformance, withoutUnpersisted } from '../runtime/conformance.js';
import { checkTraceProperties } from '../runtime/trace-properties.js';
import { traceDiagram } from '../runtime/trace-diagram.js';
import { mergeTraces, readTrace, type TraceRecord } from '../runtime/trace-log.js';
import { MAX_NODES } from '../bounds.js';
import { parse } from './parse.js';
import { resolveProtocol } from './protocol-source.js';
import { choiceArg, UsageError } from './usage-error.js';

const USAGE = 'coordkit conform <primitive> --trace FILE... [--nodes N (default: the highest node id in the traces)] [--variant V] [--protocol FILE | --config FILE] [--json]';

export async function conformCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    { trace: { type: 'string', multiple: true }, nodes: { type: 'string' }, variant: { type: 'string' }, protocol: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (usage: ${USAGE})`);
  const files = values.trace ?? [];
  if (!files.length) throw new UsageError(`give at least one --trace FILE (usage: ${USAGE})`);
  const source = await resolveProtocol({ name: positionals[0], protocol: values.protocol, config: values.config });
  const { protocol } = source;
  const variantName = choiceArg('variant', values.variant, protocol.variants.map((v) => v.name)) ?? protocol.defaultVariant;
  const variant = protocol.variants.find((v) => v.name === variantName)!;
  const traces: TraceRecord[][] = [];
  for (const file of files) {
    if (!existsSync(file)) throw new UsageError(`no trace file ${file}`);
    let records: TraceRecord[];
    try {
      records = readTrace(file);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    records.forEach((r, i) => {
      const ok = r && typeof r === 'object' && Number.isInteger(r.node) && typeof r.time === 'number' && (r.kind === 'fault' || (Number.isInteger((r as { seq?: unknown }).seq) && typeof (r as { after?: unknown }).after === 'string' && Array.isArray((r as { sends?: unknown }).sends)));
      if (!ok) throw new UsageError(`${file}: record ${i + 1} is not a trace record (node, seq, time, kind, after, sends, ...; see schemas/README.md)`);
    });
    traces.push(records);
  }
  const merged = mergeTraces(traces);
  const highest = Math.max(0, ...merged.map((r) => r.node));
  const nodes = values.nodes === undefined ? highest : Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > MAX_NODES) throw new UsageError(`--nodes must be an integer from 1 to ${MAX_NODES}${values.nodes === undefined ? ' (the traces name no node)' : `, got '${values.nodes}'`}`);
  if (highest > nodes) throw new UsageError(`the traces name node ${highest}, beyond --nodes ${nodes}`);

  const conformance = checkConformance(protocol, variant, nodes, merged);
  const properties = checkTraceProperties(protocol, variant, nodes, withoutUnpersisted(merged, conformance.unpersisted));
  const first = conformance.divergences[0];
  const upTo = first ? merged.slice(0, merged.findIndex((r) => r.kind !== 'fault' && r.node === first.node && (r as { seq: number }).seq === first.seq) + 1 || merged.length) : [];
  const ok = conformance.divergences.length === 0 && properties.violations.length === 0;
  if (values.json) {
    process.stdout.write(JSON.stringify({ primitive: protocol.name, variant: variant.name, nodes, records: merged.length, divergences: conformance.divergences, unpersisted: conformance.unpersisted, properties, ok }, null, 2) + '\n');
    return ok ? 0 : 1;
  }
  const out = [`${protocol.name} · variant ${variant.name} · ${nodes} nodes · ${merged.length} trace records from ${files.length} file(s)`];
  out.push(`properties checked over the merged trace:`);
  for (const name of properties.checked) {
    const bad = properties.violations.find((v) => v.property === name);
    out.push(`  ${bad ? 'VIOLATED' : 'ok      '} ${name}${bad ? (bad.index >= 0 ? ` (after trace record ${bad.index})` : ' (at the end)') : ''}`);
  }
  if (!conformance.divergences.length) out.push('conformance: every node did what the pure machine does with the same events');
  for (const d of conformance.divergences) out.push(`DIVERGENCE node ${d.node} record ${d.seq}: ${d.what}`);
  if (first) out.push(`the trace up to the first divergence:`, '```mermaid', traceDiagram(upTo, nodes, `up to node ${first.node} record ${first.seq}`).text, '```');
  out.push(ok ? 'CONFORMS' : 'DOES NOT CONFORM');
  process.stdout.write(out.join('\n') + '\n');
  return ok ? 0 : 1;
}
