/** Variants build their machines when first read (src/lazy-variants.ts), once, and stay plain objects. */
import { createMachine } from 'xstate';
import { describe, expect, it } from 'vitest';
import { kitLoaders } from '../machines/kit.js';
import { lazyVariants } from '../src/lazy-variants.js';

const durable = () => ({});

describe('lazy variants', () => {
  it('builds a machine on the first read only, and the same one after', () => {
    let built = 0;
    const build = () => (built++, createMachine({ id: 'm', initial: 'a', states: { a: {} } }));
    const [v, w] = lazyVariants([
      { name: 'v', description: 'one', machine: build, durable },
      { name: 'w', description: 'two', machine: build, durable },
    ]);
    expect(built).toBe(0);
    const m = v.machine;
    expect(v.machine).toBe(m);
    expect(built).toBe(1);
    expect(Object.keys(v)).toEqual(['name', 'description', 'durable', 'machine']);
    expect({ ...w }.machine).toBe(w.machine);
    expect(built).toBe(2);
  });

  it('takes a machine assigned before or after the first read', () => {
    const one = createMachine({ id: 'one' });
    const other = createMachine({ id: 'other' });
    const [v, w] = lazyVariants(['v', 'w'].map((name) => ({ name, description: name, machine: () => one, durable })));
    v.machine = other;
    expect(v.machine).toBe(other);
    expect(w.machine).toBe(one);
    w.machine = other;
    expect(w.machine).toBe(other);
  });

  it("the kit's primitives build no variant's machine at import", async () => {
    for (const name of ['election', 'consensus', 'mutex', 'barrier']) {
      const protocol = await kitLoaders[name]();
      const unread = protocol.variants.filter((v) => typeof Object.getOwnPropertyDescriptor(v, 'machine')?.get === 'function');
      expect(unread.length, name).toBeGreaterThan(protocol.variants.length / 2);
    }
  });
});
