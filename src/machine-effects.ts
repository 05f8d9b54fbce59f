/**
 * How a host reads a machine's step: the state value flattened to a name, and the returned
 * actions as plain effects. Shared by every host (simulator, timed simulator, TCP runtime).
 */
import type { StateValue } from 'xstate';
import type { NodeId } from './protocol.js';

/**
 * What a machine's actions ask of its host. `ref` fields memoize the host's interned form:
 * effects are cached with the step that produced them, so each is interned once.
 */
export type Effect =
  | { kind: 'send'; to: NodeId | 'others'; msg: any; ref?: unknown }
  | { kind: 'note'; note: any; ref?: unknown }
  | { kind: 'timer'; id: string; event: { type: string }; delayMs: number; ref?: unknown }
  | { kind: 'cancel'; id: string };

export function flattenValue(value: StateValue): string {
  if (typeof value === 'string') return value;
  return Object.entries(value)
    .map(([k, v]) => (v && (typeof v === 'string' || Object.keys(v).length) ? `${k}.${flattenValue(v)}` : k))
    .join(',');
}

/** Turns the actions xstate returns into effects a host executes (sends, notes, timers, cancels). */
export function effectsOf(actions: readonly any[]): Effect[] {
  const out: Effect[] = [];
  for (const a of actions) {
    if (a.type === 'xstate.emit') {
      const e = a.params.event;
      if (e.type === 'send') out.push({ kind: 'send', to: e.to, msg: e.msg });
      else if (e.type === 'note') out.push({ kind: 'note', note: e.note });
      else throw new Error(`machine emitted unknown event type ${JSON.stringify(e.type)} (expected send or note)`);
    } else if (a.type === 'xstate.raise') {
      if (a.params.delay === undefined) continue; // processed inside the macrostep
      out.push({ kind: 'timer', id: a.params.id ?? a.params.event.type, event: a.params.event, delayMs: a.params.delay });
    } else if (a.type === 'xstate.cancel') {
      out.push({ kind: 'cancel', id: a.params.sendId });
    }
  }
  return out;
}
