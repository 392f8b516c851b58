import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { JSONWebKeySet } from 'jose'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { connectClient, startTestServer, structured, tempDir, TEST_TOKEN } from '../helpers/mcp-server.ts'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'longrun-mcp'

describe('JWT authentication', () => {
  let dir: { path: string; remove(): Promise<void> }
  let server: LongRunningMcpServer
  let sign: (
    subject: string | undefined,
    overrides?: { issuer?: string; audience?: string; expires?: string },
  ) => Promise<string>
  let jwks: JSONWebKeySet
  let otherKeySign: (subject: string) => Promise<string>
  /** A token with these claims and no audience (as Cognito access tokens are). */
  let signWith: (claims: Record<string, string>, subject: string) => Promise<string>

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }
    jwks = { keys: [jwk] }
    sign = (subject, overrides = {}) => {
      const jwt = new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(overrides.issuer ?? ISSUER)
        .setAudience(overrides.audience ?? AUDIENCE)
        .setExpirationTime(overrides.expires ?? '5m')
      if (subject !== undefined) jwt.setSubject(subject)
      return jwt.sign(privateKey)
    }
    signWith = (claims, subject) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(ISSUER)
        .setSubject(subject)
        .setExpirationTime('5m')
        .sign(privateKey)
    const other = await generateKeyPair('ES256')
    otherKeySign = (subject) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject(subject)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(other.privateKey)
    dir = await tempDir()
    server = await startTestServer(dir.path, {
      auth: {
        kind: 'jwt',
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: { keys: [jwk] },
        requireSubjectMatchesActor: true,
      },
    })
  })
  after(async () => {
    await server.close()
    await dir.remove()
  })

  const memory = (actorId: string) => ({ sessionId: 's1', memoryId: 'mem-AbCdEf1234', actorId })

  test('a valid token whose subject is the actor in the header is served', async () => {
    const client = await connectClient(server.url, { token: await sign('alice'), memory: memory('alice') })
    const listed = structured(await client.callTool({ name: 'list_tasks', arguments: {} }))
    assert.deepEqual(listed.tasks, [])
    await client.close()
  })

  test('the 401 points at protected-resource metadata naming the issuer as the authorization server (RFC 9728)', async () => {
    const origin = new URL(server.url).origin
    const refused = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    assert.equal(refused.status, 401)
    const metadataUrl = `${origin}/.well-known/oauth-protected-resource/mcp`
    assert.equal(
      refused.headers.get('www-authenticate'),
      `Bearer realm="longrun-mcp", resource_metadata="${metadataUrl}"`,
    )
    const expired = await fetch(server.url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await sign('alice', { expires: '-1m' })}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    })
    assert.equal(expired.status, 401)
    assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const metadata = await fetch(`${origin}${path}`)
      assert.equal(metadata.status, 200)
      assert.deepEqual(await metadata.json(), {
        resource: `${origin}/mcp`,
        authorization_servers: [ISSUER],
        bearer_methods_supported: ['header'],
      })
    }
  })

  test('a wrong issuer or audience is 401 and a subject that is not the actor is 403', async () => {
    const status = async (token: string, actorId: string) => {
      const response = await fetch(server.url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'mcp-session-id': `s1@@@mem-AbCdEf1234@@@${actorId}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
      })
      await response.body?.cancel()
      return response.status
    }
    assert.equal(await status(await sign('alice', { issuer: 'https://evil.test' }), 'alice'), 401)
    assert.equal(await status(await sign('alice', { audience: 'other' }), 'alice'), 401)
    assert.equal(await status('not.a.jwt', 'alice'), 401)
    assert.equal(await status(await sign('mallory'), 'alice'), 403)
    assert.equal(await status(await sign('alice'), 'alice'), 200)
    assert.equal(await status(await sign('alice', { expires: '1 minute ago' }), 'alice'), 401, 'expired')
    assert.equal(await status(await otherKeySign('alice'), 'alice'), 401, 'signed by another key')
    assert.equal(await status(await sign(undefined), 'alice'), 401, 'no sub claim')
  })

  test('with allowed client ids, a Cognito-style access token (client_id, no aud) is served and another client is refused', async () => {
    const byClient = await startTestServer(dir.path, {
      dataDir: `${dir.path}/clients`,
      auth: { kind: 'jwt', issuer: ISSUER, clientIds: ['app-client-1'], jwks },
    })
    try {
      const status = async (clientId: string) => {
        const token = await signWith({ client_id: clientId, token_use: 'access' }, 'alice')
        const response = await fetch(byClient.url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'mcp-session-id': 's1@@@mem-AbCdEf1234@@@alice',
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        })
        await response.body?.cancel()
        return response.status
      }
      assert.equal(await status('app-client-1'), 200)
      assert.equal(await status('another-client'), 401)
    } finally {
      await byClient.close()
    }
    await assert.rejects(
      startTestServer(dir.path, {
        dataDir: `${dir.path}/neither`,
        auth: { kind: 'jwt', issuer: ISSUER, jwks },
      }),
      (error: { code?: string }) => error.code === 'INVALID_CONFIG',
    )
  })

  test('with default settings a token may not name another actor, and a token without sub is refused', async () => {
    const defaults = await startTestServer(dir.path, {
      dataDir: `${dir.path}/defaults`,
      auth: { kind: 'jwt', issuer: ISSUER, audience: AUDIENCE, jwks },
    })
    try {
      const status = async (token: string, sessionHeader?: string) => {
        const response = await fetch(defaults.url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            ...(sessionHeader !== undefined && { 'mcp-session-id': sessionHeader }),
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
          },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
        })
        await response.body?.cancel()
        return response.status
      }
      assert.equal(await status(await sign('mallory'), 's1@@@mem-AbCdEf1234@@@alice'), 403)
      assert.equal(await status(await sign(undefined), 's1@@@mem-AbCdEf1234@@@alice'), 401)
      assert.equal(await status(await sign(undefined)), 401)
      assert.equal(await status(await sign('alice'), 's1@@@mem-AbCdEf1234@@@alice'), 200)
    } finally {
      await defaults.close()
    }
  })

  test('when relaxed, a token naming another actor owns its tasks apart from that actor; header-less callers are scoped by subject', async () => {
    const relaxed = await startTestServer(dir.path, {
      dataDir: `${dir.path}/relaxed`,
      auth: { kind: 'jwt', issuer: ISSUER, audience: AUDIENCE, jwks, requireSubjectMatchesActor: false },
    })
    const clients = []
    try {
      const mallory = await connectClient(relaxed.url, {
        token: await sign('mallory'),
        memory: memory('alice'),
      })
      const alice = await connectClient(relaxed.url, { token: await sign('alice'), memory: memory('alice') })
      const bob = await connectClient(relaxed.url, { token: await sign('bob') })
      const carol = await connectClient(relaxed.url, { token: await sign('carol') })
      clients.push(mallory, alice, bob, carol)
      const started = await mallory.callTool({ name: 'start_text_statistics', arguments: { text: 'a b' } })
      const malloryTask = structured(started).task_id as string
      const bobTask = structured(
        await bob.callTool({ name: 'start_text_statistics', arguments: { text: 'c d' } }),
      ).task_id as string
      const tasksOf = async (client: typeof alice) =>
        (
          structured(await client.callTool({ name: 'list_tasks', arguments: {} })).tasks as Array<{
            task_id: string
          }>
        ).map((task) => task.task_id)
      assert.deepEqual(await tasksOf(mallory), [malloryTask])
      assert.deepEqual(await tasksOf(alice), [], "alice does not see mallory's task")
      assert.deepEqual(await tasksOf(bob), [bobTask])
      assert.deepEqual(
        await tasksOf(carol),
        [],
        'header-less callers with other subjects do not share a bucket',
      )
    } finally {
      for (const client of clients) await client.close()
      await relaxed.close()
    }
  })

  test('with a static token, header-less callers share the token’s bucket, which no actor can name', async () => {
    const bearer = await startTestServer(dir.path, { dataDir: `${dir.path}/bearer` })
    const clients = []
    try {
      const plain = await connectClient(bearer.url, { token: TEST_TOKEN })
      const named = await connectClient(bearer.url, { token: TEST_TOKEN, memory: memory('anonymous') })
      clients.push(plain, named)
      const taskId = structured(
        await plain.callTool({ name: 'start_text_statistics', arguments: { text: 'a b' } }),
      ).task_id as string
      const list = async (client: typeof plain) =>
        (
          structured(await client.callTool({ name: 'list_tasks', arguments: {} })).tasks as Array<{
            task_id: string
          }>
        ).map((task) => task.task_id)
      assert.deepEqual(await list(plain), [taskId])
      assert.deepEqual(
        await list(named),
        [],
        "an actor named 'anonymous' does not see the header-less bucket",
      )
    } finally {
      for (const client of clients) await client.close()
      await bearer.close()
    }
  })
})
