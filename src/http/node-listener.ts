/**
 * A server's app as Node's request listener, through @hono/node-server: for `http.createServer`,
 * or for the local service's one port that speaks HTTP/1.1 and cleartext HTTP/2. Global `Request`
 * and `Response` are left alone (the process also runs the AWS SDK, the MCP SDK and fetch), and
 * request bodies are left to the routes, which read and drain them within their limits.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { getRequestListener, RequestError } from '@hono/node-server'
import { answerWithoutContext, type ErrorMapping } from './error-hook.ts'
import type { HttpApp } from './http-env.ts'
import { MalformedRequestError } from './http-errors.ts'

/** Node's request listener, for HTTP/1.1 and HTTP/2 alike. */
export type NodeRequestListener = (
  incoming: IncomingMessage | Http2ServerRequest,
  outgoing: ServerResponse | Http2ServerResponse,
) => Promise<void>

/** The listener that runs `app`; a request it cannot even read as a URL is answered by `errors`. */
export function nodeListener<V extends object>(
  app: HttpApp<V>,
  errors: ErrorMapping<V>,
): NodeRequestListener {
  return getRequestListener((request, env) => app.fetch(request, env), {
    overrideGlobalObjects: false,
    autoCleanupIncoming: false,
    // An HTTP/1.0 request without Host, an HTTP/2 one without :authority: the host guard judges them.
    hostname: 'localhost',
    errorHandler: (error) =>
      answerWithoutContext(
        errors,
        error instanceof RequestError ? new MalformedRequestError({ cause: error }) : error,
      ),
  })
}
