/**
 * What a variant lets leave before the state of the step that emits it is on disk
 * (Variant.beforeFlush), in the one form every reader of it uses: the TCP host (which sends such a
 * step's messages at once), the checker (which lets a crash land before that flush), the
 * conformance replay and the harness's wire replay (which take a restart from the state before).
 */
import type { Variant } from './protocol.js';

export interface EarlyTypes {
  sends: ReadonlySet<string>;
  notes: ReadonlySet<string>;
}

/** The variant's declaration as sets; null when it lets nothing leave early. */
export function earlyTypes(variant: Variant): EarlyTypes | null {
  const declared = variant.beforeFlush;
  if (!declared?.sends?.length && !declared?.notes?.length) return null;
  return { sends: new Set(declared.sends ?? []), notes: new Set(declared.notes ?? []) };
}

const typeOf = (x: unknown): string => {
  const type = (x as { type?: unknown } | null)?.type;
  return typeof type === 'string' ? type : '';
};

/** This message may leave before its step's flush. */
export const sendsEarly = (early: EarlyTypes, msg: unknown): boolean => early.sends.has(typeOf(msg));

/** This note may leave before its step's flush. */
export const notesEarly = (early: EarlyTypes, note: unknown): boolean => early.notes.has(typeOf(note));

/** Every message and note of a step may leave before its flush (true of a step that lets nothing leave). */
export const allEarly = (early: EarlyTypes | null, msgs: readonly unknown[], notes: readonly unknown[]): boolean =>
  msgs.every((m) => early !== null && sendsEarly(early, m)) && notes.every((n) => early !== null && notesEarly(early, n));
