/**
 * The notice after a wake: once the woken runtime answered, the server POSTs one notice to the
 * configured webhook, signed as Standard Webhooks says (checked here with the `standardwebhooks`
 * package's own verifier), typed by what the continuation came to, retried with the same
 * webhook-id while the receiver fails and not after it refused. A webhook half configured, or with
 * a malformed secret, stops the server at start.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { Webhook, WebhookVerificationError } from 'standardwebhooks'
import { ConfigError, loadEnvironment } from '../../src/config.ts'
import { configFromEnv } from '../../src/mcp-server-entrypoint.ts'
import { LongRunningMcpServer, McpServerError } from '../../src/mcp-server/index.ts'
import { NODE } from '../helpers/child-process.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { mcpProcessEnv, startTask, startTestServer, tempDir, waitFor } from '../helpers/mcp-server.ts'
import {
  connectAgent,
  type FakeAgentRuntime,
  type JobReader,
  startWebhookReceiver,
  type WebhookDelivery,
  type WebhookReceiver,
  jobTool,
  openJobs,
  runtimeSessionIdOf,
  settledJob,
  startFakeAgentRuntime,
  WAKE_ARN,
  type WakeReply,
} from '../helpers/wake.ts'

const MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname

/** A secret as Standard Webhooks writes them: `whsec_` and the base64 of random bytes. */
const newSecret = (bytes = 32) => `whsec_${randomBytes(bytes).toString('base64')}`

/** The headers Standard Webhooks verifies, as a receiver reads them. */
const signedHeaders = (delivery: WebhookDelivery) => ({
  'webhook-id': String(delivery.headers['webhook-id']),
  'webhook-timestamp': String(delivery.headers['webhook-timestamp']),
  'webhook-signature': String(delivery.headers['webhook-signature']),
})

interface Notice {
  readonly type: string
  readonly timestamp: string
  readonly data: Record<string, unknown>
}

describe('continuation notices', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  let runtime: FakeAgentRuntime
  let receiver: WebhookReceiver
  let server: LongRunningMcpServer
  let jobs: JobReader
  let dir: { path: string; remove(): Promise<void> }
  const secret = newSecret()
  const clients: Client[] = []

  /** How the runtime answers the wake of each runtime session (as the runtime would when absent). */
  const replies = new Map<string, WakeReply>()
  /** Starts a waking task in a session of its own, whose wake the runtime answers with `reply`. */
  const wokenTask = async (label: string, reply?: WakeReply) => {
    const memory = { sessionId: `ms-${label}`, memoryId, actorId: `actor-${label}` }
    const runtimeSession = runtimeSessionIdOf(`rt-${label}`)
    runtime.mapSession(runtimeSession, memory.sessionId)
    if (reply !== undefined) replies.set(runtimeSession, reply)
    const client = await connectAgent(server.url, { memory, runtimeSession })
    clients.push(client)
    const taskId = await startTask(client, 'start_waking_job', { text: label })
    return { taskId, memory, runtimeSession }
  }

  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
    runtime = await startFakeAgentRuntime(env)
    runtime.script = (call) => replies.get(call.runtimeSessionId)
    receiver = await startWebhookReceiver()
    dir = await tempDir()
    server = await startTestServer(dir.path, {
      memoryClient: env.data,
      tools: [jobTool('waking_job', 'wake')],
      wake: { runtime: WAKE_ARN },
      webhook: { url: receiver.url, secret },
    })
    jobs = await openJobs({ dataDir: dir.path })
  })
  after(async () => {
    for (const client of clients) await client.close()
    await jobs.close()
    await server.close()
    await runtime.close()
    await receiver.close()
    await env.close()
    await dir.remove()
  })

  test('a wake answered is followed by one notice, signed as Standard Webhooks says, naming the task and what the agent said', async () => {
    const { taskId, memory, runtimeSession } = await wokenTask('completed', {
      status: 200,
      outcome: 'ran',
      response: 'The model is trained; I evaluated it.',
    })
    const notice = await settledJob(jobs, taskId, 'notice')
    assert.equal(notice.state, 'delivered')
    const [delivery, ...more] = receiver.of(taskId)
    assert.equal(more.length, 0, 'one notice')
    assert.ok(delivery !== undefined)
    assert.equal(delivery.headers['content-type'], 'application/json')
    assert.equal(delivery.headers['webhook-id'], `msg_longrun_${taskId}`)
    const verified = new Webhook(secret).verify(delivery.body, signedHeaders(delivery)) as Notice
    assert.equal(verified.type, 'continuation.completed')
    assert.equal(Date.parse(verified.timestamp) / 1000, Number(delivery.headers['webhook-timestamp']))
    assert.deepEqual(verified.data, {
      task_id: taskId,
      tool: 'waking_job',
      task_status: 'completed',
      memory_id: memoryId,
      actor_id: memory.actorId,
      session_id: memory.sessionId,
      runtime_session_id: runtimeSession,
      response: 'The model is trained; I evaluated it.',
      interrupts: [],
    })
    // The verifier does verify: another body, another secret or an old timestamp is refused.
    assert.throws(
      () =>
        new Webhook(secret).verify(delivery.body.replace('completed', 'stopped'), signedHeaders(delivery)),
      WebhookVerificationError,
    )
    assert.throws(
      () => new Webhook(newSecret()).verify(delivery.body, signedHeaders(delivery)),
      WebhookVerificationError,
    )
    assert.throws(
      () =>
        new Webhook(secret).verify(delivery.body, {
          ...signedHeaders(delivery),
          'webhook-timestamp': String(Number(delivery.headers['webhook-timestamp']) - 3600),
        }),
      WebhookVerificationError,
    )
  })

  test('approval_needed when the continuation paused on a question; stopped when a limit stopped it', async () => {
    const interrupts = [
      {
        interrupt_id: 'approval-1',
        name: 'approval',
        reason: { question: 'Run evaluate_model?', tool: 'evaluate_model', input: { model: 'm' } },
      },
    ]
    const paused = await wokenTask('paused', { status: 200, outcome: 'paused', interrupts, response: '' })
    const stopped = await wokenTask('stopped', {
      status: 200,
      outcome: 'stopped',
      response: 'Training finished; I stopped acting on my own until you reply.',
    })
    for (const { taskId } of [paused, stopped])
      assert.equal((await settledJob(jobs, taskId, 'notice')).state, 'delivered')
    const [pausedNotice] = receiver.of(paused.taskId)
    const [stoppedNotice] = receiver.of(stopped.taskId)
    assert.ok(pausedNotice !== undefined && stoppedNotice !== undefined)
    const verify = (delivery: WebhookDelivery) =>
      new Webhook(secret).verify(delivery.body, signedHeaders(delivery)) as Notice
    assert.equal(verify(pausedNotice).type, 'continuation.approval_needed')
    assert.deepEqual(verify(pausedNotice).data.interrupts, interrupts)
    assert.equal(verify(stoppedNotice).type, 'continuation.stopped')
    assert.equal(
      verify(stoppedNotice).data.response,
      'Training finished; I stopped acting on my own until you reply.',
    )
  })

  test('a receiver that fails (5xx, 408, 409, 429) gets the same notice again, same webhook-id, each delivery signed afresh', async () => {
    const failures: Record<string, number[]> = {}
    receiver.script = (delivery, earlier) => {
      const planned = failures[String(delivery.headers['webhook-id'])]
      return planned?.[earlier.length]
    }
    try {
      const plans = [[500, 503], [408], [409], [429]]
      const tasks: string[] = []
      for (const [index, plan] of plans.entries()) {
        const { taskId } = await wokenTask(`failing-${index}`)
        failures[`msg_longrun_${taskId}`] = plan
        tasks.push(taskId)
      }
      for (const [index, taskId] of tasks.entries()) {
        const plan = plans[index] as number[]
        const notice = await settledJob(jobs, taskId, 'notice')
        assert.equal(notice.state, 'delivered', `after ${plan.join(', ')}`)
        assert.equal(notice.attempts, plan.length + 1)
        const deliveries = receiver.of(taskId)
        assert.deepEqual(
          deliveries.map((one) => one.status),
          [...plan, 204],
        )
        const bodies = deliveries.map(
          (one) => (new Webhook(secret).verify(one.body, signedHeaders(one)) as Notice).data,
        )
        for (const body of bodies) assert.deepEqual(body, bodies[0], 'the same notice each time')
      }
    } finally {
      receiver.script = undefined
    }
  })

  test('a receiver that refuses a notice (4xx other than 408, 409, 429) is not sent it again', async () => {
    receiver.script = (delivery) => refusing.get(String(delivery.headers['webhook-id']))
    const refusing = new Map<string, number>()
    try {
      for (const status of [400, 401, 403, 404, 410, 413, 422]) {
        const { taskId } = await wokenTask(`refusing-${status}`)
        refusing.set(`msg_longrun_${taskId}`, status)
        const notice = await settledJob(jobs, taskId, 'notice')
        assert.equal(notice.state, 'failed', String(status))
        assert.equal(notice.attempts, 1, String(status))
        await waitFor(() => server.health.report().status === 'Healthy', 20_000, 'the server to go idle')
        assert.deepEqual(
          receiver.of(taskId).map((one) => one.status),
          [status],
        )
      }
    } finally {
      receiver.script = undefined
    }
  })

  test('no notice when the runtime refused the wake', async () => {
    const { taskId } = await wokenTask('refused-wake', { status: 404, code: 'WAKE_TASK_NOT_FOUND' })
    assert.equal((await settledJob(jobs, taskId, 'wake')).state, 'failed')
    assert.equal(await jobs.job(taskId, 'notice'), undefined)
    await waitFor(() => server.health.report().status === 'Healthy', 20_000, 'the server to go idle')
    assert.deepEqual(receiver.of(taskId), [])
  })
})

describe('a webhook configured wrongly stops the server at start', () => {
  const base = () =>
    mcpProcessEnv('http://127.0.0.1:9', '/nonexistent', {
      MCP_WAKE_RUNTIME: WAKE_ARN,
    })

  test('MCP_WEBHOOK_URL without MCP_WEBHOOK_SECRET, or the other way round, is a config error naming the one missing', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ MCP_WEBHOOK_URL: 'https://example.com/hooks' }, 'MCP_WEBHOOK_SECRET'],
      [{ MCP_WEBHOOK_SECRET: newSecret() }, 'MCP_WEBHOOK_URL'],
      [{ MCP_WEBHOOK_URL: 'https://example.com/hooks', MCP_WEBHOOK_SECRET: '' }, 'MCP_WEBHOOK_SECRET'],
    ]
    for (const [more, missing] of cases)
      assert.throws(
        () => configFromEnv(loadEnvironment({ ...base(), ...more })),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'CONFIG_INVALID' &&
          error.variables.includes(missing),
        JSON.stringify(more),
      )
  })

  test('a malformed secret is INVALID_CONFIG naming MCP_WEBHOOK_SECRET, with or without a runtime to wake', async () => {
    const dir = await tempDir()
    try {
      for (const wake of [{ MCP_WAKE_RUNTIME: WAKE_ARN }, { MCP_WAKE_RUNTIME: 'off' }])
        for (const malformed of [
          'not-a-secret',
          newSecret().slice('whsec_'.length),
          newSecret(16),
          'whsec_',
          'whsec_!!!!not base64 at all!!!!!!!!!!!!!',
          `whsec_${randomBytes(32).toString('base64url')}-_`,
        ]) {
          const config = configFromEnv(
            loadEnvironment({
              ...mcpProcessEnv('http://127.0.0.1:9', dir.path, wake),
              MCP_WEBHOOK_URL: 'https://example.com/hooks',
              MCP_WEBHOOK_SECRET: malformed,
            }),
          )
          await assert.rejects(
            LongRunningMcpServer.start({ ...config, port: 0 }),
            (error: unknown) =>
              error instanceof McpServerError &&
              error.code === 'INVALID_CONFIG' &&
              error.field === 'MCP_WEBHOOK_SECRET',
            `${malformed} (${wake.MCP_WAKE_RUNTIME})`,
          )
        }
    } finally {
      await dir.remove()
    }
  })

  test('the server process exits with status 1 before it listens', async () => {
    const dir = await tempDir()
    try {
      for (const more of [
        { MCP_WEBHOOK_URL: 'https://example.com/hooks' },
        { MCP_WEBHOOK_URL: 'https://example.com/hooks', MCP_WEBHOOK_SECRET: 'whsec_short' },
      ]) {
        const run = spawnSync(NODE, ['--disable-warning=ExperimentalWarning', MAIN], {
          env: {
            ...process.env,
            ...mcpProcessEnv('http://127.0.0.1:9', dir.path, { MCP_WAKE_RUNTIME: WAKE_ARN }),
            ...more,
          },
          encoding: 'utf8',
          timeout: 60_000,
        })
        assert.equal(run.status, 1, JSON.stringify(more))
        assert.equal(run.stdout, '', 'no URL printed: it never listened')
      }
    } finally {
      await dir.remove()
    }
  })
})
