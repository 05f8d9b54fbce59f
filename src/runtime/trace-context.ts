/**
 * A node's context in its trace, written as what changed since the node's record before it. A
 * context that keeps a growing list (a consensus node keeps every decided slot) would otherwise
 * be written whole with every step, and the trace would grow with the square of the steps.
 *
 * A record holds either `context` (whole: a start, the first record a process writes, a context
 * that is not a plain object, or one whose keys changed) or `contextDelta`: `set`, the top-level
 * fields whose value changed, whole; `splice`, for a list field, `[from, items]`: the list is
 * the previous one's first `from` items followed by `items`. Fields are compared by their JSON
 * text, never by reference, so a machine that changes its context in place is traced right too.
 * `readTrace` (trace-log.ts) puts the whole context back.
 */

export interface ContextDelta {
  set?: Record<string, unknown>;
  splice?: Record<string, [number, unknown[]]>;
}

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What the encoder remembers of the last context: each field's JSON text, and each list item's. */
interface Remembered {
  keys: string;
  fields: Map<string, string>;
  items: Map<string, string[]>;
}

export class ContextEncoder {
  private last: Remembered | null = null;

  /** Forget the last context: the next one is written whole. */
  reset(): void {
    this.last = null;
  }

  /**
   * The context as a record field: `{ context }` whole, or `{ contextDelta }` against the context
   * encoded before it (`whole` forces a whole one).
   */
  encode(context: unknown, whole: boolean): { context: unknown } | { contextDelta: ContextDelta } {
    if (!isPlain(context)) {
      this.last = null;
      return { context };
    }
    // A field set to undefined is not in the JSON: it counts as absent, so setting or clearing it changes the keys.
    const keys = Object.keys(context).filter((k) => context[k] !== undefined);
    const fields = new Map<string, string>();
    const items = new Map<string, string[]>();
    for (const k of keys) {
      const v = context[k];
      if (Array.isArray(v)) items.set(k, v.map((x) => JSON.stringify(x) ?? 'null'));
      fields.set(k, Array.isArray(v) ? `[${items.get(k)!.join(',')}]` : (JSON.stringify(v) ?? 'null'));
    }
    const before = this.last;
    const keyList = keys.join('\u0000');
    this.last = { keys: keyList, fields, items };
    if (whole || !before || before.keys !== keyList) return { context };
    const delta: ContextDelta = {};
    for (const k of keys) {
      if (fields.get(k) === before.fields.get(k)) continue;
      const now = items.get(k);
      const was = before.items.get(k);
      if (now && was) {
        let from = 0;
        while (from < now.length && from < was.length && now[from] === was[from]) from++;
        (delta.splice ??= {})[k] = [from, (context[k] as unknown[]).slice(from)];
      } else {
        (delta.set ??= {})[k] = context[k];
      }
    }
    return { contextDelta: delta };
  }
}

/** The whole context a delta makes of the context before it; throws when they do not fit. */
export function applyContextDelta(base: unknown, delta: ContextDelta): Plain {
  if (!isPlain(base)) throw new Error('a context delta with no whole context before it');
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(delta.set ?? {})) out[k] = v;
  for (const [k, [from, items]] of Object.entries(delta.splice ?? {})) {
    const was = base[k];
    if (!Array.isArray(was) || !Number.isInteger(from) || from < 0 || from > was.length || !Array.isArray(items)) throw new Error(`a context delta splices field ${k} the context before it cannot take`);
    out[k] = [...was.slice(0, from), ...items];
  }
  return out;
}
