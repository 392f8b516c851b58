/** Limits of the Memory data plane (FACTS section 3), defined with the rest of the Memory API rules. */
export { MEMORY_LIMITS } from '../memory/limits.ts'
