/**
 * Limits of the Memory data plane (AgentCore's published API model), defined with the rest of the
 * Memory API rules; and the largest request body the local service reads.
 */
export { MEMORY_LIMITS } from '../memory/limits.ts'

/** Largest JSON request body the local service reads: 100 payloads of 100,000 characters fit. */
export const MAX_REQUEST_BODY_BYTES = 32 * 1024 * 1024
