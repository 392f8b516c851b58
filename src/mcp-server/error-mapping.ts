/**
 * The one place our error codes become what the wire carries: an HTTP status for refusals before
 * JSON-RPC, a JSON-RPC error for protocol and server errors, or a tool result with `isError` for
 * errors of a tool call the model can act on (spec 2025-11-25, SEP-1303: input validation errors
 * are tool execution errors; unknown tools, malformed requests and server errors are JSON-RPC
 * errors).
 */
import { type CallToolResult, ErrorCode } from '@modelcontextprotocol/sdk/types.js'
import { JsonRpcError, McpServerError, type McpServerErrorCode } from './errors.ts'

/**
 * The JSON-RPC code of a refusal a retry can fix (queue full, shutting down, backend out of
 * reach), in the range JSON-RPC leaves to implementations; `data.retryable` says so too.
 */
export const RETRY_LATER = -32029

interface Mapping {
  /** The HTTP status when refused before JSON-RPC dispatch (200: answered in the JSON-RPC body). */
  readonly http: number
  readonly jsonRpc: number
  /** Answered as a tool result with `isError` when it ends a tools/call. */
  readonly toolError?: true
  readonly retryable?: true
}

const MAPPINGS: Record<McpServerErrorCode, Mapping> = {
  UNAUTHENTICATED: { http: 401, jsonRpc: ErrorCode.InvalidRequest },
  AUTH_UNAVAILABLE: { http: 503, jsonRpc: ErrorCode.InternalError, retryable: true },
  FORBIDDEN: { http: 403, jsonRpc: ErrorCode.InvalidRequest },
  HOST_NOT_ALLOWED: { http: 403, jsonRpc: ErrorCode.InvalidRequest },
  NOT_FOUND: { http: 404, jsonRpc: ErrorCode.InvalidRequest },
  // What the SDK's stateless transport answers a GET or DELETE with.
  METHOD_NOT_ALLOWED: { http: 405, jsonRpc: ErrorCode.ConnectionClosed },
  BODY_TOO_LARGE: { http: 413, jsonRpc: ErrorCode.InvalidRequest },
  PARSE_ERROR: { http: 400, jsonRpc: ErrorCode.ParseError },
  INVALID_REQUEST: { http: 400, jsonRpc: ErrorCode.InvalidRequest },
  INVALID_PARAMS: { http: 200, jsonRpc: ErrorCode.InvalidParams },
  UNKNOWN_TOOL: { http: 200, jsonRpc: ErrorCode.InvalidParams },
  INVALID_ARGUMENTS: { http: 200, jsonRpc: ErrorCode.InvalidParams, toolError: true },
  TASK_NOT_FOUND: { http: 200, jsonRpc: ErrorCode.InvalidParams, toolError: true },
  TASK_ALREADY_ENDED: { http: 200, jsonRpc: ErrorCode.InvalidParams, toolError: true },
  INVALID_CURSOR: { http: 200, jsonRpc: ErrorCode.InvalidParams, toolError: true },
  QUEUE_FULL: { http: 200, jsonRpc: RETRY_LATER, retryable: true },
  SHUTTING_DOWN: { http: 503, jsonRpc: RETRY_LATER, retryable: true },
  BACKEND_UNAVAILABLE: { http: 503, jsonRpc: RETRY_LATER, retryable: true },
  IN_USE: { http: 500, jsonRpc: ErrorCode.InternalError },
  INVALID_CONFIG: { http: 500, jsonRpc: ErrorCode.InternalError },
}

/** The HTTP status of a request refused before JSON-RPC dispatch. */
export function httpStatusOf(error: McpServerError): number {
  return MAPPINGS[error.code].http
}

/** What a caller reads in `error.data` (JSON-RPC) or `structuredContent.error` (tool errors). */
export function errorData(error: McpServerError): Record<string, unknown> {
  const mapping = MAPPINGS[error.code]
  return {
    code: error.code,
    ...(error.field !== undefined && { field: error.field }),
    ...(mapping.retryable === true && { retryable: true }),
    ...(error.retryAfterMs !== undefined && { retryAfterMs: error.retryAfterMs }),
  }
}

/** Our error as the JSON-RPC error the SDK sends (code, message without a prefix, data). */
export function toJsonRpcError(error: McpServerError): JsonRpcError {
  return new JsonRpcError(MAPPINGS[error.code].jsonRpc, error.message, errorData(error))
}

/** The JSON-RPC error body of a request refused over HTTP (no request id is known yet). */
export function jsonRpcErrorBody(error: McpServerError, id: string | number | null = null): unknown {
  return {
    jsonrpc: '2.0',
    id,
    error: { code: MAPPINGS[error.code].jsonRpc, message: error.message, data: errorData(error) },
  }
}

/**
 * Runs a request handler: our errors leave it as JSON-RPC errors. `tool` marks a tools/call: its
 * tool execution errors come back as a result with `isError`, so the model reads and corrects them.
 */
export async function answering<T>(work: () => Promise<T>): Promise<T>
export async function answering<T>(work: () => Promise<T>, tool: 'tool'): Promise<T | CallToolResult>
export async function answering<T>(work: () => Promise<T>, tool?: 'tool'): Promise<T | CallToolResult> {
  try {
    return await work()
  } catch (error) {
    if (!(error instanceof McpServerError)) throw error
    if (tool === 'tool' && MAPPINGS[error.code].toolError === true) {
      return {
        content: [{ type: 'text', text: error.message }],
        structuredContent: { error: { ...errorData(error), message: error.message } },
        isError: true,
      }
    }
    throw toJsonRpcError(error)
  }
}
