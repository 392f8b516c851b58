/**
 * A runtime's refusal reaches its caller as data: the local gateway puts the runtime's code, status
 * and field in headers and its message in the AWS error, and `invokeFailureOf` reads them, whether
 * the call was signed with SigV4 (the AWS SDK) or sent with a bearer token.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { RUNTIME_ERROR_HEADERS } from '../../src/contract/index.ts'
import { BearerInvoker, invokeFailureOf } from '../../src/runtime-client/index.ts'
import { SigV4Invoker } from '../../src/runtime-client/sigv4-invoker.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'

const ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/refusing_agent-0123456789'
const INVOCATION = { runtimeArn: ARN, sessionId: `refusal-${'0'.repeat(40)}`, prompt: 'hello' }

describe('a runtime refusal, read as data', () => {
  let env: LocalAgentCoreFixture
  let runtime: Server
  /** What the stand-in runtime answers next: a status and a body. */
  let answer: { status: number; body: string }

  before(async () => {
    env = await startLocalAgentCore()
    runtime = createServer((request, response) => {
      request.resume()
      response.writeHead(answer.status, { 'content-type': 'application/json' })
      response.end(answer.body)
    })
    await new Promise<void>((resolve) => runtime.listen(0, '127.0.0.1', resolve))
    env.service.registerRuntime('*', `http://127.0.0.1:${(runtime.address() as AddressInfo).port}`)
  })
  after(async () => {
    await new Promise<void>((resolve) => runtime.close(() => resolve()))
    await env.close()
  })

  const refusalThrough = async (invoker: SigV4Invoker | BearerInvoker) => {
    try {
      await invoker.open(INVOCATION)
    } catch (error) {
      return error
    }
    assert.fail('the invocation was refused')
  }

  test('the runtime code, status and field travel in headers, its message in the error, with either signing', async () => {
    answer = {
      status: 400,
      body: JSON.stringify({
        error: { code: 'INVALID_REQUEST', message: 'prompt must not be empty', field: 'prompt' },
      }),
    }
    const sigv4 = await refusalThrough(new SigV4Invoker({ client: env.data }))
    assert.equal((sigv4 as Error).name, 'RuntimeClientError')
    assert.equal((sigv4 as Error).message, 'prompt must not be empty', 'the message is the runtime’s own')
    const headers = (sigv4 as { $response: { headers: Record<string, string> } }).$response.headers
    assert.equal(headers[RUNTIME_ERROR_HEADERS.code], 'INVALID_REQUEST')
    assert.equal(headers[RUNTIME_ERROR_HEADERS.status], '400')
    assert.equal(headers[RUNTIME_ERROR_HEADERS.field], 'prompt')
    assert.deepEqual(invokeFailureOf(sigv4), {
      code: 'INVALID_REQUEST',
      message: 'INVALID_REQUEST: prompt must not be empty (HTTP 400)',
    })

    const bearer = await refusalThrough(
      new BearerInvoker({ endpoint: env.service.url, token: { value: 'a-token', source: 'a test' } }),
    )
    assert.equal(invokeFailureOf(bearer).code, 'INVALID_REQUEST')
  })

  test('a busy session is a retryable 409 carrying SESSION_BUSY', async () => {
    answer = { status: 409, body: JSON.stringify({ error: { code: 'SESSION_BUSY', message: 'busy' } }) }
    const error = await refusalThrough(new SigV4Invoker({ client: env.data }))
    assert.equal((error as Error).name, 'RetryableConflictException')
    assert.equal(invokeFailureOf(error).code, 'SESSION_BUSY')
  })

  test('a body that is not the runtime error shape is told by the AWS error, quoting it', async () => {
    answer = { status: 502, body: 'upstream trouble' }
    const error = await refusalThrough(new SigV4Invoker({ client: env.data }))
    const failure = invokeFailureOf(error)
    assert.equal(failure.code, 'RuntimeClientError')
    assert.match(failure.message, /upstream trouble/)
  })
})
