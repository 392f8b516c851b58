/**
 * Retries for Memory API calls. Writes are retried with the same request (and so the same
 * clientToken), which is what makes a retry after a lost response safe.
 */
import { setTimeout as delay } from 'node:timers/promises'
import { errorName } from '../shared/error-name.ts'

/** How hard to retry a call that failed for a transient reason. */
export interface RetryPolicy {
  /** Attempts in total, first one included (>= 1). */
  readonly maxAttempts: number
  /** Backoff before the second attempt; doubles each time, with full jitter. */
  readonly baseDelayMs: number
  /** Upper bound of one backoff. */
  readonly maxDelayMs: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 100, maxDelayMs: 5_000 }

const RETRYABLE_NAMES = new Set([
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'InternalServerException',
  'InternalFailure',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
])

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
])

/** True for throttling, server-side failures and dropped connections: the call may succeed if repeated. */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const candidate = error as {
    name?: unknown
    code?: unknown
    $metadata?: { httpStatusCode?: number }
    $retryable?: unknown
  }
  if (typeof candidate.name === 'string' && RETRYABLE_NAMES.has(candidate.name)) return true
  if (typeof candidate.code === 'string' && RETRYABLE_NETWORK_CODES.has(candidate.code)) return true
  if (candidate.$retryable) return true
  const status = candidate.$metadata?.httpStatusCode
  return status === 429 || (typeof status === 'number' && status >= 500)
}

/**
 * True when the service answered with one of `names`: an answer repeating the same request cannot
 * change (a refused body, a memory that does not exist). Each caller names the answers it treats
 * so; an error {@link isRetryableError} would retry is never permanent.
 */
export function isPermanentError(error: unknown, names: ReadonlySet<string> | readonly string[]): boolean {
  const name = (error as { name?: unknown } | null | undefined)?.name
  if (typeof name !== 'string') return false
  const named = names instanceof Set ? names.has(name) : (names as readonly string[]).includes(name)
  return named && !isRetryableError(error)
}

/**
 * The wait before the next attempt once attempt `attempt` (1 for the first) failed: exponential
 * from `baseDelayMs`, capped at `maxDelayMs`, with jitter drawn from `random` (0..1). `full` jitter
 * (what {@link withRetry} uses) waits anywhere from 0 to the cap; `equal` jitter at least half of it.
 * Whole milliseconds.
 */
export function backoffDelayMs(
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
  attempt: number,
  random: () => number = Math.random,
  jitter: 'full' | 'equal' = 'full',
): number {
  // The exponent is capped so a long run of attempts never overflows to Infinity (or 0 * Infinity).
  const ceiling = Math.min(
    policy.maxDelayMs,
    policy.baseDelayMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30),
  )
  return Math.round(jitter === 'full' ? random() * ceiling : ceiling / 2 + (ceiling / 2) * random())
}

/** Where {@link withRetry} reports each retry: one `key=value | message` line per failed attempt. */
export interface RetryLog {
  /** The API operation, e.g. `CreateEvent`. */
  readonly operation: string
  /** What is retried, in the log line's message: `retrying <what>`. */
  readonly what: string
  readonly log: (line: string) => void
}

/**
 * Runs `call` until it succeeds, fails for a reason a retry cannot fix, or the attempts run out.
 * Every retry is logged through `retryLog` when given, so throttling is visible in the logs.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  call: () => Promise<T>,
  retryLog?: RetryLog,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call()
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isRetryableError(error)) throw error
      const waitMs = backoffDelayMs(policy, attempt)
      retryLog?.log(
        `operation=${retryLog.operation} attempt=${attempt} wait_ms=${waitMs} error=${errorName(error)} | retrying ${retryLog.what}`,
      )
      if (waitMs > 0) await delay(waitMs)
    }
  }
}
