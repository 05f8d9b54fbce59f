/**
 * Variants whose machines are built when first read. Building an XState machine costs
 * milliseconds of CPU (every state node is resolved), and a primitive lists many variants, while
 * a node runs one and a check reads one: building all of them at import was a node's largest cost
 * after loading its modules. A variant stays a plain object with a `machine` property (enumerable,
 * assignable); reading it the first time builds the machine, and later reads get the same one.
 */
import type { AnyStateMachine } from 'xstate';
import type { Variant } from './protocol.js';

/** A variant as written: its machine as a function that builds it. */
export type LazyVariant = Omit<Variant, 'machine'> & { machine: () => AnyStateMachine };

/** The variants, each building its machine on the first read of `machine`. */
export function lazyVariants(variants: readonly LazyVariant[]): Variant[] {
  return variants.map(({ machine: build, ...rest }) => {
    const variant = rest as Variant;
    const settle = (machine: AnyStateMachine) => {
      Object.defineProperty(variant, 'machine', { value: machine, enumerable: true, writable: true, configurable: true });
      return machine;
    };
    Object.defineProperty(variant, 'machine', { get: () => settle(build()), set: settle, enumerable: true, configurable: true });
    return variant;
  });
}
