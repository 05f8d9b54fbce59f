/**
 * Freezes what of `value` is not frozen yet: the parts a machine step made (what it kept from the
 * context before was frozen at that step), so each step costs what it made. A node host and the
 * checker freeze every context a machine returns: a machine replaces its context and never edits
 * it, and one that does edit it in place fails on that step, in the checker as in a node.
 */
export function freezeNew(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const v of Object.values(value)) freezeNew(v);
}

/** What a machine threw, saying so when it edited a frozen context. */
export function thrownWhy(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return err instanceof TypeError && /read.only|not extensible|frozen/i.test(message) ? `${message} (it edited its context in place: a machine must replace its context, never edit it; contexts are frozen)` : message;
}
