/** The smallest number of nodes that any two groups of it share at least one node: ⌊n/2⌋ + 1. */
export const majority = (n: number): number => Math.floor(n / 2) + 1;

/** The most nodes a majority quorum survives losing for good: ⌊(n − 1)/2⌋ (n − minority is still a majority). */
export const minority = (n: number): number => Math.floor((n - 1) / 2);
