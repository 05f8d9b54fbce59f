/** The smallest number of nodes that any two groups of it share at least one node: ⌊n/2⌋ + 1. */
export const majority = (n: number): number => Math.floor(n / 2) + 1;
