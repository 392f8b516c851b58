/**
 * Server-sent events written on Node's response: the headers go out at once (a client sees the
 * stream open before the first event), each event is one `data: <json>\n\n` frame, and nothing is
 * written once the caller has gone. Not Hono's streamSSE: it sends `Transfer-Encoding` and
 * `Connection` headers, which HTTP/2 forbids (the local service answers the same routes over h2c),
 * and its stream resolves only after the route returned, while a runtime turn holds its session
 * and counts as running for as long as it streams.
 */
import type { ServerResponse } from 'node:http'
import { answeredDirectly } from './answers.ts'
import { onCallerGone } from './caller-gone.ts'
import type { HttpContext } from './http-env.ts'

/** The headers of every event stream; a server adds its own (and may replace these). */
export const SSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  // No proxy buffering (nginx), so each event reaches the caller as it is written.
  'x-accel-buffering': 'no',
}

/** One open event stream. */
export class SseWriter {
  readonly #outgoing: ServerResponse
  #callerGone = false

  private constructor(outgoing: ServerResponse, headers: Readonly<Record<string, string>>) {
    this.#outgoing = outgoing
    outgoing.writeHead(200, { ...SSE_HEADERS, ...headers })
    outgoing.flushHeaders()
  }

  /** Opens the stream: status 200 and the headers, sent now. */
  static open<V extends object>(
    c: HttpContext<V>,
    headers: Readonly<Record<string, string>> = {},
  ): SseWriter {
    const writer = new SseWriter(c.env.outgoing, headers)
    onCallerGone(c, () => {
      writer.#callerGone = true
    })
    return writer
  }

  /** True once the caller went away before the stream ended. */
  get callerGone(): boolean {
    return this.#callerGone
  }

  /** Sends `value` as one event (`data: <JSON>`). */
  send(value: unknown): void {
    this.sendData(JSON.stringify(value))
  }

  /** Sends one event whose data is `line` (one line, as is: `[DONE]`, say). */
  sendData(line: string): void {
    if (this.#callerGone || this.#outgoing.writableEnded) return
    this.#outgoing.write(`data: ${line}\n\n`)
  }

  /** Ends the stream; the route returns what this returns. */
  end(): Response {
    if (!this.#outgoing.writableEnded) this.#outgoing.end()
    return answeredDirectly()
  }
}
