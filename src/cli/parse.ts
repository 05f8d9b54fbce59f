/**
 * Wraps node:util parseArgs so that its errors become one-line usage errors, and answers
 * `--help`/`-h` on every command: the usage line and one line per option, from the `help`
 * text each option declares.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './usage-error.js';

type Option = NonNullable<ParseArgsConfig['options']>[string] & {
  /** One line for `--help`: for a string option, the value's placeholder first, then what it does. */
  help?: string;
};

/** `--help` was asked for: the text to print, on stdout, with exit code 0. */
export class HelpRequest extends Error {}

export function helpText(usage: string, options: Record<string, Option>): string {
  const rows = Object.entries(options).map(([name, o]): [string, string] => {
    const [, value = '', text = ''] = o.type === 'string' ? /^(\S*)\s*(.*)$/.exec(o.help?.trim() ?? '') ?? [] : [, '', o.help?.trim() ?? ''];
    return [`${o.short ? `-${o.short}, ` : ''}--${name}${value ? ` ${value}` : ''}`, text];
  });
  rows.push(['-h, --help', 'print this help']);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return [`usage: ${usage}`, '', 'options:', ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}  ${text}`.trimEnd())].join('\n') + '\n';
}

/** `--opt -1` as `--opt=-1`: parseArgs would call a negative number an ambiguous argument. */
function joinNegativeNumbers(args: string[], options: Record<string, Option>): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const name = args[i].startsWith('--') ? args[i].slice(2) : undefined;
    if (name && options[name]?.type === 'string' && /^-\d/.test(args[i + 1] ?? '')) out.push(`${args[i]}=${args[++i]}`);
    else out.push(args[i]);
  }
  return out;
}

type Parsed<T extends NonNullable<ParseArgsConfig['options']>> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

export function parse<T extends Record<string, Option>>(args: string[], options: T, usage: string): Parsed<T> {
  const end = args.indexOf('--');
  const flags = end < 0 ? args : args.slice(0, end);
  if (flags.includes('--help') || flags.includes('-h')) throw new HelpRequest(helpText(usage, options));
  try {
    return parseArgs({ args: joinNegativeNumbers(args, options), options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0].replace(/\. To specify a positional argument.*$/, '');
    throw new UsageError(`${message} (usage: ${usage})`);
  }
}
