/**
 * `longrun invoke` (and `longrun chat`) as processes against the local gateway, both ways of signing: SigV4 through the
 * AWS SDK (IAM callers), and a bearer token (`--bearer-token`, `AGENTCORE_BEARER_TOKEN`) for a
 * runtime that verifies JWTs, which takes the right token and refuses a wrong one in one clear line.
 * And a model that cannot be reached: the runtime's error is printed once, with its code.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose'
import { parseRuntimeStream, SESSION_ID_HEADER } from '../../src/runtime/index.ts'
import { NODE } from '../helpers/child-process.ts'
import { CLI, type CliOutcome, runCli } from '../helpers/dev-stack.ts'
import { listSessionEvents } from '../helpers/local-agentcore.ts'
import { tempDir, unreachableMcpUrl, waitFor } from '../helpers/mcp-server.ts'
import { sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

type SigningKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey']
const ISSUER = 'https://issuer.cli.test'
const AUDIENCE = 'longrun-runtime'
const JWT_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/jwt_agent-0123456789'
const IAM_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/iam_agent-0123456789'
const BROKEN_MODEL_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/nomodel_agent-0123456789'

describe('longrun invoke and chat against the local gateway', () => {
  const stack = useRuntimeStack()
  let jwks: Server
  let sign: (subject: string, key?: SigningKey) => Promise<string>
  let strangerKey: SigningKey
  let dataDir: { path: string; remove(): Promise<void> }
  let brokenModelUrl: string

  /** Runs the CLI with nothing of this machine's AWS or longrun configuration. */
  const longrun = async (
    args: string[],
    extraEnv: Record<string, string> = {},
    endpoint = stack.env.service.url,
  ): Promise<CliOutcome> => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LONGRUN_DATA_DIR: dataDir.path,
      ...extraEnv,
    }
    return runCli([...args, '--endpoint', endpoint], { env, cwd: dataDir.path })
  }

  before(async () => {
    dataDir = await tempDir('longrun-cli-invoke-')
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    strangerKey = (await generateKeyPair('ES256')).privateKey
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid: 'cli-key', alg: 'ES256' }
    sign = (subject, key = privateKey) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'cli-key' })
        .setSubject(subject)
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('5m')
        .sign(key)
    jwks = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    const jwtRuntime = await stack.startRuntime({
      RUNTIME_JWT_ISSUER: ISSUER,
      RUNTIME_JWT_AUDIENCE: AUDIENCE,
      RUNTIME_JWKS_URL: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json`,
    })
    stack.env.service.registerRuntime(JWT_ARN, jwtRuntime.server.url)
    const iamRuntime = await stack.startRuntime()
    stack.env.service.registerRuntime(IAM_ARN, iamRuntime.server.url)
    const closedModel = (await unreachableMcpUrl()).replace(/\/mcp$/, '/v1')
    const brokenModel = await stack.startRuntime({
      MODEL_PROVIDER: 'openai',
      OPENAI_BASE_URL: closedModel,
      OPENAI_API_KEY: 'test-key',
      OPENAI_MODEL: 'test-model',
    })
    stack.env.service.registerRuntime(BROKEN_MODEL_ARN, brokenModel.server.url)
    brokenModelUrl = brokenModel.server.url
  })
  after(async () => {
    await new Promise<void>((resolve) => jwks.close(() => resolve()))
    await dataDir.remove()
  })

  test('SigV4 (no token) reaches a runtime of IAM callers and streams its answer', async () => {
    const outcome = await longrun(['invoke', '--arn', IAM_ARN, '--new-session', 'list my tasks'])
    assert.equal(outcome.code, 0, outcome.stderr)
    assert.match(outcome.stdout, /^\[demo model\] /)
    assert.match(outcome.stderr, /^session: longrun-cli-\S+$/m)
  })

  test('a bearer token from AGENTCORE_BEARER_TOKEN reaches a JWT runtime, which keeps the turn under its subject', async () => {
    const sessionId = sessionIdFor('cli-bearer-env')
    const outcome = await longrun(
      ['invoke', '--arn', JWT_ARN, '--session', sessionId, 'Train a model called cli-bearer for 2 epochs'],
      { AGENTCORE_BEARER_TOKEN: await sign('grace') },
    )
    assert.equal(outcome.code, 0, outcome.stderr)
    assert.match(outcome.stderr, /^task:\s+\S+ \(start_model_training\)$/m)
    const stored = await listSessionEvents(stack.env.data, stack.memoryId, 'grace', sessionId)
    assert.ok(stored.length > 0, "the turn is stored under the token's subject")
  })

  test('--bearer-token is sent as it is: the right one answers, a wrong one is BEARER_TOKEN_REFUSED and stores nothing', async () => {
    const good = await longrun([
      'invoke',
      '--arn',
      JWT_ARN,
      '--new-session',
      '--bearer-token',
      await sign('heidi'),
      'list my tasks',
    ])
    assert.equal(good.code, 0, good.stderr)
    assert.match(good.stdout, /^\[demo model\] /)

    const sessionId = sessionIdFor('cli-bearer-wrong')
    const wrong = await longrun([
      'invoke',
      '--arn',
      JWT_ARN,
      '--session',
      sessionId,
      '--bearer-token',
      await sign('mallory', strangerKey),
      'list my tasks',
    ])
    assert.equal(wrong.code, 1)
    assert.match(wrong.stderr, /^longrun invoke: BEARER_TOKEN_REFUSED: .*--bearer-token/m)
    assert.equal(wrong.stderr.trim().split('\n').length, 1, `one line: ${wrong.stderr}`)
    assert.equal(wrong.stdout, '')
    assert.deepEqual(await listSessionEvents(stack.env.data, stack.memoryId, 'mallory', sessionId), [])
  })

  test('longrun chat signs its turns with the bearer token too', async () => {
    const chat = spawn(
      NODE,
      [CLI, 'chat', '--arn', JWT_ARN, '--new-session', '--endpoint', stack.env.service.url],
      {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          LONGRUN_DATA_DIR: dataDir.path,
          AGENTCORE_BEARER_TOKEN: await sign('ivan'),
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    )
    let screen = ''
    const collect = (chunk: Buffer) => {
      screen += chunk.toString()
    }
    chat.stdout.on('data', collect)
    chat.stderr.on('data', collect)
    try {
      await waitFor(() => screen.includes('you> '), 30_000, `the prompt; the chat showed:\n${screen}`)
      chat.stdin.write('list my tasks\n')
      await waitFor(
        () => /\[demo model\] [^]*you> /.test(screen),
        30_000,
        `the answer; the chat showed:\n${screen}`,
      )
      assert.doesNotMatch(screen, /error: /)
      chat.stdin.end()
      const [code] = (await once(chat, 'exit')) as [number | null]
      assert.equal(code, 0, screen)
    } finally {
      if (chat.exitCode === null) chat.kill('SIGKILL')
    }
  })

  test('SigV4 to a JWT runtime is UNAUTHENTICATED, and the line says a bearer token is wanted', async () => {
    const outcome = await longrun(['invoke', '--arn', JWT_ARN, '--new-session', 'list my tasks'])
    assert.equal(outcome.code, 1)
    assert.match(outcome.stderr, /^longrun invoke: UNAUTHENTICATED: .*--bearer-token/m)
  })

  test('a bearer token is never sent over plain HTTP beyond this machine', async () => {
    const outcome = await longrun(
      ['invoke', '--arn', JWT_ARN, '--new-session', '--bearer-token', 'secret', 'hello'],
      {},
      'http://192.0.2.1:9',
    )
    assert.equal(outcome.code, 1)
    assert.match(outcome.stderr, /^longrun: INSECURE_ENDPOINT: /m)
  })

  test('a model that cannot be reached: the runtime error is printed once, in its words, and nothing after it', async () => {
    // What the runtime itself streams about it, to compare with what the CLI prints.
    const direct = await fetch(`${brokenModelUrl}/invocations`, {
      method: 'POST',
      headers: { [SESSION_ID_HEADER]: sessionIdFor('cli-no-model-direct'), accept: 'text/event-stream' },
      body: JSON.stringify({ prompt: 'hello' }),
    })
    const events = []
    for await (const event of parseRuntimeStream(direct.body as AsyncIterable<Uint8Array>)) events.push(event)
    const said = events.find((event) => event.type === 'error')
    assert.equal(said?.code, 'MODEL_ERROR')

    const outcome = await longrun(['invoke', '--arn', BROKEN_MODEL_ARN, '--new-session', 'hello'])
    assert.equal(outcome.code, 1)
    const errorLines = outcome.stderr.split('\n').filter((line) => line.includes('MODEL_ERROR'))
    assert.deepEqual(errorLines, [`error: MODEL_ERROR: ${said?.message}`], outcome.stderr)
    assert.doesNotMatch(outcome.stderr, /UNEXPECTED_ANSWER/)
  })
})
