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
}> {
  const seen: IncomingHttpHeaders[] = []
  let releaseStream = () => {}
  const streamReleased = new Promise<void>((resolve) => {
    releaseStream = resolve
  })
  const server = createServer(async (request, response) => {
    seen.push(request.headers)
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    const body = Buffer.concat(chunks).toString('utf8')
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
  return { server, url: `http://127.0.0.1:${port}`, seen, releaseStream }
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
})
