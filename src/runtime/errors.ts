/**
 * Errors of the agent runtime, each with a stable `code`; {@link httpStatusOf} is the one place a
 * code becomes an HTTP status. A client sees `{ "error": { "code", "message", "field"? } }` (or an
 * `error` stream event), never a stack or an internal message.
 */

/** Stable codes of {@link RuntimeError}. */
export type RuntimeErrorCode =
  /** A field of the request is missing or invalid (`field` names it). */
  | 'INVALID_REQUEST'
  /** Neither the payload's `memory_id` nor `MEMORY_ID` names a memory. */
  | 'MEMORY_ID_MISSING'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHENTICATED'
  /** Tokens cannot be checked right now (the key set is out of reach). */
  | 'AUTH_UNAVAILABLE'
  /** The caller may not act as the actor, or use the memory, it named. */
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  /** On a loopback address, the request's Host is not a loopback name (DNS rebinding). */
  | 'HOST_NOT_ALLOWED'
  /** A web page's request: its Origin is neither the runtime's own nor allowed. */
  | 'ORIGIN_NOT_ALLOWED'
  /** The memory named does not exist. */
  | 'MEMORY_NOT_FOUND'
  /** AgentCore Memory could not be read or written. */
  | 'MEMORY_UNAVAILABLE'
  /** The model (Bedrock, the OpenAI endpoint) failed. */
  | 'MODEL_ERROR'
  /** The turn ran past its time limit and was stopped. */
  | 'TURN_TIMEOUT'
  | 'SHUTTING_DOWN'
  /** The caller went away and the runtime is set to abort such turns. */
  | 'CANCELLED'
  /**
   * A turn of the same conversation is in progress: retry once it ends (the 409 AgentCore Runtime
   * answers, as `RetryableConflictException`, for concurrent access to one session).
   */
  | 'SESSION_BUSY'
  /** An answer names a question this session is not waiting on (answered already, or never asked). */
  | 'INTERRUPT_NOT_FOUND'
  /** The session waits on answers (`interrupt` events) and was sent a prompt: answer them first. */
  | 'INTERRUPT_PENDING'
  /** A wake names a task whose result is not in the actor's session (unknown, another's, not delivered). */
  | 'WAKE_TASK_NOT_FOUND'
  | 'INTERNAL'

const HTTP_STATUS: Record<RuntimeErrorCode, number> = {
  INVALID_REQUEST: 400,
  MEMORY_ID_MISSING: 400,
  PAYLOAD_TOO_LARGE: 413,
  UNAUTHENTICATED: 401,
  AUTH_UNAVAILABLE: 503,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  HOST_NOT_ALLOWED: 403,
  ORIGIN_NOT_ALLOWED: 403,
  MEMORY_NOT_FOUND: 404,
  WAKE_TASK_NOT_FOUND: 404,
  MEMORY_UNAVAILABLE: 502,
  MODEL_ERROR: 502,
  TURN_TIMEOUT: 504,
  SHUTTING_DOWN: 503,
  // "Client closed request": nobody reads it, but logs and the stream's last event say why.
  CANCELLED: 499,
  SESSION_BUSY: 409,
  // Not 409: AgentCore hands a 409 on as RetryableConflictException, which SDKs retry; these are not
  // cured by waiting.
  INTERRUPT_NOT_FOUND: 404,
  INTERRUPT_PENDING: 400,
  INTERNAL: 500,
}

/** A failure the runtime reports to its caller with a clear message. */
export class RuntimeError extends Error {
  readonly code: RuntimeErrorCode
  /** The offending request field or header, when there is one. */
  readonly field: string | undefined

  constructor(code: RuntimeErrorCode, message: string, options?: ErrorOptions & { field?: string }) {
    super(message, options)
    this.name = 'RuntimeError'
    this.code = code
    this.field = options?.field
  }
}

/** The HTTP status of a code. */
export function httpStatusOf(code: RuntimeErrorCode): number {
  return HTTP_STATUS[code]
}

/** The body a client receives for `error`. */
export function errorBody(error: RuntimeError): { error: { code: string; message: string; field?: string } } {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.field !== undefined && { field: error.field }),
    },
  }
}

/**
 * The message of `INTERRUPT_PENDING`, naming the questions the session waits on. A refusal through
 * AgentCore carries only its code and message, so a client reads the ids back with
 * `pendingInterruptIdsIn` (the two are kept together, here).
 */
export function interruptPendingMessage(ids: readonly string[]): string {
  return `the session waits on answers to ${ids.join(', ')}: send interrupt_responses first`
}

/** The question ids an `INTERRUPT_PENDING` message names (empty when it names none). */
export function pendingInterruptIdsIn(message: string): string[] {
  const [, list] = /waits on answers to (.+?): send interrupt_responses first/.exec(message) ?? []
  return list === undefined ? [] : list.split(', ').filter((id) => id !== '')
}
