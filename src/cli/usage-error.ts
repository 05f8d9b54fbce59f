/** Bad command-line input: printed as one line, exit code 2. */
export class UsageError extends Error {}

export function intArg(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${raw}'`);
  const value = Number(raw);
  if (value < min || value > max) throw new UsageError(`--${name} must be from ${min} to ${max}, got ${value}`);
  return value;
}

export function choiceArg<T extends string>(name: string, raw: string | undefined, valid: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  if (!valid.includes(raw as T)) throw new UsageError(`unknown ${name} '${raw}' (choose from: ${valid.join(', ')})`);
  return raw as T;
}

/** A comma-separated list of names; `none` is the empty list. */
export function listArg<T extends string>(name: string, raw: string | undefined, valid: readonly T[]): T[] | undefined {
  if (raw === undefined) return undefined;
  if (raw === 'none' || raw === '') return [];
  const items = raw.split(',').map((s) => s.trim());
  for (const item of items) choiceArg(name, item, valid);
  return [...new Set(items)] as T[];
}
