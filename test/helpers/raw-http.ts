/**
 * One HTTP/1.1 request with exactly the headers given, for tests of what a server does with a
 * request no client library would send (a foreign Host, a body declared and never sent).
 */
import { type Agent, type IncomingHttpHeaders, request as httpRequest } from 'node:http'

export interface RawAnswer {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

export interface RawRequest {
  readonly method?: string
  readonly path: string
  readonly headers?: Record<string, string>
  readonly body?: string
  /** Declares this many body bytes and sends none: only a server that answers unread answers at all. */
  readonly unsentBody?: number
  /** The connection to use (keep-alive checks); a connection of its own by default. */
  readonly agent?: Agent
}

/** Sends one request to 127.0.0.1:`port` and reads the whole answer. */
export function rawRequest(port: number, options: RawRequest): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.unsentBody !== undefined) headers['content-length'] = String(options.unsentBody)
    const outgoing = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers,
        agent: options.agent ?? false,
      },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => {
          body += chunk
        })
        response.on('end', () => {
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body })
          outgoing.destroy()
        })
      },
    )
    outgoing.on('error', reject)
    if (options.unsentBody !== undefined) outgoing.flushHeaders()
    else outgoing.end(options.body)
  })
}
