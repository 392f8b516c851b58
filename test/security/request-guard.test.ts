/**
 * The Host and Origin checks of the agent runtime and the local AgentCore service, request by
 * request (raw HTTP/1.1 and HTTP/2, so any Host, `:authority` or Origin can be sent), and the
 * real AWS SDK clients, which send none of a browser's headers, still served.
 */
import assert from 'node:assert/strict'
import { connect as connectHttp2 } from 'node:http2'
import { after, before, describe, test } from 'node:test'
import { ListEventsCommand } from '@aws-sdk/client-bedrock-agentcore'
import { ListMemoriesCommand } from '@aws-sdk/client-bedrock-agentcore-control'
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime'
import { AgentRuntimeServer, type InvocationHandler, SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import type { Logger } from '../../src/shared/logger.ts'
import {
  type LocalAgentCoreFixture,
  startLocalAgentCore,
  TEST_CREDENTIALS,
} from '../helpers/local-agentcore.ts'
import { type RawAnswer, rawRequest } from '../helpers/raw-http.ts'
import { sessionIdFor } from '../helpers/runtime-stack.ts'

/** One HTTP/2 request (as the Bedrock Runtime client speaks to the service) with these headers. */
function rawHttp2(url: string, headers: Record<string, string>): Promise<{ status: number; type: unknown }> {
  return new Promise((resolve, reject) => {
    const session = connectHttp2(url)
    session.on('error', reject)
    const stream = session.request(headers)
    stream.on('response', (answer) => {
      stream.resume()
      stream.on('end', () => {
        session.close()
        resolve({ status: Number(answer[':status']), type: answer['x-amzn-errortype'] })
      })
    })
    stream.on('error', reject)
    stream.end()
  })
}

const errorCode = (answer: RawAnswer) => (JSON.parse(answer.body) as { error: { code: string } }).error.code

/** A runtime whose handler only counts the turns that reach it, and whose log is kept. */
async function countingRuntime(config: { host: string; allowedOrigins?: readonly string[] }) {
  const turns: string[] = []
  const log: Record<string, unknown>[] = []
  const handler: InvocationHandler = async (invocation) => {
    turns.push(invocation.actorId)
    return { response: 'done', session_id: invocation.runtimeSessionId, tasks: [] }
  }
  const logger: Logger = { log: (_level, message, fields = {}) => log.push({ message, ...fields }) }
  const server = await AgentRuntimeServer.start({
    handler,
    port: 0,
    defaultMemoryId: 'mem',
    logger,
    ...config,
  })
  const invoke = (headers: Record<string, string>) =>
    rawRequest(server.port, {
      method: 'POST',
      path: '/invocations',
      headers: { 'content-type': 'text/plain', [SESSION_ID_HEADER]: sessionIdFor('guard'), ...headers },
      body: JSON.stringify({ prompt: 'train a model called x', actor_id: 'victim' }),
    })
  return { server, turns, log, invoke }
}

describe('the agent runtime refuses what a web page sends', () => {
  test('on loopback, a foreign Host is refused with HOST_NOT_ALLOWED before the body is read or the handler runs', async () => {
    const { server, turns, log } = await countingRuntime({ host: '127.0.0.1' })
    try {
      const invocation = await rawRequest(server.port, {
        method: 'POST',
        path: '/invocations',
        headers: { host: `rebind.test:${server.port}` },
        unsentBody: 50 * 1024 * 1024,
      })
      assert.equal(invocation.status, 403)
      assert.equal(errorCode(invocation), 'HOST_NOT_ALLOWED')
      assert.equal(invocation.headers.connection, 'close')
      const ping = await rawRequest(server.port, {
        path: '/ping',
        headers: { host: `rebind.test:${server.port}` },
      })
      assert.equal(ping.status, 403)
      assert.equal(errorCode(ping), 'HOST_NOT_ALLOWED')
      assert.deepEqual(turns, [])
      assert.equal(log.filter((entry) => entry.code === 'HOST_NOT_ALLOWED').length, 2)
      for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `[::1]:${server.port}`]) {
        assert.equal((await rawRequest(server.port, { path: '/ping', headers: { host } })).status, 200, host)
      }
    } finally {
      await server.close()
    }
  })

  test('a foreign Origin is refused with ORIGIN_NOT_ALLOWED, whatever the content type; its own origins and none pass', async () => {
    const { server, turns, invoke } = await countingRuntime({ host: '127.0.0.1' })
    try {
      const foreign = [
        'http://attacker.test',
        `http://attacker.test:${server.port}`,
        `http://localhost:${server.port + 1}`,
        `https://127.0.0.1:${server.port}`,
        'null',
        'not a url',
      ]
      for (const origin of foreign) {
        for (const contentType of ['text/plain', 'application/json', 'application/octet-stream']) {
          const answer = await invoke({ origin, 'content-type': contentType })
          assert.equal(answer.status, 403, `${origin} ${contentType}`)
          assert.equal(errorCode(answer), 'ORIGIN_NOT_ALLOWED')
        }
      }
      // A browser that names its site but no Origin (a navigation, say) is refused too.
      assert.equal(errorCode(await invoke({ 'sec-fetch-site': 'cross-site' })), 'ORIGIN_NOT_ALLOWED')
      assert.deepEqual(turns, [])
      for (const origin of [`http://127.0.0.1:${server.port}`, `http://localhost:${server.port}`]) {
        assert.equal((await invoke({ origin })).status, 200, origin)
      }
      assert.equal((await invoke({ 'content-type': 'application/octet-stream' })).status, 200)
      assert.equal((await invoke({ 'sec-fetch-site': 'same-origin' })).status, 200)
      assert.equal(turns.length, 4)
    } finally {
      await server.close()
    }
  })

  test('on 0.0.0.0 (behind AgentCore) any Host is served, but a foreign Origin is still refused', async () => {
    const { server, turns, invoke } = await countingRuntime({ host: '0.0.0.0' })
    try {
      assert.equal((await invoke({ host: `rebind.test:${server.port}` })).status, 200)
      const refused = await invoke({
        host: `rebind.test:${server.port}`,
        origin: `http://rebind.test:${server.port}`,
      })
      assert.equal(refused.status, 403)
      assert.equal(errorCode(refused), 'ORIGIN_NOT_ALLOWED')
      assert.equal(turns.length, 1)
    } finally {
      await server.close()
    }
  })

  test('allowedOrigins lets exactly those origins call; an entry that is not an origin stops the start', async () => {
    const { server, turns, invoke } = await countingRuntime({
      host: '127.0.0.1',
      allowedOrigins: ['https://app.example.com/', 'http://tools.example.com:8443'],
    })
    try {
      assert.equal((await invoke({ origin: 'https://app.example.com' })).status, 200)
      assert.equal((await invoke({ origin: 'http://tools.example.com:8443' })).status, 200)
      assert.equal((await invoke({ origin: 'http://app.example.com' })).status, 403)
      assert.equal((await invoke({ origin: 'http://tools.example.com' })).status, 403)
      assert.equal(turns.length, 2)
    } finally {
      await server.close()
    }
    for (const entry of ['app.example.com', 'https://app.example.com/path', 'null']) {
      await assert.rejects(
        AgentRuntimeServer.start({
          handler: async () => ({ response: '', session_id: '', tasks: [] }),
          port: 0,
          host: '127.0.0.1',
          allowedOrigins: [entry],
        }),
        { code: 'INVALID_ALLOWED_ORIGIN' },
        entry,
      )
    }
  })
})

describe('the local AgentCore service refuses what a web page sends, and serves the AWS SDK clients', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  const lines: string[] = []
  const adminToken = 'an-admin-token-of-some-length'
  before(async () => {
    env = await startLocalAgentCore({ adminToken, log: (line) => lines.push(line) })
    memoryId = await env.createMemory()
  })
  after(() => env.close())

  const sigv4 = `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20260101/us-east-1/bedrock-agentcore/aws4_request, SignedHeaders=host, Signature=00`
  const listActors = (headers: Record<string, string>) =>
    rawRequest(env.service.port, {
      method: 'POST',
      path: `/memories/${memoryId}/actors`,
      headers: { authorization: sigv4, 'content-type': 'application/json', ...headers },
      body: '{}',
    })

  test('a foreign Host is refused with 403 AccessDeniedException on every route, the admin ones included', async () => {
    const refusedBefore = lines.filter((line) => line.includes('reason=host')).length
    const host = `rebind.test:${env.service.port}`
    const answers = [
      await listActors({ host }),
      await rawRequest(env.service.port, { path: '/_local/health', headers: { host } }),
      await rawRequest(env.service.port, {
        path: '/_local/stats',
        headers: { host, authorization: `Bearer ${adminToken}` },
      }),
      await rawRequest(env.service.port, {
        method: 'POST',
        path: `/runtimes/${encodeURIComponent('arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/a-0123456789')}/invocations`,
        headers: { host, authorization: 'Bearer x' },
        unsentBody: 50 * 1024 * 1024,
      }),
    ]
    for (const answer of answers) {
      assert.equal(answer.status, 403)
      assert.equal(answer.headers['x-amzn-errortype'], 'AccessDeniedException')
    }
    assert.equal(lines.filter((line) => line.includes('reason=host')).length - refusedBefore, answers.length)
    assert.equal((await listActors({})).status, 200)
  })

  test('over HTTP/2 a foreign :authority is refused, and the Bedrock Runtime client is served', async () => {
    const converse = { ':method': 'POST', ':path': '/model/m/converse', authorization: sigv4 }
    const foreign = await rawHttp2(env.service.url, {
      ...converse,
      ':authority': `rebind.test:${env.service.port}`,
    })
    assert.deepEqual(foreign, { status: 403, type: 'AccessDeniedException' })
    const client = new BedrockRuntimeClient({
      endpoint: env.service.url,
      region: 'us-east-1',
      credentials: TEST_CREDENTIALS,
    })
    try {
      const answer = await client.send(
        new ConverseCommand({
          modelId: 'global.anthropic.claude-sonnet-4-6',
          messages: [{ role: 'user', content: [{ text: 'hello' }] }],
        }),
      )
      assert.equal(answer.$metadata.httpStatusCode, 200)
    } finally {
      client.destroy()
    }
  })

  test('any Origin but its own is refused, on the memory plane as on the gateway; the SDK clients send none and are served', async () => {
    for (const origin of ['http://attacker.test:3000', `http://localhost:${env.service.port + 1}`, 'null']) {
      const answer = await listActors({ origin })
      assert.equal(answer.status, 403, origin)
      assert.equal(answer.headers['x-amzn-errortype'], 'AccessDeniedException')
    }
    assert.equal((await listActors({ 'sec-fetch-site': 'cross-site' })).status, 403)
    assert.equal((await listActors({ origin: `http://127.0.0.1:${env.service.port}` })).status, 200)
    const memories = await env.control.send(new ListMemoriesCommand({}))
    assert.ok(memories.memories?.some((memory) => memory.id === memoryId))
    const events = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'someone', sessionId: 'nothing-here' }),
    )
    assert.deepEqual(events.events, [])
  })

  test('on 0.0.0.0 any Host is served, but a foreign Origin is still refused', async () => {
    const open = await startLocalAgentCore({ host: '0.0.0.0' })
    try {
      const health = (headers: Record<string, string>) =>
        rawRequest(open.service.port, { path: '/_local/health', headers })
      assert.equal((await health({ host: `rebind.test:${open.service.port}` })).status, 200)
      assert.equal((await health({ origin: 'http://attacker.test' })).status, 403)
    } finally {
      await open.close()
    }
  })

  test('allowedHosts replaces the loopback names: those hosts are served, others refused', async () => {
    const named = await startLocalAgentCore({ allowedHosts: ['agentcore.internal', '127.0.0.1'] })
    try {
      const health = (host: string) =>
        rawRequest(named.service.port, { path: '/_local/health', headers: { host } })
      assert.equal((await health(`agentcore.internal:${named.service.port}`)).status, 200)
      assert.equal((await health(`127.0.0.1:${named.service.port}`)).status, 200)
      assert.equal((await health(`localhost:${named.service.port}`)).status, 403)
      assert.equal((await health(`rebind.test:${named.service.port}`)).status, 403)
    } finally {
      await named.close()
    }
  })

  test('the admin token is checked whole: a wrong one of any length is 401, the right one is served', async () => {
    for (const wrong of ['', 'x', adminToken.slice(0, -1), `${adminToken}x`, adminToken.toUpperCase()]) {
      const answer = await rawRequest(env.service.port, {
        path: '/_local/stats',
        headers: { authorization: `Bearer ${wrong}` },
      })
      assert.equal(answer.status, 401, JSON.stringify(wrong))
      assert.equal(answer.headers['x-amzn-errortype'], 'AccessDeniedException')
    }
    const right = await rawRequest(env.service.port, {
      path: '/_local/stats',
      headers: { authorization: `Bearer ${adminToken}` },
    })
    assert.equal(right.status, 200)
  })
})
