/** Errors of the long-running MCP server, each with a stable `code` the HTTP and JSON-RPC layers map. */

/** Stable codes of {@link McpServerError}. */
export type McpServerErrorCode =
  | 'UNAUTHENTICATED'
  /** Tokens cannot be checked right now (the JWKS is out of reach). */
  | 'AUTH_UNAVAILABLE'
  | 'FORBIDDEN'
  | 'TASK_NOT_FOUND'
  | 'TASK_ALREADY_ENDED'
  | 'INVALID_ARGUMENTS'
  | 'UNKNOWN_TOOL'
  | 'INVALID_CURSOR'
  | 'INVALID_CONFIG'

/** A failure the server reports to its caller with a clear message (never a stack). */
export class McpServerError extends Error {
  readonly code: McpServerErrorCode
  /** The offending input field, when there is one. */
  readonly field: string | undefined

  constructor(code: McpServerErrorCode, message: string, options?: ErrorOptions & { field?: string }) {
    super(message, options)
    this.name = 'McpServerError'
    this.code = code
    this.field = options?.field
  }
}

/**
 * A JSON-RPC error answered as is (the SDK sends `code`, `message` and `data` of whatever a handler
 * throws); unlike the SDK's McpError its message carries no "MCP error" prefix.
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
