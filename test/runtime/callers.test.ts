import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import { listSessionEvents } from '../helpers/local-agentcore.ts'
import { startTestServer, tempDir, unreachableMcpUrl } from '../helpers/mcp-server.ts'
import { responseOf, sessionIdFor, TEST_RUNTIME_ARN, useRuntimeStack } from '../helpers/runtime-stack.ts'

const ISSUER = 'https://issuer.runtime.test'
const AUDIENCE = 'longrun-runtime'

describe('callers: each actor sees only its own conversation and tasks', () => {
  const stack = useRuntimeStack()

  test('two actors on the same session id share neither history nor tasks', async () => {
    await stack.startRuntime()
    const sessionId = sessionIdFor('two-actors')
    const alice = await stack.invoke('Train a model called alice-model for 2 epochs', {
      sessionId,
      actorId: 'alice',
    })
    const aliceTask = alice.answer?.tasks[0]?.task_id
    assert.ok(aliceTask)
    const bobStatus = await stack.invoke('what is the status of my task', { sessionId, actorId: 'bob' })
    assert.match(responseOf(bobStatus), /You have not started a task/)
    const bobTasks = await stack.invoke('list my tasks', { sessionId, actorId: 'bob' })
    assert.match(responseOf(bobTasks), /You have no tasks/)
    assert.ok(!responseOf(bobTasks).includes(aliceTask))
    const aliceTasks = await stack.invoke('list my tasks', { sessionId, actorId: 'alice' })
    assert.ok(responseOf(aliceTasks).includes(aliceTask))
  })

  describe('with JWT caller authentication', () => {
    let jwksServer: Server
    let sign: (subject: string) => Promise<string>
    let jwk: JWK
    let signingKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
    const jwtVariables = () => ({
      RUNTIME_JWT_ISSUER: ISSUER,
      RUNTIME_JWT_AUDIENCE: AUDIENCE,
      RUNTIME_JWKS_URL: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`,
    })
    before(async () => {
      const { publicKey, privateKey } = await generateKeyPair('ES256')
      signingKey = privateKey
      jwk = { ...(await exportJWK(publicKey)), kid: 'runtime-key', alg: 'ES256' }
      sign = (subject) =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'ES256', kid: 'runtime-key' })
          .setSubject(subject)
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime('5m')
          .sign(privateKey)
      jwksServer = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json' })
        response.end(JSON.stringify({ keys: [jwk] }))
      })
      await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
    })
    after(() => new Promise<void>((resolve) => jwksServer.close(() => resolve())))

    test('the token subject is the actor; another actor_id is 403, a missing or forged token 401', async () => {
      const runtime = await stack.startRuntime(jwtVariables())
      const sessionId = sessionIdFor('jwt-callers')
      const call = async (body: Record<string, unknown>, token?: string) => {
        const response = await fetch(`${runtime.server.url}/invocations`, {
          method: 'POST',
          headers: {
            [SESSION_ID_HEADER]: sessionId,
            ...(token !== undefined && { authorization: `Bearer ${token}` }),
          },
          body: JSON.stringify(body),
        })
        return { status: response.status, body: (await response.json()) as Record<string, unknown> }
      }
      const carol = await sign('carol')
      const impersonation = await call({ prompt: 'list my tasks', actor_id: 'dave' }, carol)
      assert.equal(impersonation.status, 403)
      assert.deepEqual((impersonation.body.error as { code: string; field: string }).code, 'FORBIDDEN')
      assert.equal((impersonation.body.error as { field: string }).field, 'actor_id')
      assert.equal((await call({ prompt: 'list my tasks' })).status, 401)
      const forged = `${carol.slice(0, -4)}AAAA`
      const rejected = await call({ prompt: 'list my tasks' }, forged)
      assert.equal(rejected.status, 401)
      assert.equal((rejected.body.error as { code: string }).code, 'UNAUTHENTICATED')
      assert.deepEqual(await listSessionEvents(stack.env.data, stack.memoryId, 'dave', sessionId), [])

      const own = await call({ prompt: 'Train a model called carol-model for 2 epochs' }, carol)
      assert.equal(own.status, 200)
      const named = await call({ prompt: 'what is the status of my task', actor_id: 'carol' }, carol)
      assert.equal(named.status, 200)
      assert.match(String(named.body.response), /Task \S+ \(model_training\) is/)
      const stored = await listSessionEvents(stack.env.data, stack.memoryId, 'carol', sessionId)
      assert.ok(stored.length > 0, "the conversation is kept under the token's subject")
      assert.deepEqual(await listSessionEvents(stack.env.data, stack.memoryId, 'default', sessionId), [])
    })

    test('tokens without an expiry, for another client or for another memory are refused; an unreachable key set is a 503', async () => {
      const runtime = await stack.startRuntime({
        RUNTIME_JWT_ISSUER: ISSUER,
        RUNTIME_JWT_CLIENT_IDS: 'allowed-client',
        RUNTIME_JWKS_URL: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`,
      })
      const call = async (token: string, body: Record<string, unknown> = { prompt: 'list my tasks' }) => {
        const response = await fetch(`${runtime.server.url}/invocations`, {
          method: 'POST',
          headers: { [SESSION_ID_HEADER]: sessionIdFor('jwt-rules'), authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        })
        const parsed = (await response.json()) as { error?: { code: string; field?: string } }
        return [response.status, parsed.error?.code ?? 'ok', parsed.error?.field] as const
      }
      const accessToken = (claims: Record<string, unknown>, expires = true) => {
        const jwt = new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'runtime-key' })
          .setSubject('frank')
          .setIssuer(ISSUER)
        return (expires ? jwt.setExpirationTime('5m') : jwt).sign(signingKey)
      }
      assert.deepEqual(await call(await accessToken({ client_id: 'allowed-client' })), [200, 'ok', undefined])
      assert.deepEqual(await call(await accessToken({ client_id: 'other-client' })), [
        401,
        'UNAUTHENTICATED',
        undefined,
      ])
      assert.deepEqual(await call(await accessToken({ client_id: 'allowed-client' }, false)), [
        401,
        'UNAUTHENTICATED',
        undefined,
      ])
      const otherMemory = { prompt: 'list my tasks', memory_id: 'elsewhere_memory-AbCdEf1234' }
      assert.deepEqual(await call(await accessToken({ client_id: 'allowed-client' }), otherMemory), [
        403,
        'FORBIDDEN',
        'memory_id',
      ])
      const unreachable = await stack.startRuntime({
        RUNTIME_JWT_ISSUER: ISSUER,
        RUNTIME_JWT_AUDIENCE: AUDIENCE,
        RUNTIME_JWKS_URL: (await unreachableMcpUrl()).replace('/mcp', '/jwks.json'),
      })
      const response = await fetch(`${unreachable.server.url}/invocations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${await sign('frank')}` },
        body: JSON.stringify({ prompt: 'list my tasks' }),
      })
      assert.equal(response.status, 503)
      assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'AUTH_UNAVAILABLE')
    })

    test("without MCP_BEARER_TOKEN the caller's token goes on to an MCP server that checks the same tokens", async () => {
      const dir = await tempDir('longrun-jwt-mcp-')
      const mcp = await startTestServer(dir.path, {
        memoryClient: stack.env.data,
        auth: { kind: 'jwt', issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [jwk] } },
      })
      try {
        await stack.startRuntime({ ...jwtVariables(), MCP_SERVER_URL: mcp.url, MCP_BEARER_TOKEN: '' })
        const erin = await sign('erin')
        const response = await fetch(
          `${stack.env.service.url.replace(/\/$/, '')}/runtimes/${encodeURIComponent(TEST_RUNTIME_ARN)}/invocations`,
          {
            method: 'POST',
            headers: { authorization: `Bearer ${erin}`, [SESSION_ID_HEADER]: sessionIdFor('jwt-mcp') },
            body: JSON.stringify({ prompt: 'Train a model called erin-model for 2 epochs' }),
          },
        )
        const body = (await response.json()) as { response: string; tasks: { task_id: string }[] }
        assert.equal(response.status, 200)
        const taskId = body.tasks[0]?.task_id
        assert.ok(taskId, body.response)
        const stored = await mcp.backend.get(taskId, 'erin')
        assert.equal(stored?.caller?.actorId, 'erin', "the task is owned by the token's subject")
      } finally {
        await mcp.close()
        await dir.remove()
      }
    })
  })
})
