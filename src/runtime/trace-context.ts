/**
 * A node's context in its trace, written as what changed since the node's record before it. A
 * context that keeps a growing list (a consensus node keeps every decided slot) would otherwise
 * be written whole with every step, and the trace would grow with the square of the steps.
 *
 * A record holds either `context` (whole: a start, the first record a process writes, a context
 * that is not a plain object, or one whose keys changed) or `contextDelta`: `set`, top-level
 * fields whose value changed, whole; `splice`, `[from, tail]` for a field whose JSON text begins
 * as it did: its text is the first `from` characters of the previous text, then `tail` (a list
 * that grew at its end costs what grew). `readTrace` (trace-log.ts) puts the whole context back.
 *
 * By default every field is serialized and compared by its JSON text, so a context changed in
 * place is traced right too. A node's host freezes each context instead (`freezeNew`: what a
 * step made; the rest was frozen before), so a field that is the same object as before is not
 * serialized again, and a list that keeps the previous list's items (the same objects) costs
 * the text of its new items only: a consensus node's per-step work no longer grows with its log.
 */

export interface ContextDelta {
  set?: Record<string, unknown>;
  splice?: Record<string, [number, string]>;
}

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Below this many shared characters a changed field is written whole. */
const LEAST_SHARED = 32;

/** How many characters `a` and `b` begin with in common (halving: a few native comparisons, not one per character). */
export function sharedPrefix(a: string, b: string): number {
  let lo = 0;
  let hi = Math.min(a.length, b.length);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (a.slice(lo, mid) === b.slice(lo, mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * How much of `was` a changed field's text `now` keeps at its start, for a splice `[from, tail]`;
 * null when it keeps too little and is written whole. The trace and the write-ahead log decide so.
 */
export function spliceFrom(was: string, now: string): number | null {
  const from = sharedPrefix(was, now);
  return from >= LEAST_SHARED ? from : null;
}

/** The text a splice `[from, tail]` makes of `was`; null when it does not fit it. */
export function spliced(was: string, splice: unknown): string | null {
  const [from, tail] = Array.isArray(splice) ? splice : [];
  return Number.isInteger(from) && from >= 0 && from <= was.length && typeof tail === 'string' ? was.slice(0, from) + tail : null;
}

/** A field as the encoder last wrote it: its value, its JSON text and, for a list, where each item's text ends. */
interface FieldText {
  value: unknown;
  text: string;
  ends?: number[];
}

/** A list's text item by item, with where each item ends. */
function listText(list: readonly unknown[]): FieldText {
  let text = '[';
  const ends: number[] = [];
  for (let i = 0; i < list.length; i++) {
    text += (i ? ',' : '') + (JSON.stringify(list[i]) ?? 'null');
    ends.push(text.length);
  }
  return { value: list, text: text + ']', ends };
}

export class ContextEncoder {
  /** The last context's keys and each field's JSON text. */
  private last: { keys: string; fields: Map<string, FieldText> } | null = null;
  /** The last context encoded, whose fields' texts `textOf` gives. */
  private context: Plain | null = null;

  /**
   * `frozen`: every context is frozen (freezeNew) before it is encoded, so a field that is the
   * same object as before has the same text, and a list that keeps the items of the one before
   * (the same objects) costs the text of its new items only: a growing list costs what grew.
   * Without it every field is serialized and compared by text, whatever the machine did in place.
   */
  constructor(private readonly frozen = false) {}

  /**
   * The JSON text of `value` when it is a field of the context encoded last (by reference), as
   * computed then: the caller that writes the same step's state (the write-ahead log) need not
   * serialize it again. Valid only until the machine runs again.
   */
  textOf(value: unknown): string | undefined {
    if (!this.context || !this.last || typeof value !== 'object' || value === null) return undefined;
    for (const [k, field] of this.last.fields) if (this.context[k] === value) return field.text;
    return undefined;
  }

  private field(value: unknown, before: FieldText | undefined): FieldText {
    if (!this.frozen) return { value, text: JSON.stringify(value) ?? 'null' };
    if (before && before.value === value) return before;
    if (!Array.isArray(value)) return { value, text: JSON.stringify(value) ?? 'null' };
    const was = before?.value;
    if (!Array.isArray(was) || !before!.ends) return listText(value);
    let kept = 0;
    while (kept < was.length && kept < value.length && was[kept] === value[kept]) kept++;
    if (kept === 0) return listText(value);
    const ends = before!.ends.slice(0, kept);
    let text = before!.text.slice(0, ends[kept - 1]);
    for (let i = kept; i < value.length; i++) {
      text += ',' + (JSON.stringify(value[i]) ?? 'null');
      ends.push(text.length);
    }
    return { value, text: text + ']', ends };
  }

  /**
   * The context as a record field: `{ context }` whole, or `{ contextDelta }` against the context
   * encoded before it (`whole` forces a whole one).
   */
  encode(context: unknown, whole: boolean): { context: unknown } | { contextDelta: ContextDelta } {
    if (!isPlain(context)) {
      this.last = null;
      this.context = null;
      return { context };
    }
    // A field set to undefined is not in the JSON: it counts as absent, so setting or clearing it changes the keys.
    const keys = Object.keys(context).filter((k) => context[k] !== undefined);
    const before = this.last;
    const fields = new Map<string, FieldText>();
    for (const k of keys) fields.set(k, this.field(context[k], before?.fields.get(k)));
    const keyList = keys.join('\u0000');
    this.last = { keys: keyList, fields };
    this.context = context;
    if (whole || !before || before.keys !== keyList) return { context };
    const delta: ContextDelta = {};
    for (const k of keys) {
      const now = fields.get(k)!.text;
      const was = before.fields.get(k)!.text;
      if (now === was) continue;
      const from = spliceFrom(was, now);
      if (from !== null) (delta.splice ??= {})[k] = [from, now.slice(from)];
      else (delta.set ??= {})[k] = context[k];
    }
    return { contextDelta: delta };
  }
}

/** The whole context a delta makes of the context before it; throws when they do not fit. */
export function applyContextDelta(base: unknown, delta: ContextDelta): Plain {
  if (!isPlain(base)) throw new Error('a context delta with no whole context before it');
  if (!isPlain(delta)) throw new Error('a context delta that is not an object');
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(delta.set ?? {})) out[k] = v;
  for (const [k, splice] of Object.entries(delta.splice ?? {})) {
    const was = JSON.stringify(base[k]);
    const text = was === undefined ? null : spliced(was, splice);
    if (text === null) throw new Error(`a context delta splices field ${k} the context before it cannot take`);
    try {
      out[k] = JSON.parse(text);
    } catch {
      throw new Error(`a context delta splices field ${k} into text that is not JSON`);
    }
  }
  return out;
}
