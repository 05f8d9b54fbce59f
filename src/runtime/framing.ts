/**
 * NDJSON framing: splits a byte stream into lines, with a size limit per frame. A line longer
 * than the limit is reported as soon as it exceeds it and skipped up to its newline, so one oversized frame never
 * makes the reader buffer without bound or lose the frames after it.
 */
export type FrameEvent = { kind: 'line'; text: string } | { kind: 'oversized'; bytes: number };

export class LineSplitter {
  private parts: Buffer[] = [];
  private buffered = 0;
  /** True while skipping the rest of an oversized line. */
  private skipping = false;

  constructor(private readonly maxFrameBytes: number) {}

  /** Feeds one chunk; returns the complete frames (and oversize reports) it finished. */
  push(chunk: Buffer): FrameEvent[] {
    const out: FrameEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      const piece = chunk.subarray(start, end);
      if (this.skipping) {
        // the rest of an oversized line: already reported, dropped unread
      } else if (this.buffered + piece.length > this.maxFrameBytes) {
        this.skipping = true;
        out.push({ kind: 'oversized', bytes: this.buffered + piece.length });
        this.parts = [];
        this.buffered = 0;
      } else {
        this.parts.push(piece);
        this.buffered += piece.length;
      }
      if (nl === -1) break;
      if (!this.skipping) {
        const text = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
        if (text.trim() !== '') out.push({ kind: 'line', text });
      }
      this.parts = [];
      this.buffered = 0;
      this.skipping = false;
      start = nl + 1;
    }
    return out;
  }
}

/** One frame as it goes on the wire. */
export const encodeFrame = (frame: object): string => JSON.stringify(frame) + '\n';

/**
 * Writes a frame, gathering every frame written to the socket in the same tick into one write:
 * a flush releases the sends, notes and replies of many steps at once, and each write of its
 * own would be a TLS record and a system call (the socket has TCP_NODELAY, so nothing else joins
 * them). Sent once the current tick's code is done, before any I/O is polled.
 */
export function writeInTick(socket: { cork(): void; uncork(): void; writableCorked: number; write(line: string | Uint8Array): boolean }, line: string | Uint8Array): void {
  if (!socket.writableCorked) {
    socket.cork();
    process.nextTick(() => socket.uncork());
  }
  socket.write(line);
}
