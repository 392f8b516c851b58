/**
 * Wakes of a runtime behind JWT authentication: the MCP server wakes it as a machine identity (an
 * OAuth client-credentials client of the same issuer), the runtime lets that subject name the actor
 * of a wake and of nothing else, and the MCP server lets it act for the actor its continuation turn
 * names, so the continuation's own task belongs to the user.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { loadEnvironment } from '../../src/config.ts'
import { CONTINUATION_METADATA_KEY } from '../../src/contract/index.ts'
import { type StartedRuntime, startRuntimeFromEnv } from '../../src/entrypoint.ts'
import { evaluateModelTool, LongRunningMcpServer, modelTrainingTool } from '../../src/mcp-server/index.ts'
import { BearerInvoker, readAnswer } from '../../src/runtime-client/index.ts'
import { InvocationAnswerSchema, SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import {
  type LocalAgentCoreFixture,
  listSessionEvents,
  startLocalAgentCore,
  TEST_CREDENTIALS,
  waitFor,
} from '../helpers/local-agentcore.ts'
import { configFromEnv, secretsFromEnv } from '../../src/mcp-server-entrypoint.ts'
import { secretsManagerReader } from '../../src/shared/secret-value.ts'
import { tempDir } from '../helpers/mcp-server.ts'
import {
  type FakeSecretsManager,
  startFakeSecretsManager,
  testSecretArn,
} from '../helpers/secrets-manager.ts'
import { sessionIdFor, TEST_RUNTIME_ARN } from '../helpers/runtime-stack.ts'

const ISSUER = 'https://issuer.wake.test'
const AUDIENCE = 'longrun'
const WAKE_CLIENT = 'wake-client'
const WAKE_SECRET = 'wake-client-secret-0123456789'
const WAKE_SECRET_ARN = testSecretArn('longrun-wake-client')
/** Cognito's form: `<resource server>/<scope>`. */
const WAKE_SCOPE = 'longrun/wake'

describe('a JWT runtime is woken by the MCP server as a machine identity', () => {
  let keys: Server
  let tokenEndpoint: Server
  let sign: (subject: string) => Promise<string>
  let jwk: JWK
  let env: LocalAgentCoreFixture
  let memoryId: string
  let mcp: LongRunningMcpServer
  let secretsManager: FakeSecretsManager | undefined
  let runtime: StartedRuntime
  let dir: { path: string; remove(): Promise<void> }
  const tokensIssued: string[] = []

  before(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }
    sign = (subject) =>
      new SignJWT({ client_id: subject })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setSubject(subject)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(privateKey)
    keys = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ keys: [jwk] }))
    })
    // The issuer's token endpoint: client credentials in Basic auth, a token whose subject is the client.
    tokenEndpoint = createServer((request, response) => {
      const expected = `Basic ${Buffer.from(`${WAKE_CLIENT}:${WAKE_SECRET}`).toString('base64')}`
      let body = ''
      request.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8')
      })
      request.on('end', () => {
        const form = new URLSearchParams(body)
        if (
          request.headers.authorization !== expected ||
          form.get('grant_type') !== 'client_credentials' ||
          form.get('scope') !== WAKE_SCOPE
        ) {
          response.writeHead(401, { 'content-type': 'application/json' })
          response.end(JSON.stringify({ error: 'invalid_client' }))
          return
        }
        void sign(WAKE_CLIENT).then((token) => {
          tokensIssued.push(token)
          response.writeHead(200, { 'content-type': 'application/json' })
          response.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }))
        })
      })
    })
    await new Promise<void>((resolve) => keys.listen(0, '127.0.0.1', resolve))
    await new Promise<void>((resolve) => tokenEndpoint.listen(0, '127.0.0.1', resolve))
    const jwksUrl = `http://127.0.0.1:${(keys.address() as AddressInfo).port}/jwks.json`
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
    dir = await tempDir('longrun-wake-identity-')
    secretsManager = await startFakeSecretsManager({ [WAKE_SECRET_ARN]: WAKE_SECRET })
    // Only the wake is taken from this environment; the server's auth is the JWT one below.
    const mcpEnv = loadEnvironment({
      MCP_AUTH: 'none',
      MCP_WAKE_RUNTIME: TEST_RUNTIME_ARN,
      MCP_WAKE_TOKEN_URL: `http://127.0.0.1:${(tokenEndpoint.address() as AddressInfo).port}/oauth2/token`,
      MCP_WAKE_CLIENT_ID: WAKE_CLIENT,
      MCP_WAKE_CLIENT_SECRET_ARN: WAKE_SECRET_ARN,
      MCP_WAKE_SCOPE: WAKE_SCOPE,
    })
    const wakeFromEnv = configFromEnv(
      mcpEnv,
      await secretsFromEnv(
        mcpEnv,
        secretsManagerReader({
          region: 'us-east-1',
          endpoint: secretsManager.url,
          credentials: TEST_CREDENTIALS,
        }),
      ),
    )
    mcp = await LongRunningMcpServer.start({
      port: 0,
      host: '127.0.0.1',
      dataDir: dir.path,
      auth: {
        kind: 'jwt',
        issuer: ISSUER,
        audience: AUDIENCE,
        jwks: jwksUrl,
        serviceSubjects: [WAKE_CLIENT],
      },
      tools: [modelTrainingTool({ dataDir: dir.path }), evaluateModelTool({ dataDir: dir.path })],
      memoryClient: env.data,
      agentCoreEndpoint: env.service.url,
      // As the deploy sets it: the client's secret named by its Secrets Manager ARN, read at start
      // (the real SDK client, against a stand-in for Secrets Manager).
      wake: wakeFromEnv.wake,
      deliveryBaseDelayMs: 20,
      deliveryMaxDelayMs: 200,
    })
    runtime = await startRuntimeFromEnv(
      loadEnvironment({
        PORT: '0',
        RUNTIME_HOST: '127.0.0.1',
        MODEL_PROVIDER: 'demo',
        AGENTCORE_ENDPOINT: env.service.url,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        MEMORY_ID: memoryId,
        // No MCP_BEARER_TOKEN: the caller's token goes on to the MCP server, which checks it too.
        MCP_SERVER_URL: mcp.url,
        RUNTIME_JWT_ISSUER: ISSUER,
        RUNTIME_JWT_AUDIENCE: AUDIENCE,
        RUNTIME_JWKS_URL: jwksUrl,
        RUNTIME_JWT_WAKE_SUBJECTS: WAKE_CLIENT,
      }),
      { memoryCredentials: TEST_CREDENTIALS, modelCredentials: TEST_CREDENTIALS },
    )
    env.service.registerRuntime('*', runtime.server.url)
  })

  after(async () => {
    await runtime?.close()
    await mcp?.close()
    await env?.close()
    await dir?.remove()
    await new Promise<void>((resolve) => keys.close(() => resolve()))
    await new Promise<void>((resolve) => tokenEndpoint.close(() => resolve()))
    await secretsManager?.close()
  })

  test('the story runs for the user, woken with the client token, and the evaluation is the user’s', async () => {
    const sessionId = sessionIdFor('jwt-wake')
    const user = new BearerInvoker({
      endpoint: env.service.url,
      token: { value: await sign('carol'), source: 'test' },
    })
    const opened = await user.open({
      runtimeArn: TEST_RUNTIME_ARN,
      sessionId,
      prompt: 'Train a model called jwt-model for 2 epochs, then evaluate it.',
      json: true,
    })
    const first = InvocationAnswerSchema.parse(JSON.parse(await readAnswer(opened.body)))
    assert.equal(first.tasks.length, 1)
    const session = { memoryId, actorId: 'carol', sessionId }
    // Both continuations ran: the training's (which started the evaluation) and the evaluation's.
    const continuations = await waitFor(async () => {
      const events = await listSessionEvents(env.data, session.memoryId, session.actorId, session.sessionId)
      const answers = events.filter(
        (event) =>
          event.metadata?.[CONTINUATION_METADATA_KEY] !== undefined &&
          JSON.stringify(event.payload).includes('Summary:'),
      )
      return answers.length > 0 ? events : undefined
    }, 60_000)
    assert.ok(continuations.some((event) => JSON.stringify(event.payload).includes('start_evaluate_model')))
    assert.ok(tokensIssued.length >= 1, 'the wakes went with a token of the client')
    // The evaluation task the continuation started is the user's own: listed with the user's token.
    const listed = await user.open({
      runtimeArn: TEST_RUNTIME_ARN,
      sessionId,
      prompt: 'list my tasks',
      json: true,
    })
    const tasks = InvocationAnswerSchema.parse(JSON.parse(await readAnswer(listed.body))).response
    assert.match(tasks, /You have 2 task\(s\)/)
    assert.match(tasks, /evaluate_model/)
  })

  test("the client's token names the actor of a wake only: a prompt with it is the client's own, a wake for another's task finds nothing", async () => {
    const token = await sign(WAKE_CLIENT)
    const call = async (body: Record<string, unknown>) => {
      const response = await fetch(`${runtime.server.url}/invocations`, {
        method: 'POST',
        headers: { [SESSION_ID_HEADER]: sessionIdFor('jwt-wake-other'), authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      })
      return { status: response.status, body: (await response.json()) as { error?: { code: string } } }
    }
    // A prompt naming the user's actor: refused, the client is not the user.
    const prompt = await call({ prompt: 'list my tasks', actor_id: 'carol' })
    assert.equal(prompt.status, 403)
    assert.equal(prompt.body.error?.code, 'FORBIDDEN')
    // A wake must name the actor, and finds nothing that is not in that actor's session.
    const unnamed = await call({ wake: { task_id: 'NoSuchTask0123456789abcd', depth: 1 } })
    assert.equal(unnamed.body.error?.code, 'INVALID_REQUEST')
    const unknown = await call({ wake: { task_id: 'NoSuchTask0123456789abcd', depth: 1 }, actor_id: 'carol' })
    assert.equal(unknown.status, 404)
    assert.equal(unknown.body.error?.code, 'WAKE_TASK_NOT_FOUND')
    // Another subject's token may not wake: the actor is its own subject, where no such task is.
    const other = await fetch(`${runtime.server.url}/invocations`, {
      method: 'POST',
      headers: {
        [SESSION_ID_HEADER]: sessionIdFor('jwt-wake-other'),
        authorization: `Bearer ${await sign('mallory')}`,
      },
      body: JSON.stringify({ wake: { task_id: 'NoSuchTask0123456789abcd', depth: 1 }, actor_id: 'carol' }),
    })
    assert.equal(other.status, 403)
  })
})
