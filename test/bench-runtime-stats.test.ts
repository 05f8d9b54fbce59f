/**
 * The runtime bench's pacing and warm-up: a paced request takes at least PACE_MS, the warm-up
 * runs for its seconds and hands back the timings its requests returned, and `settling` gives
 * the p50 of each whole window, in order.
 */
import { describe, expect, it } from 'vitest';
import { PACE_MS, paced, settling, warmUp, WARMUP_REQUEST_SECONDS, WINDOW } from '../bench/runtime-stats.js';

describe('runtime bench pacing and warm-up', () => {
  it('a paced request that returns at once still takes PACE_MS, and gives its result', async () => {
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) expect(await paced(async () => i)).toBe(i);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20 * PACE_MS - 1);
  });

  it('the warm-up runs for its seconds and keeps the numbers its requests return', async () => {
    let calls = 0;
    const t0 = performance.now();
    const ms = await warmUp(async (i) => {
      calls++;
      return i % 2 ? i : undefined;
    });
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(WARMUP_REQUEST_SECONDS * 1000);
    expect(took).toBeLessThan(WARMUP_REQUEST_SECONDS * 1000 + 500);
    expect(calls).toBeGreaterThan(10);
    expect(calls).toBeLessThanOrEqual(Math.ceil((WARMUP_REQUEST_SECONDS * 1000) / PACE_MS) + 1);
    expect(ms).toEqual(Array.from({ length: Math.floor(calls / 2) }, (_, k) => 2 * k + 1));
  }, 10_000);

  it('settling is the p50 of each whole window, a part window left out', () => {
    const ms = [...Array.from({ length: WINDOW }, (_, i) => (i % 2 ? 3 : 1)), ...Array.from({ length: WINDOW }, () => 0.5), 9];
    expect(settling(ms)).toBe(`1.00, 0.50 ms (p50 of each ${WINDOW})`);
    expect(settling(ms.slice(0, WINDOW - 1))).toBe(`fewer than ${WINDOW} requests`);
  });
});
