/** `coordkit list [--protocol FILE]... [--config FILE] [--json]`: primitives, variants (buggy ones with the invariant they break), properties. */
import { parse } from './parse.js';
import { resolveProtocols } from './protocol-source.js';
import { UsageError } from './usage-error.js';

const USAGE = 'coordkit list [--protocol FILE]... [--config FILE] [--json]';

export async function listCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      json: { type: 'boolean', help: 'print JSON instead of text' },
      protocol: { type: 'string', multiple: true, help: 'FILE  a protocol module of your own (repeatable)' },
      config: { type: 'string', help: 'FILE  a coordkit.config.js naming your protocols' },
    },
    USAGE,
  );
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}': list shows every protocol it is given (usage: ${USAGE})`);
  const sources = await resolveProtocols({ protocol: values.protocol, config: values.config });
  const data = sources.map(({ protocol: p }) => ({
    name: p.name,
    description: p.description,
    defaultVariant: p.defaultVariant,
    variants: p.variants.map((v) => ({ name: v.name, description: v.description, breaks: v.breaks ?? null })),
    properties: p.properties.map((x) => ({ name: x.name, kind: x.kind })),
    params: Object.entries(p.params ?? {}).map(([name, spec]) => ({ name, ...spec, default: p.defaults.params?.[name] ?? null })),
  }));
  if (values.json) {
    process.stdout.write(JSON.stringify(data, null, 2) + '\n');
    return 0;
  }
  const out: string[] = [];
  for (const p of data) {
    out.push(`${p.name}: ${p.description}`, '  variants:');
    for (const v of p.variants) out.push(`    ${v.name}${v.name === p.defaultVariant ? ' (default)' : ''}${v.breaks ? ` [buggy: breaks '${v.breaks}']` : ''}: ${v.description}`);
    out.push('  properties:');
    for (const x of p.properties) out.push(`    ${x.kind.padEnd(10)} ${x.name}`);
    if (p.params.length) out.push('  params (--param NAME=VALUE):');
    for (const x of p.params) out.push(`    ${x.name}: ${x.type}${x.min !== undefined || x.max !== undefined ? ` ${x.min ?? 0}..${x.max ?? ''}` : ''}, default ${JSON.stringify(x.default)}: ${x.description}`);
  }
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
