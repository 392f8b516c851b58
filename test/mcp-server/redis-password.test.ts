import assert from 'node:assert/strict'
import { once } from 'node:events'
import { spawn } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { ConfigError, loadEnvironment } from '../../src/config.ts'
import { McpServerError, LongRunningMcpServer, TaskWorker } from '../../src/mcp-server/index.ts'
import { configFromEnv, secretsFromEnv, workerConfigFromEnv } from '../../src/mcp-server-entrypoint.ts'
import { SecretValueError } from '../../src/shared/secret-value.ts'
import { NODE, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import { mcpProcessEnv, tempDir } from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'
import {
  type FakeSecretsManager,
  fakeSecretReader,
  startFakeSecretsManager,
  testSecretArn,
} from '../helpers/secrets-manager.ts'

/**
 * Redis with a password, as ElastiCache with an AUTH token: the server and the worker connect with
 * REDIS_PASSWORD, or with the password read at start from the secret REDIS_PASSWORD_SECRET_ARN
 * names; without it they stop at start with an error naming the variables.
 */

const MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname
const PASSWORD = 'Tok3nOfSixtyFourLettersAndDigitsLikeTheDeployGeneratesIt0123456'
const ARN = testSecretArn('longrun-redis-auth')
const DENIED_ARN = testSecretArn('longrun-denied')

/** Runs the entrypoint with `env` until it exits; its exit code and stderr. */
async function runToExit(
  env: Record<string, string>,
  args: string[] = [],
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(NODE, ['--disable-warning=ExperimentalWarning', MAIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const [code] = (await once(child, 'exit')) as [number | null]
  return { code, stderr }
}

describe('Redis with a password (AUTH), as the deploy sets it up', () => {
  let redis: TestRedis
  let secrets: FakeSecretsManager
  let dir: { path: string; remove(): Promise<void> }
  let baseEnv: Record<string, string>

  before(async () => {
    redis = await startTestRedis({ password: PASSWORD })
    secrets = await startFakeSecretsManager(
      { [ARN]: JSON.stringify({ password: PASSWORD }) },
      { denied: [DENIED_ARN] },
    )
    dir = await tempDir()
    baseEnv = mcpProcessEnv('http://127.0.0.1:9', dir.path, {
      MCP_TASK_BACKEND: 'redis',
      REDIS_URL: redis.url,
      // The SDK's own override of the Secrets Manager endpoint: the real client, the fake service.
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    })
  })
  after(async () => {
    await secrets?.close()
    await redis?.remove()
    await dir?.remove()
  })

  test('with REDIS_PASSWORD the server starts and keeps its tasks in that Redis', async () => {
    const env = loadEnvironment({ ...baseEnv, REDIS_PASSWORD: PASSWORD })
    const server = await LongRunningMcpServer.start(configFromEnv(env))
    try {
      const ping = (await (await fetch(`${new URL(server.url).origin}/ping`)).json()) as { status: string }
      assert.equal(ping.status, 'Healthy')
    } finally {
      await server.close()
    }
  })

  test('without the password, or with a wrong one, the start fails with INVALID_CONFIG', async () => {
    for (const extra of [{}, { REDIS_PASSWORD: 'not-the-password' }]) {
      const env = loadEnvironment({ ...baseEnv, ...extra })
      await assert.rejects(
        LongRunningMcpServer.start(configFromEnv(env)),
        (error: unknown) => error instanceof McpServerError && error.code === 'INVALID_CONFIG',
        JSON.stringify(extra),
      )
      await assert.rejects(
        TaskWorker.start(workerConfigFromEnv(env)),
        (error: unknown) => error instanceof McpServerError && error.code === 'INVALID_CONFIG',
        JSON.stringify(extra),
      )
    }
  })

  test('REDIS_PASSWORD_SECRET_ARN: the password is the secret JSON\'s "password", read once at start', async () => {
    const env = loadEnvironment({ ...baseEnv, REDIS_PASSWORD_SECRET_ARN: ARN })
    const reader = fakeSecretReader({ [ARN]: JSON.stringify({ password: PASSWORD }) })
    const started = await secretsFromEnv(env, reader)
    assert.deepEqual(started, { redisPassword: PASSWORD })
    assert.deepEqual(reader.reads, [ARN])
    const worker = await TaskWorker.start(workerConfigFromEnv(env, started))
    await worker.close()
    // No secret is read for the sqlite backend, which has no Redis.
    const sqlite = fakeSecretReader({})
    assert.deepEqual(
      await secretsFromEnv(
        loadEnvironment({ ...baseEnv, MCP_TASK_BACKEND: 'sqlite', REDIS_PASSWORD_SECRET_ARN: ARN }),
        sqlite,
      ),
      {},
    )
    assert.deepEqual(sqlite.reads, [])
  })

  test('no silent fallback: a secret named by ARN and not read, or a URL password beside another, is refused', async () => {
    const refusedWith = (variables: string[]) => (error: unknown) =>
      error instanceof ConfigError && variables.every((variable) => error.variables.includes(variable))
    // Building the configuration without the secrets read at start: an error, not a Redis without a
    // password or a wake signed with SigV4 (which a JWT runtime refuses).
    assert.throws(
      () => configFromEnv(loadEnvironment({ ...baseEnv, REDIS_PASSWORD_SECRET_ARN: ARN })),
      refusedWith(['REDIS_PASSWORD_SECRET_ARN']),
    )
    const wakeEnv = {
      ...baseEnv,
      MCP_WAKE_RUNTIME: 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/longrun_agent-AbCdEf1234',
      MCP_WAKE_TOKEN_URL: 'https://wake.auth.us-east-1.amazoncognito.com/oauth2/token',
      MCP_WAKE_CLIENT_ID: 'wake-client',
      MCP_WAKE_CLIENT_SECRET_ARN: ARN,
    }
    assert.throws(
      () => workerConfigFromEnv(loadEnvironment(wakeEnv)),
      refusedWith(['MCP_WAKE_CLIENT_SECRET_ARN']),
    )
    // Read, it is the client's secret; with wakes off it is not read at all.
    const reader = fakeSecretReader({ [ARN]: 'the-client-secret' })
    const woken = workerConfigFromEnv(
      loadEnvironment(wakeEnv),
      await secretsFromEnv(loadEnvironment(wakeEnv), reader),
    )
    assert.equal(woken.wake?.clientCredentials?.clientSecret, 'the-client-secret')
    const off = fakeSecretReader({})
    await secretsFromEnv(loadEnvironment({ ...wakeEnv, MCP_WAKE_RUNTIME: 'off' }), off)
    assert.deepEqual(off.reads, [])
    // ioredis would take the URL's password over REDIS_PASSWORD: both given is refused.
    const withUrlPassword = { ...baseEnv, REDIS_URL: `redis://:${PASSWORD}@127.0.0.1:6379` }
    assert.throws(
      () => configFromEnv(loadEnvironment({ ...withUrlPassword, REDIS_PASSWORD: 'other' })),
      refusedWith(['REDIS_URL', 'REDIS_PASSWORD']),
    )
    assert.throws(
      () =>
        configFromEnv(loadEnvironment({ ...withUrlPassword, REDIS_PASSWORD_SECRET_ARN: ARN }), {
          redisPassword: 'other',
        }),
      refusedWith(['REDIS_URL', 'REDIS_PASSWORD_SECRET_ARN']),
    )
  })

  test('a secret that cannot be read, or both variables, stop the start naming the variables', async () => {
    await assert.rejects(
      secretsFromEnv(
        loadEnvironment({ ...baseEnv, REDIS_PASSWORD_SECRET_ARN: DENIED_ARN }),
        fakeSecretReader({}),
      ),
      (error: unknown) =>
        error instanceof SecretValueError &&
        error.code === 'SECRET_UNAVAILABLE' &&
        error.variable === 'REDIS_PASSWORD_SECRET_ARN',
    )
    await assert.rejects(
      secretsFromEnv(
        loadEnvironment({ ...baseEnv, REDIS_PASSWORD: PASSWORD, REDIS_PASSWORD_SECRET_ARN: ARN }),
        fakeSecretReader({}),
      ),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variables.includes('REDIS_PASSWORD') &&
        error.variables.includes('REDIS_PASSWORD_SECRET_ARN'),
    )
    // The wake client's secret follows the same rule: the secret or its ARN, not both.
    await assert.rejects(
      secretsFromEnv(
        loadEnvironment({ ...baseEnv, MCP_WAKE_CLIENT_SECRET: 'secret', MCP_WAKE_CLIENT_SECRET_ARN: ARN }),
        fakeSecretReader({}),
      ),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variables.includes('MCP_WAKE_CLIENT_SECRET') &&
        error.variables.includes('MCP_WAKE_CLIENT_SECRET_ARN'),
    )
    await assert.rejects(
      secretsFromEnv(
        loadEnvironment({
          ...baseEnv,
          MCP_WAKE_RUNTIME:
            'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/longrun_agent-AbCdEf1234',
          MCP_WAKE_CLIENT_SECRET_ARN: DENIED_ARN,
        }),
        fakeSecretReader({}),
      ),
      (error: unknown) =>
        error instanceof SecretValueError &&
        error.code === 'SECRET_UNAVAILABLE' &&
        error.variable === 'MCP_WAKE_CLIENT_SECRET_ARN',
    )
    assert.throws(
      () => loadEnvironment({ ...baseEnv, REDIS_PASSWORD_SECRET_ARN: 'longrun-redis-auth' }),
      (error: unknown) =>
        error instanceof ConfigError && error.variables.includes('REDIS_PASSWORD_SECRET_ARN'),
    )
  })

  test('as processes: server and worker read the secret from Secrets Manager (the SDK) and connect', async () => {
    const env = { ...baseEnv, REDIS_PASSWORD_SECRET_ARN: ARN }
    const before = secrets.requests.length
    const server = await startServiceProcess(MAIN, env)
    const worker = await startServiceProcess(MAIN, env, undefined, ['--worker'])
    try {
      const ping = (await (await fetch(`${new URL(server.url).origin}/ping`)).json()) as { status: string }
      assert.equal(ping.status, 'Healthy')
      assert.match(worker.url, /^worker /)
      const reads = secrets.requests.slice(before)
      assert.equal(reads.length, 2)
      for (const read of reads) assert.deepEqual(read.body, { SecretId: ARN })
    } finally {
      assert.equal(await stopServiceProcess(server, 'SIGTERM'), 0)
      assert.equal(await stopServiceProcess(worker, 'SIGTERM'), 0)
    }
  })

  test('as processes: a denied secret or a missing password ends the start with exit code 1, naming the variable', async () => {
    for (const args of [[], ['--worker']]) {
      const denied = await runToExit({ ...baseEnv, REDIS_PASSWORD_SECRET_ARN: DENIED_ARN }, args)
      assert.equal(denied.code, 1)
      assert.match(denied.stderr, /REDIS_PASSWORD_SECRET_ARN/)
      const missing = await runToExit(baseEnv, args)
      assert.equal(missing.code, 1)
      assert.match(missing.stderr, /REDIS_PASSWORD/)
    }
  })
})
