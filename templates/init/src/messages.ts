/**
 * The wire types: what nodes send each other, what a client may ask, what a node notes.
 * `coordkit schemas --protocol dist/protocol.js` generates their JSON Schemas.
 */

/** Node 1 tells every other node. */
export interface AnnounceMessage {
  type: 'announce';
}
/** A node tells node 1 it heard the announcement. */
export interface AckMessage {
  type: 'ack';
}
export type BroadcastMessage = AnnounceMessage | AckMessage;

/** Asks node 1 to announce. */
export interface AnnounceRequest {
  type: 'client.announce';
}
export type BroadcastClient = AnnounceRequest;

/** A node heard the announcement. */
export interface HeardNote {
  type: 'heard';
}
/** Node 1 knows every node heard it. */
export interface CompleteNote {
  type: 'complete';
}
export type BroadcastNote = HeardNote | CompleteNote;
