import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { connectClient, startTestServer, structured, tempDir } from '../helpers/mcp-server.ts'

const ISSUER = 'https://issuer.test'
const AUDIENCE = 'longrun-mcp'

describe('JWT authentication', () => {
  let dir: { path: string; remove(): Promise<void> }
  let server: LongRunningMcpServer
  let sign: (subject: string, overrides?: { issuer?: string; audience?: string }) => Promise<string>

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }
    sign = (subject, overrides = {}) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject(subject)
        .setIssuer(overrides.issuer ?? ISSUER)
        .setAudience(overrides.audience ?? AUDIENCE)
        .setExpirationTime('5m')
        .sign(privateKey)
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
  })
})
