/**
 * A small crash soak in the suite: 8 kill -9 over a consensus and a mutex cluster with clients
 * working, nothing violated or lost, every restart answered (`npm run soak` does 100 or more).
 * The lost-decision check is shown to catch a node that restarts without what it told a client.
 * Needs `npx tsc -p .` first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lostDecisions, runSoak, soakKills, soakTable } from '../bench/crash-soak.js';
import type { NodeRecord } from '../src/runtime/trace-log.js';

const root = mkdtempSync(join(tmpdir(), 'coordkit-soak-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const SEED = process.env.SOAK_SEED !== undefined ? Number(process.env.SOAK_SEED) : Math.floor(Math.random() * 2 ** 31);

describe(`crash soak (SOAK_SEED=${SEED})`, () => {
  it('8 kill -9 across consensus and mutex clusters with clients working: no violation, no lost decision, no failed restart', async () => {
    const report = await runSoak({ kills: 8, killsPerRound: 4, seed: SEED, dir: root });
    const table = soakTable(report);
    expect(report.ok, `SOAK_SEED=${SEED}\n${table}`).toBe(true);
    expect(soakKills(report)).toBe(8);
    for (const row of report.rows) {
      expect(row.rounds, row.primitive).toBe(1);
      expect(row.operations, row.primitive).toBeGreaterThan(0);
    }
    expect(table).toMatch(/^primitive\s+nodes\s+rounds\s+kills\s+operations\s+violations\s+lost decisions\s+failed restarts/);
  }, 240_000);

  it('a node that restarts without a value it applied or told a client for a slot, or with a clock behind a grant, is a lost decision', () => {
    const record = (seq: number, kind: NodeRecord['kind'], extra: Partial<NodeRecord>): NodeRecord => ({ node: 1, seq, time: seq, kind, after: 'x', context: {}, sends: [], notes: [], timers: [], cancels: [], ...extra });
    const applied = { type: 'applied', slot: 2, term: 2, value: 'scale_up' };
    const decision = { type: 'decision', slot: 2, value: 'scale_up', proposal: 'scale_up' };
    const told = [{ type: 'note' as const, node: 1, note: applied }, { type: 'note' as const, node: 1, note: decision }];
    const restored = (log: (string | null)[]) => ({ restored: { promised: 2, accepted: [], log, proposal: null } });
    const kept = [record(0, 'init', { restored: null }), record(1, 'peer', { notes: [applied, decision] }), record(2, 'init', restored(['hold', 'scale_up']))];
    expect(lostDecisions('consensus', told, [kept])).toEqual([]);
    // Per slot: the value known for slot 1 is not the one told for slot 2.
    for (const log of [[], ['scale_up'], ['scale_up', null]]) {
      const forgot = [...kept.slice(0, 2), record(2, 'init', restored(log))];
      expect(lostDecisions('consensus', told, [forgot])).toEqual([expect.stringMatching(/node 1 told a client .*"applied".*, then restarted \(record 2\)/), expect.stringMatching(/node 1 told a client .*"decision".*, then restarted \(record 2\)/)]);
    }

    const enter = { type: 'enter', ts: 7, token: 21 };
    const grant = [{ type: 'note' as const, node: 1, note: enter }];
    const behind = [record(0, 'init', { restored: null }), record(1, 'peer', { notes: [enter] }), record(2, 'init', { restored: { clockBound: 3 } })];
    expect(lostDecisions('mutex', grant, [behind])).toHaveLength(1);
    expect(lostDecisions('mutex', grant, [[...behind.slice(0, 2), record(2, 'init', { restored: { clockBound: 9 } })]])).toEqual([]);
  });
});
