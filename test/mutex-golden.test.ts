/**
 * Lamport's algorithm needs FIFO channels. On an unordered network the verified machine
 * breaks mutual exclusion: a reply overtakes the request it follows, and the receiver enters
 * without knowing that request. The shortest counterexample is kept as golden files (prose trace
 * and Mermaid sequence diagram). Regenerate with
 * `UPDATE_GOLDEN=1 npx vitest run test/mutex-golden.test.ts` and commit the diff only if you
 * understand it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mutex } from '../machines/mutex/index.js';
import { describeRun } from '../src/check/describe-run.js';
import { explore } from '../src/check/explore.js';
import { createModel } from '../src/check/model.js';
import { replay } from '../src/check/replay.js';
import { sequenceDiagram } from '../src/trace/sequence-diagram.js';

const golden = (name: string) => fileURLToPath(new URL(`./golden/${name}`, import.meta.url));

function matchesGolden(name: string, actual: string): void {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden(name), actual);
  expect(actual).toBe(readFileSync(golden(name), 'utf8'));
}

describe('mutex on an unordered network', () => {
  const model = createModel(mutex, { network: 'unordered' });
  const result = explore(model);
  const violation = result.violations.find((v) => v.invariant === 'mutual exclusion');

  it('the verified machine violates mutual exclusion, with no fault at all', () => {
    expect(violation).toBeDefined();
    expect(model.config.variant).toBe('lamport');
    expect(model.config.faults).toEqual([]);
    expect(violation!.steps).toHaveLength(10);
  });

  it('reproduces the golden counterexample trace exactly', () => {
    matchesGolden('mutex-unordered.trace.txt', describeRun(violation!.steps, 3).join('\n') + '\n');
  });

  it('reproduces the golden Mermaid sequence diagram exactly', () => {
    matchesGolden('mutex-unordered.mmd', sequenceDiagram(violation!.steps, 3, 'mutex lamport on an unordered network: mutual exclusion') + '\n');
  });

  it('the counterexample replays from its path and ends with two holders', () => {
    const { worlds, sim } = replay(model, violation!.path);
    const last = sim.view(worlds[worlds.length - 1]);
    expect(last.nodes.filter((v) => v.state === 'critical').map((v) => v.id)).toHaveLength(2);
  });

  it('a reply overtook the request sent before it on the same channel', () => {
    const steps = violation!.steps;
    const key = (from: number, to: number, msg: unknown) => `${from}->${to} ${JSON.stringify(msg)}`;
    const sentAt = new Map<string, number>();
    steps.forEach((s, i) => s.sends.forEach((m) => sentAt.set(key(m.from, m.to, m.msg), sentAt.get(key(m.from, m.to, m.msg)) ?? i)));
    const deliveries = steps.flatMap((s) => (s.choice.kind === 'deliver' ? [{ ...s.choice, sent: sentAt.get(key(s.choice.from, s.choice.to, s.choice.msg.msg))! }] : []));
    const overtakes = deliveries.filter((d, i) => deliveries.slice(i + 1).some((e) => e.from === d.from && e.to === d.to && e.sent < d.sent));
    expect(overtakes.map((d) => `${d.from}->${d.to} ${d.msg.msg.type}`)).toEqual(['1->3 reply']);
  });
});
