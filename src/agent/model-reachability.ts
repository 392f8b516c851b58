/**
 * Whether a model failure means the endpoint could not be reached at all (refused, not resolved,
 * timed out, cut off), as opposed to an answer the provider gave. Only then can an error name the
 * endpoint and a network code without quoting the provider, whose messages can name accounts.
 */

/** Node's and undici's codes of a connection that could not be made or was lost. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_SOCKET',
])

/** The openai SDK's errors for a request that got no answer (it keeps the cause only sometimes). */
const CONNECTION_ERROR_CLASSES: ReadonlyMap<string, string> = new Map([
  ['APIConnectionTimeoutError', 'timed out'],
  ['APIConnectionError', 'no connection'],
])

/**
 * Why the model's endpoint could not be reached (`ECONNREFUSED`, `ENOTFOUND`, `timed out`, ...),
 * found along the error's causes; undefined when the endpoint answered (or the cause is unknown).
 */
export function modelUnreachableReason(error: unknown): string | undefined {
  let fallback: string | undefined
  let current: unknown = error
  for (let depth = 0; depth < 8 && current instanceof Error; depth += 1) {
    const code = (current as { code?: unknown }).code
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code
    // The AWS SDK's request timeout.
    if (current.name === 'TimeoutError') return 'timed out'
    fallback ??= CONNECTION_ERROR_CLASSES.get(current.constructor.name)
    current = current.cause
  }
  return fallback
}
