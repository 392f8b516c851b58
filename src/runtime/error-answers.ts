/**
 * The runtime's side of the HTTP layer's error hook: the layer's errors in the runtime's words
 * (RuntimeError codes), and a RuntimeError as the answer a client reads. The status of each code
 * is decided in one place, errors.ts.
 */
import {
  type ErrorAnswer,
  type ErrorMapping,
  type HttpContext,
  jsonAnswer,
  MalformedRequestError,
  MethodNotAllowedError,
  PayloadTooLargeError,
  RouteNotFoundError,
} from '../http/index.ts'
import type { Logger } from '../shared/logger.ts'
import { errorBody, httpStatusOf, RuntimeError } from './errors.ts'

/** `error` as a RuntimeError, or undefined for an error the runtime does not know. */
export function runtimeErrorOf(error: unknown): RuntimeError | undefined {
  if (error instanceof RuntimeError) return error
  if (error instanceof PayloadTooLargeError)
    return new RuntimeError('PAYLOAD_TOO_LARGE', `the payload must be at most ${error.limitBytes} bytes`, {
      field: 'payload',
    })
  if (error instanceof RouteNotFoundError) return new RuntimeError('NOT_FOUND', `no route ${error.path}`)
  if (error instanceof MethodNotAllowedError)
    return new RuntimeError('METHOD_NOT_ALLOWED', `use ${error.allowed.join(', ')}`)
  if (error instanceof MalformedRequestError) return new RuntimeError('INVALID_REQUEST', error.message)
  return undefined
}

/** The answer to `error`: its status and `{ "error": { code, message, field? } }`. */
function runtimeErrorAnswer(error: RuntimeError, headers: Record<string, string> = {}): ErrorAnswer {
  return { status: httpStatusOf(error.code), body: errorBody(error), headers }
}

/** Answers `error` from a route (a refusal that carries headers of its own, such as the session id). */
export function runtimeErrorResponse(
  c: HttpContext,
  error: RuntimeError,
  headers: Record<string, string> = {},
): Response {
  const answer = runtimeErrorAnswer(error, headers)
  return jsonAnswer(c, answer.status, answer.body, answer.headers)
}

/** The runtime's error mapping for the layer's hook. */
export function runtimeErrorMapping(logger: Logger): ErrorMapping {
  return {
    logger,
    answer: (error) => {
      const known = runtimeErrorOf(error)
      if (known === undefined) return undefined
      const headers: Record<string, string> = {}
      if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ')
      return runtimeErrorAnswer(known, headers)
    },
    internal: () => runtimeErrorAnswer(new RuntimeError('INTERNAL', 'the request failed')),
  }
}
