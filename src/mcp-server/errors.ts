/**
 * Errors of the long-running MCP server, each with a stable `code`; `error-mapping.ts` is the one
 * place that turns a code into an HTTP status or a JSON-RPC error.
 */
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'

/** Stable codes of {@link McpServerError}. */
export type McpServerErrorCode =
  | 'UNAUTHENTICATED'
  /** Tokens cannot be checked right now (the JWKS is out of reach). */
  | 'AUTH_UNAVAILABLE'
  | 'FORBIDDEN'
  /** A Host or Origin outside the allowed names (DNS-rebinding protection). */
  | 'HOST_NOT_ALLOWED'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'BODY_TOO_LARGE'
  /** The body is not JSON. */
  | 'PARSE_ERROR'
  /** Not a JSON-RPC message this server can take (an empty batch, say). */
  | 'INVALID_REQUEST'
  /** Params that do not fit the method (a missing tool name, a task id that is not a string). */
  | 'INVALID_PARAMS'
  | 'UNKNOWN_TOOL'
  /** A tool's arguments failed its schema: answered as a tool error the model can correct. */
  | 'INVALID_ARGUMENTS'
  | 'TASK_NOT_FOUND'
  | 'TASK_ALREADY_ENDED'
  | 'INVALID_CURSOR'
  /** More tasks wait than the queue holds: retry later (nothing was stored). */
  | 'QUEUE_FULL'
  /** The server is stopping and takes no new work: retry on another replica or later. */
  | 'SHUTTING_DOWN'
  /** The task backend (Redis) is out of reach: retry later (nothing was stored). */
  | 'BACKEND_UNAVAILABLE'
  /** Another live process holds what this one needs (a data directory). */
  | 'IN_USE'
  | 'INVALID_CONFIG'

/** A failure the server reports to its caller with a clear message (never a stack). */
export class McpServerError extends Error {
  readonly code: McpServerErrorCode
  /** The offending input field, when there is one. */
  readonly field: string | undefined
  /** How long to wait before retrying, when the failure is one a retry can fix. */
  readonly retryAfterMs: number | undefined

  constructor(
    code: McpServerErrorCode,
    message: string,
    options?: ErrorOptions & { field?: string; retryAfterMs?: number },
  ) {
    super(message, options)
    this.name = 'McpServerError'
    this.code = code
    this.field = options?.field
    this.retryAfterMs = options?.retryAfterMs
  }
}

/**
 * A JSON-RPC error answered as is (the SDK sends `code`, `message` and `data` of whatever a handler
 * throws); unlike the SDK's McpError its message carries no "MCP error" prefix, so a client that
 * adds its own prefix shows it once.
 */
export class JsonRpcError extends Error {
  readonly code: number
  readonly data: unknown

  constructor(code: number, message: string, data?: unknown) {
    super(message)
    this.name = 'JsonRpcError'
    this.code = code
    this.data = data
  }
}

/**
 * The one "task not found": a missing id and another owner's id answer alike. `field` is the
 * argument that named it (`taskId` in tasks/*, `task_id` in the task tools).
 */
export function taskNotFound(taskId: string, field = 'taskId'): McpServerError {
  return new McpServerError('TASK_NOT_FOUND', `Task not found: ${echo(taskId)}`, { field })
}

/**
 * A value repeated in an error message, cut to `max` characters: a 3 MB tool name must not come
 * back as a 3 MB error.
 */
export function echo(value: string, max: number = MCP_SERVER_DEFAULTS.echoChars): string {
  const shown = JSON.stringify(value.length <= max ? value : value.slice(0, max))
  return value.length <= max ? shown : `${shown}... (${value.length} characters)`
}
