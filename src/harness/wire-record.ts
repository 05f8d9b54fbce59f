/**
 * What the harness saw of a run, one record per event, in the order it saw them: every frame a
 * proxy read from a node and what became of it, every frame a proxy wrote to a node, the links
 * a node opened and lost, the notes and answers its clients received, and the faults and
 * processes the harness started and killed. This record is the run's trace: an implementation
 * writes none of its own. `time` comes from the kit's trace clock (trace-clock.ts).
 */
export type Msg = { type: string; [field: string]: unknown };

/** What became of a frame a proxy read. */
export type Fate = 'delivered' | 'delayed' | 'partition' | 'dropped' | 'unreachable';

export type WireRecord =
  | { time: number; kind: 'start'; node: number; pid: number }
  | { time: number; kind: 'kill'; node: number }
  | { time: number; kind: 'exit'; node: number; status: string }
  /** The harness's client reached the node: its notes are seen from here on. */
  | { time: number; kind: 'observe'; node: number }
  /** A proxy read a peer frame from `node`, addressed to `to`. */
  | { time: number; kind: 'send'; node: number; to: number; msg: Msg; fate: Fate }
  /** A proxy wrote a peer frame to `node`. */
  | { time: number; kind: 'deliver'; node: number; from: number; msg: Msg }
  /** A frame from `node` that the contract refuses (not forwarded). */
  | { time: number; kind: 'invalid'; node: number; to: number; line: string; reason: string }
  /** The node's connection to the proxy of its link to `to` opened or closed (frames on a closed one may be lost). */
  | { time: number; kind: 'link'; node: number; to: number; up: boolean }
  | { time: number; kind: 'note'; node: number; note: Msg }
  | { time: number; kind: 'request'; node: number; request: Msg }
  /** The answer to a request: a reply (state after, notes), or an error (with the refusing note, if any). */
  | { time: number; kind: 'answer'; node: number; state?: string; notes: Msg[]; error?: string }
  | { time: number; kind: 'fault'; op: 'partition' | 'heal' | 'delay' | 'drop'; sides?: number[][]; ms?: number; links?: [number, number][]; rate?: number };
