/**
 * The HTTP layer the four servers share (src/http), on a server of its own: port 0 and its URL, a
 * close that drains, bodies within a limit (the 413 drained, the connection closed when it cannot
 * be), a caller hanging up mid-body, the guard before the body, server-sent events, and the error
 * hook with a server's own mapping. Requests go over real sockets.
 */
import assert from 'node:assert/strict'
import { Agent } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, test } from 'node:test'
import {
  allowOnly,
  browserGuard,
  createHttpApp,
  type ErrorMapping,
  HttpLayerError,
  HttpServer,
  jsonAnswer,
  MethodNotAllowedError,
  nodeListener,
  readBody,
  SseWriter,
} from '../../src/http/index.ts'
import type { Logger, LogLevel } from '../../src/shared/logger.ts'
import { waitFor } from '../helpers/local-agentcore.ts'
import { type RawAnswer, rawRequest } from '../helpers/raw-http.ts'

/** A server's own error, as each server has one. */
class ProbeError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.code = code
  }
}

const STATUS: Record<string, number> = {
  PAYLOAD_TOO_LARGE: 413,
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  MALFORMED_REQUEST: 400,
  REFUSED_PAGE: 403,
}

const codeOf = (answer: RawAnswer) => (JSON.parse(answer.body) as { code: string }).code

describe('the HTTP layer of the four servers', () => {
  const lines: { level: LogLevel; message: string; fields: Record<string, unknown> }[] = []
  const logger: Logger = { log: (level, message, fields = {}) => lines.push({ level, message, fields }) }
  const routeRuns: string[] = []
  const streams: SseWriter[] = []
  let releaseSlow: () => void = () => {}
  const slowReleased = new Promise<void>((resolve) => {
    releaseSlow = resolve
  })
  let slowAnswered: () => void = () => {}
  /** What the server owes at close: the slow answer, sent in full. */
  const slowSent = new Promise<void>((resolve) => {
    slowAnswered = resolve
  })
  let server: HttpServer

  /** The probe server's vocabulary: its own errors and the layer's, by code; others are bugs. */
  const errors: ErrorMapping = {
    logger,
    answer: (error) => {
      if (!(error instanceof ProbeError || error instanceof HttpLayerError)) return undefined
      const headers: Record<string, string> = {}
      if (error instanceof MethodNotAllowedError) headers.allow = error.allowed.join(', ')
      return { status: STATUS[error.code] ?? 400, body: { code: error.code }, headers }
    },
    internal: () => ({ status: 500, body: { code: 'INTERNAL' } }),
  }

  before(async () => {
    const app = createHttpApp(errors)
    app.use(
      browserGuard({ listenHost: '127.0.0.1' }, (refusal) => new ProbeError('REFUSED_PAGE', refusal.message)),
    )
    app.post('/echo', async (c) => {
      routeRuns.push('echo')
      // Limit 1,000 bytes; drained up to 16,000 before the connection is given up.
      const body = await readBody(c.env.incoming, 1_000, 16_000)
      return jsonAnswer(c, 200, { bytes: body.length })
    })
    allowOnly(app, '/echo', ['POST'])
    app.get('/fails', () => {
      throw new TypeError('a bug in a route')
    })
    app.get('/slow', async (c) => {
      routeRuns.push('slow')
      c.env.outgoing.once('finish', slowAnswered)
      await slowReleased
      return jsonAnswer(c, 200, { slow: true })
    })
    app.get('/events', async (c) => {
      const stream = SseWriter.open(c, { 'x-probe': 'yes' })
      streams.push(stream)
      stream.send({ n: 1 })
      await waitFor(() => stream.callerGone, 15_000, 'the caller to leave')
      stream.send({ n: 2 })
      const ended = stream.end()
      routeRuns.push('events ended')
      return ended
    })
    server = await HttpServer.listen({ listener: nodeListener(app, errors), port: 0, host: '127.0.0.1' })
  })
  after(() => server.close())

  test('a server on port 0 reports the port it got and its URL', async () => {
    assert.ok(server.port > 0)
    assert.equal(server.url, `http://127.0.0.1:${server.port}`)
    const answer = await rawRequest(server.port, { method: 'POST', path: '/echo', body: 'hello' })
    assert.deepEqual([answer.status, JSON.parse(answer.body)], [200, { bytes: 5 }])
  })

  test('a body over the limit is drained and answered 413; the connection stays usable', async () => {
    const agent = new Agent({ keepAlive: true })
    try {
      const answer = await rawRequest(server.port, {
        method: 'POST',
        path: '/echo',
        body: 'x'.repeat(5_000),
        agent,
      })
      assert.equal(answer.status, 413)
      assert.equal(codeOf(answer), 'PAYLOAD_TOO_LARGE')
      assert.equal(answer.headers.connection, 'keep-alive')
    } finally {
      agent.destroy()
    }
  })

  test('a body too large to drain is answered 413 at once and its connection closed', async () => {
    const answer = await rawRequest(server.port, {
      method: 'POST',
      path: '/echo',
      unsentBody: 50 * 1024 * 1024,
    })
    assert.equal(answer.status, 413)
    assert.equal(codeOf(answer), 'PAYLOAD_TOO_LARGE')
    assert.equal(answer.headers.connection, 'close')
  })

  test('a caller that hangs up mid-body is an info line, never an error, and gets no answer', async () => {
    const socket = connect(server.port, '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', resolve))
    const runsBefore = routeRuns.length
    socket.write('POST /echo HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 900\r\n\r\npart of it')
    await waitFor(() => routeRuns.length > runsBefore, 15_000, 'the route to start reading')
    socket.destroy()
    const hungUp = await waitFor(() => lines.find((line) => line.fields.code === 'REQUEST_ABORTED'))
    assert.equal(hungUp.level, 'info')
    assert.deepEqual(
      lines.filter((line) => line.level === 'error'),
      [],
    )
  })

  test("a web page's request is refused before its body is read, and its connection closed", async () => {
    const runsBefore = routeRuns.length
    const answer = await rawRequest(server.port, {
      method: 'POST',
      path: '/echo',
      headers: { origin: 'http://attacker.test' },
      unsentBody: 1_000,
    })
    assert.equal(answer.status, 403)
    assert.equal(codeOf(answer), 'REFUSED_PAGE')
    assert.equal(answer.headers.connection, 'close')
    assert.equal(routeRuns.length, runsBefore, 'the route never ran')
  })

  test("the layer's own refusals are worded by the server's mapping: no route, another method, no URL", async () => {
    const missing = await rawRequest(server.port, { path: '/nowhere' })
    assert.deepEqual([missing.status, codeOf(missing)], [404, 'ROUTE_NOT_FOUND'])
    const wrongMethod = await rawRequest(server.port, { method: 'PUT', path: '/echo', body: '{}' })
    assert.deepEqual([wrongMethod.status, codeOf(wrongMethod)], [405, 'METHOD_NOT_ALLOWED'])
    assert.equal(wrongMethod.headers.allow, 'POST')
    const noUrl = await rawRequest(server.port, { path: '/echo', headers: { host: 'not a host' } })
    assert.deepEqual([noUrl.status, codeOf(noUrl)], [400, 'MALFORMED_REQUEST'])
  })

  test("an error the mapping does not know is logged with its stack and answered as the server's internal error", async () => {
    const answer = await rawRequest(server.port, { path: '/fails' })
    assert.deepEqual([answer.status, codeOf(answer)], [500, 'INTERNAL'])
    const logged = lines.find((line) => line.level === 'error' && line.fields.path === '/fails')
    assert.match(String(logged?.fields.error), /TypeError: a bug in a route\n\s+at /)
    lines.splice(lines.indexOf(logged as (typeof lines)[number]), 1)
  })

  test('server-sent events go out as data frames at once, and the writer knows when the caller left', async () => {
    const controller = new AbortController()
    const response = await fetch(`${server.url}/events`, { signal: controller.signal })
    assert.equal(response.headers.get('content-type'), 'text/event-stream')
    assert.equal(response.headers.get('x-probe'), 'yes')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    assert.equal(new TextDecoder().decode(first.value), 'data: {"n":1}\n\n')
    controller.abort()
    const stream = await waitFor(() => streams[0], 15_000, 'the stream')
    await waitFor(() => stream.callerGone, 15_000, 'the server to see the caller gone')
    // The route wrote once more after the caller left, and ended: nothing failed.
    await waitFor(() => routeRuns.includes('events ended'), 15_000, 'the route to end')
    assert.deepEqual(
      lines.filter((line) => line.level === 'error'),
      [],
    )
  })

  test('close stops taking connections, waits for what the server owes, then ends every connection', async () => {
    const slow = rawRequest(server.port, { path: '/slow' })
    await waitFor(() => routeRuns.includes('slow'), 15_000, 'the slow request to be taken')
    let drained = false
    const closed = server.close(async () => {
      await slowSent
      drained = true
    })
    const refused = await rawRequest(server.port, { method: 'POST', path: '/echo', body: 'x' }).then(
      (answer) => `answered ${answer.status}`,
      (error: NodeJS.ErrnoException) => error.code,
    )
    assert.equal(refused, 'ECONNREFUSED')
    releaseSlow()
    assert.deepEqual(JSON.parse((await slow).body), { slow: true })
    await closed
    assert.ok(drained)
  })
})
