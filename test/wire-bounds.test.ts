/**
 * Bounded numbers on the wire: every number in every generated schema is an integer with a
 * minimum and a maximum (the bounds of src/bounds.ts), the validator refuses 2^53, -1 and 1.5
 * where a counter goes, and every machine ignores a message whose counter is out of bounds
 * even when it got past validation (fed straight to the pure machine here).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyMachineSnapshot, type AnyStateMachine } from 'xstate';
import { protocols } from '../machines/index.js';
import { BARRIER_ID } from '../machines/barrier/index.js';
import { isCounter, MAX_COUNTER, MAX_NODES, MAX_TOKEN } from '../src/bounds.js';
import { effectsOf } from '../src/machine-effects.js';
import { kitSchemaDir as schemasDir } from '../src/cli/protocol-source.js';
import { FrameValidator } from '../src/runtime/validator.js';

const OUT_OF_BOUNDS = [2 ** 53, MAX_COUNTER + 1, -1, 1.5];

/** Every schema node that types a number, with its path. */
function numbers(node: unknown, path: string, out: { path: string; schema: Record<string, unknown> }[]): void {
  if (Array.isArray(node)) return node.forEach((n, i) => numbers(n, `${path}/${i}`, out));
  if (node === null || typeof node !== 'object') return;
  const o = node as Record<string, unknown>;
  const types = Array.isArray(o.type) ? o.type : [o.type];
  if (types.includes('number') || types.includes('integer')) out.push({ path, schema: o });
  for (const [k, v] of Object.entries(o)) numbers(v, `${path}/${k}`, out);
}

/** The bound a field must carry, by the name of the field (items of a node list: by the list). */
function expectedMaximum(path: string): number | undefined {
  const field = path.split('/').filter((s) => !/^\d+$/.test(s) && s !== 'items').pop()!;
  if (['term', 'ts', 'version', 'generation', 'seq', 'id', 'round', 'pending'].includes(field)) return MAX_COUNTER;
  if (['node', 'from', 'to', 'for', 'leader', 'votes', 'arrived', 'stragglers', 'block', 'connected', 'NodeIdList'].includes(field)) return MAX_NODES;
  if (field === 'token') return MAX_TOKEN;
  return undefined;
}

describe('bounds', () => {
  it('leave room for what machines derive: a token of the largest timestamp and node is exact', () => {
    expect(MAX_TOKEN).toBe(Number.MAX_SAFE_INTEGER);
    expect(MAX_COUNTER * MAX_NODES + (MAX_NODES - 1)).toBe(MAX_TOKEN);
    expect(MAX_COUNTER + 1).not.toBe(MAX_COUNTER + 2);
    for (const v of [...OUT_OF_BOUNDS, NaN, Infinity, '1', null]) expect(isCounter(v), String(v)).toBe(false);
    for (const v of [0, 1, MAX_COUNTER]) expect(isCounter(v)).toBe(true);
  });
});

describe('generated schemas', () => {
  const files = readdirSync(schemasDir()).filter((f) => f.endsWith('.schema.json'));

  it.each(files)('%s: every number is an integer with a minimum and the bound its field names', (file) => {
    const found: { path: string; schema: Record<string, unknown> }[] = [];
    numbers(JSON.parse(readFileSync(join(schemasDir(), file), 'utf8')), '', found);
    expect(found.length).toBeGreaterThan(3);
    for (const { path, schema } of found) {
      const types = Array.isArray(schema.type) ? schema.type : [schema.type];
      expect(types, path).not.toContain('number');
      expect(typeof schema.minimum, `${path} has no minimum`).toBe('number');
      const expected = expectedMaximum(path);
      if (expected !== undefined) expect(schema.maximum, path).toBe(expected);
      else expect(typeof schema.maximum, `${path} has no maximum`).toBe('number');
    }
  });
});

describe('the validator', () => {
  const election = new FrameValidator(schemasDir(), 'election');
  const mutex = new FrameValidator(schemasDir(), 'mutex');
  const peer = (msg: object) => JSON.stringify({ type: 'peer', from: 2, to: 1, msg });

  it.each(OUT_OF_BOUNDS)('refuses a vote_request, a request timestamp, a node id and a request id of %s', (bad) => {
    expect(election.check(peer({ type: 'vote_request', term: bad, version: 0 }))).toMatchObject({ ok: false });
    expect(election.check(peer({ type: 'state_sync', term: 1, data: { version: bad, value: 'x' } }))).toMatchObject({ ok: false });
    expect(mutex.check(peer({ type: 'request', ts: bad }))).toMatchObject({ ok: false });
    expect(mutex.check(peer({ type: 'rejoin_ack', ts: 1, pending: bad }))).toMatchObject({ ok: false });
    expect(election.check(JSON.stringify({ type: 'peer', from: bad, to: 1, msg: { type: 'vote', term: 1, granted: true } }))).toMatchObject({ ok: false });
    expect(election.check(JSON.stringify({ type: 'request', id: bad, request: { type: 'client.status' } }))).toMatchObject({ ok: false });
  });

  it('accepts the largest counter and node id', () => {
    expect(election.check(peer({ type: 'vote_request', term: MAX_COUNTER, version: MAX_COUNTER }))).toMatchObject({ ok: true });
    expect(election.check(JSON.stringify({ type: 'peer', from: MAX_NODES, to: 1, msg: { type: 'vote', term: 1, granted: true } }))).toMatchObject({ ok: true });
    expect(election.check(peer({ type: 'vote_request', term: 2 ** 53, version: 0 }))).toEqual({ ok: false, reason: `bad vote_request message: /term must be <= ${MAX_COUNTER}` });
  });
});

const machineOf = (name: string): AnyStateMachine => {
  const p = protocols.find((x) => x.name === name)!;
  return p.variants.find((v) => v.name === p.defaultVariant)!.machine;
};

function run(machine: AnyStateMachine, input: { id: number; n: number }, events: object[]): AnyMachineSnapshot {
  let [snapshot] = initialTransition(machine, input);
  for (const e of events) [snapshot] = transition(machine, snapshot, e as never);
  return snapshot;
}

/** Every number in a value (deep). */
const numbersIn = (v: unknown): number[] =>
  typeof v === 'number' ? [v] : v && typeof v === 'object' ? Object.values(v).flatMap(numbersIn) : [];

/** The machine adopts nothing from the event: same state and context, and no effect repeats a number out of bounds. */
function ignores(machine: AnyStateMachine, snapshot: AnyMachineSnapshot, event: object): void {
  const [next, actions] = transition(machine, snapshot, event as never);
  const what = JSON.stringify(event);
  expect(next.value, what).toEqual(snapshot.value);
  expect(next.context, what).toEqual(snapshot.context);
  for (const effect of effectsOf(actions)) {
    const carried = numbersIn('msg' in effect ? effect.msg : 'note' in effect ? effect.note : {});
    expect(carried.every(isCounter), `${what} led to ${JSON.stringify(effect)}`).toBe(true);
  }
}

describe('machines ignore counters out of bounds, whatever validation let through', () => {
  it.each(OUT_OF_BOUNDS)('election: %s as a term or version', (bad) => {
    const m = machineOf('election');
    const follower = run(m, { id: 1, n: 3 }, []);
    for (const e of [
      { type: 'vote_request', term: bad, version: 0, from: 2 },
      { type: 'vote_request', term: 1, version: bad, from: 2 },
      { type: 'pre_vote_request', term: bad, version: 0, from: 2 },
      { type: 'vote', term: bad, granted: true, from: 2 },
      { type: 'leader_announce', term: bad, version: 0, from: 2 },
      { type: 'leader_ack', term: bad, version: 0, from: 2 },
      { type: 'state_sync', term: 0, data: { version: bad, value: 'forged' }, from: 2 },
    ]) ignores(m, follower, e);
    const candidate = run(m, { id: 1, n: 3 }, [{ type: 'election_timeout' }, { type: 'pre_vote', term: 1, granted: true, from: 2 }]);
    expect(candidate.value).toBe('candidate');
    ignores(m, candidate, { type: 'vote', term: bad, granted: false, from: 3 });
  });

  it('election: the largest term is adopted, and the next campaign is one higher (the guard is no blanket refusal)', () => {
    const m = machineOf('election');
    const adopted = run(m, { id: 1, n: 3 }, [{ type: 'vote_request', term: MAX_COUNTER, version: 0, from: 2 }]);
    expect(adopted.context.currentTerm).toBe(MAX_COUNTER);
    expect(adopted.context.votedFor).toBe(2);
    const campaign = run(m, { id: 3, n: 3, restored: { currentTerm: MAX_COUNTER, votedFor: null, data: { version: 0, value: null } } } as never, [
      { type: 'election_timeout' },
      { type: 'pre_vote', term: MAX_COUNTER + 1, granted: true, from: 1 },
    ]);
    expect(campaign.context.currentTerm).toBe(MAX_COUNTER + 1);
  });

  it.each(OUT_OF_BOUNDS)('consensus: %s as a term or a slot', (bad) => {
    const m = machineOf('consensus');
    const idle = run(m, { id: 1, n: 3 }, []);
    for (const [term, slot] of [[bad, 1], [1, bad]]) {
      for (const e of [
        { type: 'propose', term, slot, value: 'forged', from: 2 },
        { type: 'commit', term, slot, value: 'forged', from: 2 },
        { type: 'decided', term, slot, value: 'forged', from: 2 },
      ]) ignores(m, idle, e);
    }
    const proposing = run(m, { id: 1, n: 3 }, [{ type: 'client.propose', value: 'mine' }]);
    expect(proposing.value).toBe('proposing');
    const { term } = proposing.context;
    ignores(m, proposing, { type: 'promise', term, slot: 1, accepted: [{ slot: 1, term: bad, value: 'forged' }], from: 2 });
    ignores(m, proposing, { type: 'promise', term, slot: 1, accepted: [{ slot: bad, term: 1, value: 'forged' }], from: 2 });
  });

  it.each(OUT_OF_BOUNDS)('mutex: %s as a timestamp', (bad) => {
    const m = machineOf('mutex');
    const waiting = run(m, { id: 1, n: 3 }, [{ type: 'client.acquire' }]);
    for (const e of [
      { type: 'request', ts: bad, from: 2 },
      { type: 'reply', ts: bad, from: 2 },
      { type: 'release', ts: bad, from: 2 },
      { type: 'rejoin', ts: bad, from: 2 },
      { type: 'rejoin_ack', ts: bad, pending: null, from: 2 },
      { type: 'rejoin_ack', ts: 1, pending: bad, from: 2 },
    ]) ignores(m, waiting, e);
  });

  it.each(OUT_OF_BOUNDS)('barrier: %s as a generation', (bad) => {
    const m = machineOf('barrier');
    const unregistered = run(m, { id: 2, n: 3 }, []);
    expect(unregistered.value).toBe('unregistered');
    const release = { type: 'release', barrier: BARRIER_ID, generation: bad, arrived: [], stragglers: [], from: 1 };
    ignores(m, unregistered, { type: 'registered', barrier: BARRIER_ID, generation: bad, from: 1 });
    ignores(m, unregistered, release);
    const working = run(m, { id: 2, n: 3 }, [{ type: 'registered', barrier: BARRIER_ID, generation: 0, from: 1 }]);
    ignores(m, working, release);
    const waiting = run(m, { id: 2, n: 3 }, [{ type: 'registered', barrier: BARRIER_ID, generation: 0, from: 1 }, { type: 'client.arrive' }]);
    ignores(m, waiting, release);
  });
});
