/**
 * Errors of the memory session manager. Callers branch on `code`, never on message text.
 */
import { errorName } from '../shared/error-name.ts'

export { errorName }

/** Stable codes of {@link MemorySessionError}. */
export type MemorySessionErrorCode =
  'INVALID_CONFIG' | 'WRITE_FAILED' | 'READ_FAILED' | 'ALREADY_ATTACHED' | 'UNSUPPORTED' | 'CLOSED'

/** Any failure of the memory session manager that a caller may need to act on. */
export class MemorySessionError extends Error {
  readonly code: MemorySessionErrorCode

  constructor(code: MemorySessionErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'MemorySessionError'
    this.code = code
  }
}

/** A configuration value is wrong; `field` names it so the caller can fix it. Nothing was written. */
export class MemoryConfigError extends MemorySessionError {
  readonly field: string

  constructor(field: string, problem: string) {
    super('INVALID_CONFIG', `${field}: ${problem}`)
    this.name = 'MemoryConfigError'
    this.field = field
  }
}

/** Name and message of a failure, for a reason kept with a refused write. */
export function errorMessage(error: unknown): string {
  const name = errorName(error)
  const message = error instanceof Error ? error.message : ''
  return message && message !== name ? `${name}: ${message}` : name
}

/** The service's own error behind a {@link MemorySessionError}, or the error itself. */
export function rootCause(error: unknown): unknown {
  return error instanceof MemorySessionError && error.cause ? error.cause : error
}
