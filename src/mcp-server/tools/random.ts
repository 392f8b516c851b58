/** A small seeded random generator, so generated data sets are the same for the same seed (and re-runs). */
import { createHash } from 'node:crypto'

export { seededRandom } from '../../shared/seeded-random.ts'

/** A 32-bit seed from any text. */
export function seedFromText(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32LE(0)
}

/** Standard normal samples (Box-Muller). */
export function normal(random: () => number): number {
  const u = 1 - random()
  const v = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
}
