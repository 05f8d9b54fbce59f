/** The ghost history's notes of one type, typed by the primitive's note union. */
import type { GhostNote, WorldView } from './protocol.js';

export function notesOf<N extends { type: string }, T extends N['type']>(w: WorldView<any, N>, type: T): GhostNote<Extract<N, { type: T }>>[] {
  return w.history.filter((h): h is GhostNote<Extract<N, { type: T }>> => h.note.type === type);
}
