/**
 * The client queue's schedule: frames are handled only after the current turn (never inside the
 * I/O callback that pushed them), at most `framesPerTurn` per turn, one per connection in turn;
 * a connection over its byte bound is paused and resumed at half of it, unless held. Sockets are
 * stood in by objects with the three stream methods the queue calls; runtime-limits.test.ts
 * drives it through real ones.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ClientQueue } from '../src/runtime/client-queue.js';

interface Conn {
  name: string;
  socket: Socket;
}

function conn(name: string): Conn {
  let paused = false;
  const socket = { pause: () => void (paused = true), resume: () => void (paused = false), isPaused: () => paused, destroyed: false };
  return { name, socket: socket as unknown as Socket };
}

const turn = () => new Promise((r) => setImmediate(r));

describe('ClientQueue', () => {
  it('handles frames after the turn, a bounded number per turn, connections taking turns', async () => {
    const handled: string[] = [];
    const q = new ClientQueue<Conn>(4, 1 << 20, (c, line) => handled.push(`${c.name}${line}`));
    const [a, b, c] = [conn('a'), conn('b'), conn('c')];
    for (let i = 0; i < 5; i++) q.push(a, String(i));
    for (let i = 0; i < 2; i++) q.push(b, String(i));
    q.push(c, '0');
    expect(handled).toEqual([]);
    await turn();
    expect(handled).toEqual(['a0', 'b0', 'c0', 'a1']);
    await turn();
    expect(handled.slice(4)).toEqual(['b1', 'a2', 'a3', 'a4']);
    expect(q.size).toBe(0);
  });

  it('pauses a connection over its bound, resumes it at half, and leaves a held one paused', async () => {
    let hold = false;
    const q = new ClientQueue<Conn>(1, 10, () => {}, () => hold);
    const a = conn('a');
    for (let i = 0; i < 4; i++) q.push(a, 'xxxx'); // 16 bytes > 10
    expect(a.socket.isPaused()).toBe(true);
    await turn(); // 12 bytes left
    expect(a.socket.isPaused()).toBe(true);
    hold = true;
    await turn();
    await turn(); // 4 bytes left, but held
    expect(a.socket.isPaused()).toBe(true);
    hold = false;
    q.push(a, 'y');
    await turn();
    expect(a.socket.isPaused()).toBe(false);
    expect(q.roomFor(a)).toBe(true);
  });

  it('stress: 50 connections pushing 200 frames each from many turns: every frame handled once, in order per connection', async () => {
    const seen = new Map<string, number[]>();
    const q = new ClientQueue<Conn>(32, 1 << 20, (c, line) => seen.get(c.name)!.push(Number(line)));
    const conns = Array.from({ length: 50 }, (_, i) => conn(`c${i}`));
    for (const c of conns) seen.set(c.name, []);
    for (let round = 0; round < 200; round += 20) {
      for (const c of conns) for (let i = round; i < round + 20; i++) q.push(c, String(i));
      await turn();
    }
    while (q.size > 0) await turn();
    for (const c of conns) expect(seen.get(c.name)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});
