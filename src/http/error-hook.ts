/**
 * The one place an error becomes an HTTP answer, for every server: each server gives its own
 * mapping (its error classes and codes, and the layer's errors in its words); the hook does what
 * is the same everywhere. Before an answer the unread rest of the body is drained (bounded), or the
 * connection is closed when it cannot be; a caller that hung up mid-body is an info line and gets
 * no answer; an error after a stream began ends or breaks that stream; anything the mapping does
 * not know is logged with its stack and answered as the server's internal error.
 */
import type { Logger } from '../shared/logger.ts'
import { answeredDirectly, jsonAnswer } from './answers.ts'
import type { HttpContext } from './http-env.ts'
import { RequestAbortedError } from './http-errors.ts'
import { drainRequest } from './read-body.ts'
import { isClosedWithoutReading } from './unread-bodies.ts'

/** What a server answers to an error: status, JSON body and headers, in its own vocabulary. */
export interface ErrorAnswer {
  readonly status: number
  readonly body: unknown
  readonly headers?: Readonly<Record<string, string>>
}

/** A server's error mapping. */
export interface ErrorMapping<V extends object = object> {
  /**
   * The answer to `error`, one of the server's or the layer's (`c` is undefined for a request
   * refused before any route ran); undefined for an error the server does not know (a bug).
   */
  answer(error: unknown, c: HttpContext<V> | undefined): ErrorAnswer | undefined
  /** The answer to an error `answer` does not know, once it is logged with its stack. */
  internal(c: HttpContext<V> | undefined): ErrorAnswer
  readonly logger: Logger
  /**
   * An error after the answer began (a stream): `end` it as it is (default), or `destroy` the
   * connection so the client sees the answer broken (a proxy, whose client must not take a cut
   * stream for a whole one).
   */
  readonly afterAnswerBegan?: 'end' | 'destroy'
}

/** The `onError` of a server's app. */
export function errorHook<V extends object>(
  mapping: ErrorMapping<V>,
): (error: Error, c: HttpContext<V>) => Promise<Response> {
  return async (error, c) => {
    const { incoming, outgoing } = c.env
    if (error instanceof RequestAbortedError) return hungUp(mapping.logger, error, c)
    const answer = answerOf(mapping, error, c)
    if (outgoing.headersSent) {
      if (mapping.afterAnswerBegan === 'destroy') outgoing.destroy()
      else outgoing.end()
      return answeredDirectly()
    }
    let keepConnection: boolean
    if (isClosedWithoutReading(incoming)) keepConnection = incoming.readableEnded
    else {
      try {
        keepConnection = await drainRequest(incoming)
      } catch (drainError) {
        if (drainError instanceof RequestAbortedError) return hungUp(mapping.logger, drainError, c)
        throw drainError
      }
    }
    const headers = { ...answer.headers }
    // A body left unread cannot be followed by another request on this connection.
    if (!keepConnection && incoming.httpVersionMajor === 1) headers.connection = 'close'
    return jsonAnswer(c, answer.status, answer.body, headers)
  }
}

/** The answer to a request @hono/node-server refused before any route ran (no context). */
export function answerWithoutContext<V extends object>(mapping: ErrorMapping<V>, error: unknown): Response {
  const answer = answerOf(mapping, error, undefined)
  return new Response(JSON.stringify(answer.body), {
    status: answer.status,
    headers: { 'content-type': 'application/json', ...answer.headers },
  })
}

function answerOf<V extends object>(
  mapping: ErrorMapping<V>,
  error: unknown,
  c: HttpContext<V> | undefined,
): ErrorAnswer {
  const known = mapping.answer(error, c)
  if (known !== undefined) return known
  mapping.logger.log('error', 'request failed', {
    method: c?.req.method,
    path: c?.req.path,
    error: error instanceof Error ? error.stack : String(error),
  })
  return mapping.internal(c)
}

function hungUp<V extends object>(logger: Logger, error: RequestAbortedError, c: HttpContext<V>): Response {
  logger.log('info', 'caller hung up while sending its request; nothing was run', { code: error.code })
  c.env.outgoing.destroy()
  return answeredDirectly()
}
