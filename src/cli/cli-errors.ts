/**
 * Errors of the command line, each with a stable `code`; printed as `longrun: <code>: <message>`,
 * never with a stack, and the process exits with 1.
 */
export { InsecureEndpointError, UnexpectedAnswerError } from '../runtime-client/errors.ts'

/** A command used wrongly or without what it needs. */
export class CliUsageError extends Error {
  readonly code: string = 'CLI_USAGE'
  constructor(message: string) {
    super(message)
    this.name = 'CliUsageError'
  }
}

/** No `.longrun/dev-stack.json` here or in any directory above, and nothing else names a target. */
export class StackNotFoundError extends CliUsageError {
  override readonly code = 'STACK_NOT_FOUND'
  constructor(message: string) {
    super(message)
    this.name = 'StackNotFoundError'
  }
}

/** A stack file was found, but the stack it describes is not running (its process is gone, or it does not answer). */
export class StackDownError extends CliUsageError {
  override readonly code = 'STACK_DOWN'
  constructor(message: string) {
    super(message)
    this.name = 'StackDownError'
  }
}

/** `MCP_BEARER_TOKEN` is set, and it is not the token of the local stack's MCP server. */
export class McpTokenMismatchError extends CliUsageError {
  override readonly code = 'MCP_TOKEN_MISMATCH'
  constructor(message: string) {
    super(message)
    this.name = 'McpTokenMismatchError'
  }
}

/** The MCP server answered 401: the bearer token sent (or its absence) is not one it takes. */
export class McpTokenRefusedError extends Error {
  readonly code = 'MCP_TOKEN_REFUSED'
  constructor(message: string) {
    super(message)
    this.name = 'McpTokenRefusedError'
  }
}

/** The MCP server could not be reached at all. */
export class McpUnreachableError extends Error {
  readonly code = 'MCP_UNREACHABLE'
  constructor(message: string) {
    super(message)
    this.name = 'McpUnreachableError'
  }
}

/** The line printed for a failure: `CODE: message` when it has a code that the message does not already start with. */
export function describeCliError(error: unknown): string {
  if (!(error instanceof Error)) return String(error)
  const code = (error as { code?: unknown }).code
  const message = error.message || error.name
  return typeof code === 'string' && !message.startsWith(code) ? `${code}: ${message}` : message
}
