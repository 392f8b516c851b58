/**
 * Wakes on the Redis backend: the wake is a BullMQ job beside the memory event's, retried with the
 * delay each attempt asks for, and sent by whichever process runs jobs: the server itself, or a
 * `longrun worker` process behind a replica that runs none.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { Webhook } from 'standardwebhooks'
import { type LongRunningMcpServer, modelTrainingTool } from '../../src/mcp-server/index.ts'
import { type ServiceProcess, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { mcpProcessEnv, startTask, startTestServer, tempDir, waitFor } from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'
import {
  connectAgent,
  type FakeAgentRuntime,
  type JobReader,
  jobTool,
  openJobs,
  settledJob,
  startFakeAgentRuntime,
  startWebhookReceiver,
  WAKE_ARN,
  type WebhookReceiver,
  agentSession,
} from '../helpers/wake.ts'

const MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname
const SLOW = 60_000

describe('wakes on the Redis backend (BullMQ)', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  let runtime: FakeAgentRuntime
  let redis: TestRedis
  let receiver: WebhookReceiver
  const secret = `whsec_${randomBytes(32).toString('base64')}`
  let jobs: JobReader
  let dir: { path: string; remove(): Promise<void> }
  const servers: LongRunningMcpServer[] = []
  const children: ServiceProcess[] = []
  const clients: Client[] = []

  const session = (label: string) => agentSession(runtime, memoryId, label)
  const connect = async (url: string, agent: ReturnType<typeof session>) => {
    const client = await connectAgent(url, agent)
    clients.push(client)
    return client
  }

  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
    runtime = await startFakeAgentRuntime(env)
    redis = await startTestRedis()
    receiver = await startWebhookReceiver()
    jobs = await openJobs({ redisUrl: redis.url })
    dir = await tempDir()
  })
  after(async () => {
    for (const client of clients) await client.close().catch(() => {})
    for (const server of servers) await server.close()
    for (const child of children) await stopServiceProcess(child, 'SIGKILL')
    await jobs.close()
    await runtime.close()
    await receiver.close()
    await redis.remove()
    await env.close()
    await dir.remove()
  })

  test('a server running its own jobs: a busy session is tried again through BullMQ, the wake is answered once, and its notice follows once', async () => {
    const server = await startTestServer(dir.path, {
      memoryClient: env.data,
      tools: [jobTool('waking_job', 'wake')],
      wake: { runtime: WAKE_ARN },
      webhook: { url: receiver.url, secret },
      redis: { url: redis.url, runWorker: true },
    })
    servers.push(server)
    const agent = session('redis-busy')
    // More than the SDK's own three attempts: the BullMQ job must be retried.
    const refusals = 4
    runtime.script = (call, earlier) =>
      call.runtimeSessionId === agent.runtimeSession && earlier.length < refusals
        ? { status: 409, code: 'SESSION_BUSY' }
        : undefined
    try {
      const taskId = await startTask(await connect(server.url, agent), 'start_waking_job', { text: 'redis' })
      const wake = await settledJob(jobs, taskId, 'wake', SLOW)
      assert.equal(wake.state, 'delivered')
      assert.ok(wake.attempts >= 2, `retried by the server (${wake.attempts} attempts)`)
      assert.equal((await jobs.job(taskId, 'memory'))?.state, 'delivered')
      // The notice, recorded with the wake's settlement, is a BullMQ job of its own.
      assert.equal((await settledJob(jobs, taskId, 'notice', SLOW)).state, 'delivered')
      await waitFor(() => server.health.report().status === 'Healthy', SLOW, 'the server to go idle')
      const [notice, ...more] = receiver.of(taskId)
      assert.equal(more.length, 0, 'one notice')
      assert.ok(notice !== undefined)
      const verified = new Webhook(secret).verify(notice.body, {
        'webhook-id': String(notice.headers['webhook-id']),
        'webhook-timestamp': String(notice.headers['webhook-timestamp']),
        'webhook-signature': String(notice.headers['webhook-signature']),
      }) as { type: string; data: { task_id: string } }
      assert.equal(verified.type, 'continuation.completed')
      assert.equal(verified.data.task_id, taskId)
      const calls = runtime.wakesOf(taskId)
      assert.deepEqual(
        calls.map((call) => call.answer),
        [...Array.from({ length: refusals }, () => 409), 200],
      )
      assert.equal(calls.at(-1)?.resultInMemory, true)
      assert.deepEqual(calls.at(-1)?.payload, {
        wake: { task_id: taskId, depth: 1 },
        actor_id: agent.memory.actorId,
        memory_id: memoryId,
      })
    } finally {
      runtime.script = undefined
      // Its outbox worker would take the next test's jobs too.
      await server.close()
      servers.splice(servers.indexOf(server), 1)
    }
  })

  test('a replica that runs nothing and a `longrun worker` process: the worker wakes, once', async () => {
    const replica = await startTestServer(dir.path, {
      memoryClient: env.data,
      tools: [modelTrainingTool({ dataDir: dir.path, epochDelayMs: 0 })],
      wake: { runtime: WAKE_ARN },
      redis: { url: redis.url, runWorker: false },
    })
    servers.push(replica)
    const worker = await startServiceProcess(
      MAIN,
      mcpProcessEnv(env.service.url, dir.path, {
        MCP_TASK_BACKEND: 'redis',
        REDIS_URL: redis.url,
        MCP_WAKE_RUNTIME: WAKE_ARN,
        MCP_DELIVERY_BASE_DELAY_MS: '20',
        MCP_DELIVERY_MAX_DELAY_MS: '200',
        MCP_TRAINING_EPOCH_DELAY_MS: '0',
      }),
      undefined,
      ['--worker'],
    )
    children.push(worker)
    const agent = session('redis-worker')
    const taskId = await startTask(await connect(replica.url, agent), 'start_model_training', {
      model_name: 'redis-worker',
      epochs: 2,
    })
    assert.equal((await settledJob(jobs, taskId, 'wake', SLOW)).state, 'delivered')
    // Stopped cleanly: whatever it had left to do is done or handed back, and nothing more is sent.
    await stopServiceProcess(worker, 'SIGTERM')
    const calls = runtime.wakesOf(taskId)
    assert.equal(calls.length, 1)
    assert.equal(calls[0]?.answer, 200)
    assert.equal(calls[0]?.runtimeSessionId, agent.runtimeSession)
    assert.equal(calls[0]?.resultInMemory, true)
  })
})
