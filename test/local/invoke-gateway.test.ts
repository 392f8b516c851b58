import assert from 'node:assert/strict'
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import {
  InvokeAgentRuntimeCommand,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock-agentcore'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'

const ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/demo_agent-abcDEF1234'

/** A stand-in runtime: echoes what it received as JSON, or streams three SSE events. */
async function startRuntime(): Promise<{
  server: Server
  url: string
  seen: IncomingHttpHeaders[]
  releaseStream: () => void
  failures: () => number
  endlessDone: Promise<void>
}> {
  const seen: IncomingHttpHeaders[] = []
  let failures = 0
  let endlessClosed = () => {}
  const endlessDone = new Promise<void>((resolve) => {
    endlessClosed = resolve
  })
  let releaseStream = () => {}
  const streamReleased = new Promise<void>((resolve) => {
    releaseStream = resolve
  })
  const server = createServer(async (request, response) => {
    seen.push(request.headers)
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
    const mode = body.startsWith('{') ? (JSON.parse(body) as { mode?: string }).mode : undefined
    if (mode === 'fail') {
      failures += 1
      response.writeHead(500, { 'content-type': 'text/plain' })
      response.end('the agent crashed')
      return
    }
    if (mode === 'crash-mid-error') {
      response.writeHead(500, { 'content-type': 'text/plain', 'content-length': '1000' })
      response.write('partial')
      setImmediate(() => response.socket?.destroy())
      return
    }
    if (mode === 'endless') {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      const ticker = setInterval(() => response.write('data: {"tick":true}\n\n'), 20)
      response.on('close', () => {
        clearInterval(ticker)
        endlessClosed()
      })
      return
    }
    if (request.url?.startsWith('/invocations') && request.headers.accept === 'text/event-stream') {
      response.writeHead(200, { 'content-type': 'text/event-stream' })
      // The rest is written only once the client has seen the first event: a buffering gateway deadlocks here.
      response.write(`data: ${JSON.stringify({ index: 0, body })}\n\n`)
      await streamReleased
      for (let index = 1; index < 3; index++) response.write(`data: ${JSON.stringify({ index, body })}\n\n`)
      response.end()
      return
    }
    if (request.url?.startsWith('/invocations')) {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ received: JSON.parse(body), path: request.url }))
      return
    }
    if (request.url?.startsWith('/mcp')) {
      response.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'server-issued' })
      response.end(JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }))
      return
    }
    response.writeHead(500)
    response.end('boom')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    seen,
    releaseStream,
    failures: () => failures,
    endlessDone,
  }
}

describe('the runtime invoke gateway', () => {
  let env: LocalAgentCoreFixture
  let runtime: Awaited<ReturnType<typeof startRuntime>>
  before(async () => {
    runtime = await startRuntime()
    env = await startLocalAgentCore({ runtimes: { [ARN]: runtime.url } })
  })
  after(async () => {
    await env.close()
    runtime.server.closeAllConnections()
    await new Promise((resolve) => runtime.server.close(resolve))
  })

  test('forwards a JSON invocation with the session id and returns the answer unchanged', async () => {
    const sessionId = 'session-0123456789-0123456789-0123456789'
    const result = await env.data.send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: ARN,
        runtimeSessionId: sessionId,
        contentType: 'application/json',
        accept: 'application/json',
        payload: new TextEncoder().encode(JSON.stringify({ prompt: 'hello' })),
        runtimeUserId: 'alice',
      }),
    )
    assert.equal(result.runtimeSessionId, sessionId)
    assert.equal(result.contentType, 'application/json')
    const body = JSON.parse(
      await (result.response as { transformToString(): Promise<string> }).transformToString(),
    )
    assert.deepEqual(body.received, { prompt: 'hello' })
    const headers = runtime.seen.at(-1) as IncomingHttpHeaders
    assert.equal(headers['x-amzn-bedrock-agentcore-runtime-session-id'], sessionId)
    assert.equal(headers['x-amzn-bedrock-agentcore-runtime-user-id'], 'alice')
    assert.ok(headers['x-amzn-bedrock-agentcore-runtime-request-id'])
    assert.equal(headers.authorization, undefined, 'the SigV4 header is not passed to the runtime')
  })

  test('takes a bearer call (a runtime behind a JWT authorizer) and passes its Authorization on to the runtime', async () => {
    const sessionId = 'bearer-session-0123456789-0123456789-01'
    const response = await fetch(
      `${env.service.url}/runtimes/${encodeURIComponent(ARN)}/invocations?qualifier=DEFAULT`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          authorization: 'Bearer caller.jwt.token',
          'x-amzn-bedrock-agentcore-runtime-session-id': sessionId,
        },
        body: JSON.stringify({ prompt: 'with a token' }),
      },
    )
    assert.equal(response.status, 200)
    assert.deepEqual(((await response.json()) as { received: unknown }).received, { prompt: 'with a token' })
    const headers = runtime.seen.at(-1) as IncomingHttpHeaders
    assert.equal(headers.authorization, 'Bearer caller.jwt.token')
    assert.equal(headers['x-amzn-bedrock-agentcore-runtime-session-id'], sessionId)
  })

  test('generates a 33+ character session id when none is given on the wire', async () => {
    const response = await fetch(`${env.service.url}/runtimes/${encodeURIComponent(ARN)}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'AWS4-HMAC-SHA256 Credential=AKID/x' },
      body: JSON.stringify({ prompt: 'no session' }),
    })
    assert.equal(response.status, 200)
    const sessionId = response.headers.get('x-amzn-bedrock-agentcore-runtime-session-id') ?? ''
    assert.ok(sessionId.length >= 33 && sessionId.length <= 256)
    assert.equal(runtime.seen.at(-1)?.['x-amzn-bedrock-agentcore-runtime-session-id'], sessionId)
  })

  test('streams server-sent events to the client as the runtime writes them', async () => {
    const result = await env.data.send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: ARN,
        accept: 'text/event-stream',
        contentType: 'application/json',
        payload: new TextEncoder().encode('{"prompt":"stream"}'),
      }),
    )
    assert.equal(result.contentType, 'text/event-stream')
    let text = ''
    for await (const chunk of result.response as AsyncIterable<Uint8Array>) {
      text += Buffer.from(chunk).toString('utf8')
      if (text.includes('"index":0')) runtime.releaseStream()
    }
    const events = text
      .split('\n\n')
      .filter((block) => block.startsWith('data: '))
      .map((block) => JSON.parse(block.slice(6)))
    assert.deepEqual(
      events.map((event) => event.index),
      [0, 1, 2],
    )
  })

  test('routes MCP runtimes to /mcp and passes Mcp-Session-Id', async () => {
    const mcpArn = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/mcp_server-abcDEF1234'
    env.service.registerRuntime(mcpArn, { url: runtime.url, protocol: 'MCP' })
    const result = await env.data.send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: mcpArn,
        mcpSessionId: 'client-chosen-id',
        contentType: 'application/json',
        accept: 'application/json, text/event-stream',
        payload: new TextEncoder().encode('{"jsonrpc":"2.0","id":1,"method":"ping"}'),
      }),
    )
    assert.equal(result.mcpSessionId, 'server-issued')
    assert.equal(runtime.seen.at(-1)?.['mcp-session-id'], 'client-chosen-id')
  })

  test('an unknown runtime is ResourceNotFound and a malformed ARN a ValidationException', async () => {
    await assert.rejects(
      env.data.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/other-abcDEF1234',
          payload: new TextEncoder().encode('{}'),
        }),
      ),
      ResourceNotFoundException,
    )
    await assert.rejects(
      env.data.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: 'not-an-arn',
          payload: new TextEncoder().encode('{}'),
        }),
      ),
      (error: unknown) => error instanceof ValidationException && error.message.includes('agentRuntimeArn'),
    )
  })

  test('a session id shorter than 33 characters is refused', async () => {
    await assert.rejects(
      env.data.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: ARN,
          runtimeSessionId: 'short',
          payload: new TextEncoder().encode('{}'),
        }),
      ),
      (error: unknown) => error instanceof ValidationException && error.message.includes('runtimeSessionId'),
    )
  })

  test('a runtime that is down surfaces as RuntimeClientError', async () => {
    const downArn = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/down-abcDEF1234'
    env.service.registerRuntime(downArn, 'http://127.0.0.1:1')
    await assert.rejects(
      env.data.send(
        new InvokeAgentRuntimeCommand({ agentRuntimeArn: downArn, payload: new TextEncoder().encode('{}') }),
      ),
      (error: unknown) => (error as Error).name === 'RuntimeClientError',
    )
  })

  const invoke = (body: unknown, options: { abortSignal?: AbortSignal } = {}) =>
    env.data.send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: ARN,
        contentType: 'application/json',
        payload: new TextEncoder().encode(JSON.stringify(body)),
      }),
      options,
    )

  test('a runtime failure is a 424 RuntimeClientError and the agent runs once, not once per SDK retry', async () => {
    const before = runtime.failures()
    await assert.rejects(invoke({ mode: 'fail' }), (error: unknown) => {
      assert.equal((error as Error).name, 'RuntimeClientError')
      assert.equal((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode, 424)
      assert.match((error as Error).message, /the agent crashed/)
      return true
    })
    assert.equal(runtime.failures() - before, 1)
  })

  test('a runtime that drops its connection in the middle of an error answer still gets a reply', async () => {
    await assert.rejects(
      invoke({ mode: 'crash-mid-error' }),
      (error: unknown) => (error as Error).name === 'RuntimeClientError',
    )
  })

  test('a caller that goes away mid-stream closes the runtime request', async () => {
    const controller = new AbortController()
    const result = await invoke({ mode: 'endless' }, { abortSignal: controller.signal })
    const stream = result.response as AsyncIterable<Uint8Array> & { destroy?: () => void }
    for await (const _chunk of stream) {
      controller.abort()
      stream.destroy?.()
      break
    }
    let timer: NodeJS.Timeout | undefined
    const closed = await Promise.race([
      runtime.endlessDone.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), 10_000)
      }),
    ])
    clearTimeout(timer)
    assert.equal(closed, true, 'the runtime request was not closed after the caller left')
  })

  test('a runtime id with an accountId is accepted; without one it is refused naming accountId', async () => {
    const result = await env.data.send(
      new InvokeAgentRuntimeCommand({
        agentRuntimeArn: 'demo_agent-abcDEF1234',
        accountId: '123456789012',
        contentType: 'application/json',
        payload: new TextEncoder().encode('{"prompt":"by id"}'),
      }),
    )
    const body = JSON.parse(
      await (result.response as { transformToString(): Promise<string> }).transformToString(),
    )
    assert.deepEqual(body.received, { prompt: 'by id' })
    await assert.rejects(
      env.data.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: 'demo_agent-abcDEF1234',
          payload: new TextEncoder().encode('{}'),
        }),
      ),
      (error: unknown) => error instanceof ValidationException && error.message.includes('accountId'),
    )
  })
})
