/**
 * The errors of the HTTP layer itself, each with a stable `code`. No client sees them as they are:
 * every server maps them into its own vocabulary (RuntimeError, McpServerError, AWS error types,
 * ConsoleError) in its one error mapping.
 */

/** Stable codes of {@link HttpLayerError}. */
export type HttpLayerErrorCode =
  /** The body is over the route's limit (by its declared length or by what arrived). */
  | 'PAYLOAD_TOO_LARGE'
  /** The caller hung up before its whole body arrived: nobody is left to answer. */
  | 'REQUEST_ABORTED'
  /** No route has this path. */
  | 'ROUTE_NOT_FOUND'
  /** A route has this path, but not for this method. */
  | 'METHOD_NOT_ALLOWED'
  /** The request line or Host could not be read as a URL (refused before any route runs). */
  | 'MALFORMED_REQUEST'

/** A failure found by the HTTP layer, before or around a server's own handling. */
export class HttpLayerError extends Error {
  readonly code: HttpLayerErrorCode
  constructor(code: HttpLayerErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'HttpLayerError'
    this.code = code
  }
}

/** A body over the limit; `readToEnd` tells whether it was drained (else the connection must close). */
export class PayloadTooLargeError extends HttpLayerError {
  readonly limitBytes: number
  readonly readToEnd: boolean
  constructor(limitBytes: number, readToEnd: boolean) {
    super('PAYLOAD_TOO_LARGE', `the request body is larger than ${limitBytes} bytes`)
    this.name = 'PayloadTooLargeError'
    this.limitBytes = limitBytes
    this.readToEnd = readToEnd
  }
}

/**
 * The caller hung up before its whole body arrived. A normal event for a server (a client timed out
 * or was stopped): worth an info line, never an error with a stack.
 */
export class RequestAbortedError extends HttpLayerError {
  constructor(options?: ErrorOptions) {
    super('REQUEST_ABORTED', 'the caller hung up before its request body arrived', options)
    this.name = 'RequestAbortedError'
  }
}

/** No route at `path`. */
export class RouteNotFoundError extends HttpLayerError {
  readonly method: string
  readonly path: string
  constructor(method: string, path: string) {
    super('ROUTE_NOT_FOUND', `no route ${method} ${path}`)
    this.name = 'RouteNotFoundError'
    this.method = method
    this.path = path
  }
}

/** A route at `path` takes only `allowed` (the `Allow` header of a 405). */
export class MethodNotAllowedError extends HttpLayerError {
  readonly method: string
  readonly path: string
  readonly allowed: readonly string[]
  constructor(method: string, path: string, allowed: readonly string[]) {
    super('METHOD_NOT_ALLOWED', `${path} takes ${allowed.join(', ')}, not ${method}`)
    this.name = 'MethodNotAllowedError'
    this.method = method
    this.path = path
    this.allowed = allowed
  }
}

/** A request @hono/node-server could not turn into a URL (an invalid Host or request target). */
export class MalformedRequestError extends HttpLayerError {
  constructor(options?: ErrorOptions) {
    super('MALFORMED_REQUEST', 'the request line or its Host header is not a valid URL', options)
    this.name = 'MalformedRequestError'
  }
}
