/**
 * Progress of long explorations on stderr: a line rewritten in place on a terminal, one line
 * every few seconds otherwise (CI logs).
 */
import type { ExploreProgress } from './explore.js';

export function progressPrinter(label: string, stream: NodeJS.WriteStream = process.stderr): { update(p: ExploreProgress): void; done(): void } {
  const tty = !!stream.isTTY;
  const intervalMs = tty ? 250 : 5000;
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < intervalMs) return;
      last = now;
      const rate = Math.round((p.states / Math.max(p.elapsedMs, 1)) * 1000);
      const line = `${label}: ${p.states.toLocaleString('en-US')} states, ${rate.toLocaleString('en-US')}/s, depth ${p.depth}${p.frontier === undefined ? '' : `, frontier ${p.frontier.toLocaleString('en-US')}`}`;
      if (tty) {
        stream.write(`\r\x1b[K${line}`);
        drawn = true;
      } else stream.write(line + '\n');
    },
    done() {
      if (drawn) stream.write('\r\x1b[K');
    },
  };
}
