/**
 * A runtime's refusal, handed on by the invoke gateway as data. AgentCore reports a runtime's
 * failure as a `RuntimeClientError` (or, for a busy session, a `RetryableConflictException`) whose
 * only member is a message; the local gateway adds the runtime's own status, code and field in
 * headers of longrun's, and puts the runtime's message in the error's message, so a client reads
 * the code without parsing text. A client that finds no such headers (AgentCore on AWS) reads the
 * error by its AWS name and message.
 */

/** The headers, lower-case as Node and the AWS SDK report them. */
export const RUNTIME_ERROR_HEADERS = {
  status: 'x-longrun-runtime-status',
  code: 'x-longrun-runtime-error-code',
  field: 'x-longrun-runtime-error-field',
} as const

/** A runtime's error answer: its HTTP status, its stable code and message, and the field it names. */
export interface RuntimeErrorData {
  readonly status: number
  readonly code: string
  readonly message: string
  readonly field?: string | undefined
}

/** Codes and field names travel as header values: word characters, dots and dashes only. */
const HEADER_SAFE = /^[A-Za-z0-9_.:-]{1,128}$/

/** The runtime's `{"error": {"code", "message", "field"?}}` body, read; undefined for anything else. */
export function parseRuntimeErrorBody(status: number, body: string): RuntimeErrorData | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body)
  } catch {
    return undefined
  }
  const error = (parsed as { error?: unknown } | null)?.error as
    { code?: unknown; message?: unknown; field?: unknown } | undefined
  if (typeof error?.code !== 'string' || !HEADER_SAFE.test(error.code)) return undefined
  return {
    status,
    code: error.code,
    message: typeof error.message === 'string' ? error.message : '',
    ...(typeof error.field === 'string' && HEADER_SAFE.test(error.field) && { field: error.field }),
  }
}

/** The headers that carry `error` (its message goes in the AWS error's own message). */
export function runtimeErrorHeaders(error: RuntimeErrorData): Record<string, string> {
  return {
    [RUNTIME_ERROR_HEADERS.status]: String(error.status),
    [RUNTIME_ERROR_HEADERS.code]: error.code,
    ...(error.field !== undefined && { [RUNTIME_ERROR_HEADERS.field]: error.field }),
  }
}

/** The runtime's error from a refusal's headers and message; undefined when the headers are not there. */
export function runtimeErrorFromHeaders(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  message: string,
): RuntimeErrorData | undefined {
  const one = (name: string) => {
    const value = headers[name]
    return typeof value === 'string' ? value : undefined
  }
  const code = one(RUNTIME_ERROR_HEADERS.code)
  const status = Number(one(RUNTIME_ERROR_HEADERS.status))
  if (code === undefined || !HEADER_SAFE.test(code) || !Number.isInteger(status)) return undefined
  const field = one(RUNTIME_ERROR_HEADERS.field)
  return { status, code, message, ...(field !== undefined && HEADER_SAFE.test(field) && { field }) }
}
