/**
 * The console's errors: one class with a stable code, and the one place that maps a code to the
 * HTTP status it answers with, and whatever failed behind the console to a code.
 */
import { TaskToolError } from './task-tool-error.ts'

const STATUS = {
  UNAUTHENTICATED: 401,
  FORBIDDEN_HOST: 403,
  INVALID_REQUEST: 400,
  NOT_FOUND: 404,
  UNAVAILABLE: 503,
} as const

/** A console error with the HTTP status it answers with. */
export class ConsoleError extends Error {
  readonly code: keyof typeof STATUS
  readonly status: number
  constructor(code: ConsoleError['code'], message: string) {
    super(message)
    this.name = 'ConsoleError'
    this.code = code
    this.status = STATUS[code]
  }
}

/**
 * The one mapping from what can fail behind the console to its answer: a service that refused the
 * request (an AWS 4xx, a task tool's refusal, a bad id) is the caller's INVALID_REQUEST or
 * NOT_FOUND, in the service's words; anything else is UNAVAILABLE.
 */
export function toConsoleError(error: unknown): ConsoleError {
  if (error instanceof ConsoleError) return error
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
  if (error instanceof TaskToolError)
    return new ConsoleError(
      error.code === 'TASK_NOT_FOUND' ? 'NOT_FOUND' : 'INVALID_REQUEST',
      `${error.code}: ${error.message}`,
    )
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode
  if (status === 404) return new ConsoleError('NOT_FOUND', message)
  if (status !== undefined && status >= 400 && status < 500)
    return new ConsoleError('INVALID_REQUEST', message)
  // Our own checks of ids (a composite session header, an id rule) carry a code of their own.
  if (typeof (error as { code?: unknown } | null)?.code === 'string' && !(error instanceof TypeError))
    return new ConsoleError('INVALID_REQUEST', message)
  return new ConsoleError('UNAVAILABLE', message)
}
