/**
 * `--param NAME=VALUE`, repeatable: a primitive's own knob (`requests=2`, `proposers=1,2`),
 * checked against the type and range the primitive declares. An undeclared param (a protocol
 * that declares none) is JSON when it parses as JSON, a list of numbers when comma-separated,
 * else a string.
 */
import type { ParamSpec, Protocol } from '../protocol.js';
import { UsageError } from './usage-error.js';

function looseValue(value: string): unknown {
  if (/^\d+(,\d+)+$/.test(value)) return value.split(',').map(Number);
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function typedValue(name: string, spec: ParamSpec, value: string, nodes: number): unknown {
  const max = spec.max === 'nodes' ? nodes : spec.max;
  const range = `${spec.min ?? 0}${max === undefined ? ' or more' : ` to ${max}`}`;
  const number = (raw: string) => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < (spec.min ?? 0) || (max !== undefined && n > max)) {
      throw new UsageError(`--param ${name} takes ${spec.type === 'ints' ? 'comma-separated whole numbers' : 'a whole number'} from ${range} (${spec.description}), got '${value}'`);
    }
    return n;
  };
  switch (spec.type) {
    case 'int':
      return number(value);
    case 'ints':
      return value.split(',').map(number);
    case 'boolean':
      if (value !== 'true' && value !== 'false') throw new UsageError(`--param ${name} takes true or false (${spec.description}), got '${value}'`);
      return value === 'true';
    case 'string':
      return value;
  }
}

export function paramArgs(protocol: Protocol, raw: string[] | undefined, nodes: number): Record<string, unknown> | undefined {
  if (!raw) return undefined;
  const declared = protocol.params ?? {};
  const known = new Set([...Object.keys(declared), ...Object.keys(protocol.defaults.params ?? {}), ...protocol.variants.flatMap((v) => Object.keys(v.reveal?.params ?? {}))]);
  const params: Record<string, unknown> = {};
  for (const item of raw) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param takes NAME=VALUE, got '${item}'`);
    const name = item.slice(0, eq);
    const value = item.slice(eq + 1);
    if (!known.has(name)) throw new UsageError(`unknown param '${name}' of ${protocol.name} (choose from: ${[...known].join(', ') || 'none'})`);
    if (name in params) throw new UsageError(`--param ${name} is given twice`);
    params[name] = declared[name] ? typedValue(name, declared[name], value, nodes) : looseValue(value);
  }
  return params;
}
