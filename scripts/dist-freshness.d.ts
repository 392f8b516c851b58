/** Types of dist-freshness.js (plain JavaScript, so bin/longrun.js can use it before any TypeScript loads). */
export function newestSourceChange(root: string): number
export function distIsFresh(root: string): boolean
export function stampDist(root: string, startedAt: number): void
