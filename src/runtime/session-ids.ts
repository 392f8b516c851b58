/**
 * Runtime session ids and AgentCore Memory session ids follow different rules: the Runtime takes
 * 33 to 256 characters of anything printable, Memory 1 to 100 of `[a-zA-Z0-9][a-zA-Z0-9_-]*`. An
 * invocation never fails over that difference: an id Memory cannot take is mapped to one it can.
 */
import { createHash } from 'node:crypto'
import { explainIdViolation, SESSION_ID_RULE } from '../contract/index.ts'

/** Characters of the readable part kept in a mapped id. */
const READABLE_PREFIX_LENGTH = 40
/**
 * Hex characters of the digest: 128 bits, so two runtime ids that need mapping never share a memory
 * session. (A caller that sends a mapped id itself as its runtime id reaches that same session; the
 * actor still scopes it, so it is only ever the caller's own.)
 */
const DIGEST_LENGTH = 32

/**
 * The AgentCore Memory session id of a runtime session id, by a fixed rule:
 * - a runtime id that is already a valid Memory session id is used as it is;
 * - any other becomes `rt-<readable>-<digest>`: `<readable>` is its first 40 characters with every
 *   character outside `[a-zA-Z0-9_-]` replaced by `_`, and `<digest>` the first 32 hex characters
 *   of its SHA-256 (76 characters at most).
 *
 * The same runtime id always maps to the same Memory session, on every runtime process and in the
 * CLI (`longrun memory events --session` applies the same rule).
 */
export function memorySessionIdFor(runtimeSessionId: string): string {
  if (explainIdViolation(runtimeSessionId, SESSION_ID_RULE) === undefined) return runtimeSessionId
  const readable = runtimeSessionId.slice(0, READABLE_PREFIX_LENGTH).replace(/[^a-zA-Z0-9_-]/g, '_')
  const digest = createHash('sha256').update(runtimeSessionId, 'utf8').digest('hex').slice(0, DIGEST_LENGTH)
  return `rt-${readable}-${digest}`
}
