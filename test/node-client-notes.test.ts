/**
 * A note the node pushes in the same read as its hello reaches a listener given to `open` (as the
 * harness gives it): once, and before the notes that follow.
 */
import { createServer, type Server } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { encodeFrame } from '../src/runtime/framing.js';
import { NodeClient } from '../src/runtime/node-client.js';
import { WIRE_VERSION, type NoteFrame } from '../src/runtime/wire.js';

let server: Server | undefined;
afterEach(() => server?.close());

it('a note sent with the hello, in one write, is handed to the listener given to open, once', async () => {
  const voted = { type: 'note', node: 2, note: { type: 'voted', term: 1, for: 1 } };
  const elected = { type: 'note', node: 2, note: { type: 'elected', term: 1 } };
  let later: () => void = () => {};
  server = createServer((socket) => {
    socket.once('data', () => {
      socket.write(encodeFrame({ type: 'hello', cluster: 'c', version: WIRE_VERSION, node: 2 }) + encodeFrame(voted));
      later = () => socket.write(encodeFrame(elected));
    });
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const seen: NoteFrame[] = [];
  const client = await NodeClient.open({ host: '127.0.0.1', port }, 'c', 'test', 2000, undefined, { onNote: (f) => seen.push(f) });
  expect(seen).toEqual([voted]);
  later();
  await expect.poll(() => seen.length, { timeout: 2000 }).toBe(2);
  expect(seen).toEqual([voted, elected]);
  expect(client.notes).toEqual([voted, elected]);
  client.close();
}, 10_000);
