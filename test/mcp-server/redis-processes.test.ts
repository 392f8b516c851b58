import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { Redis } from 'ioredis'
import { type ServiceProcess, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import { startCloudWatchReceiver } from '../helpers/cloudwatch-receiver.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import {
  connectClient,
  listAllEvents,
  structured,
  mcpProcessEnv,
  tempDir,
  unreachableMcpUrl,
  waitFor,
} from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'

const MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname

describe('the Redis backend across processes: two replicas, workers of their own, kills and a Redis restart', () => {
  let env: LocalAgentCoreFixture
  let redis: TestRedis
  let peek: Redis
  let dir: { path: string; remove(): Promise<void> }
  let baseEnv: Record<string, string>
  const processes: ServiceProcess[] = []
  const clients: Client[] = []

  /** A replica: accepts calls and answers for tasks; runs none itself. */
  const replica = async (extra: Record<string, string> = {}) => {
    const child = await startServiceProcess(MAIN, { ...baseEnv, MCP_RUN_WORKER: 'false', ...extra })
    processes.push(child)
    return child
  }
  /** A worker: runs background tasks and delivers results. */
  const worker = async (extra: Record<string, string> = {}) => {
    const child = await startServiceProcess(MAIN, { ...baseEnv, ...extra }, undefined, ['--worker'])
    processes.push(child)
    return child
  }
  const connect = async (url: string, actorId: string, sessionId: string, memoryId: string) => {
    const client = await connectClient(url, { memory: { sessionId, memoryId, actorId } })
    clients.push(client)
    return client
  }
  /** Stops what earlier tests started: each test sets up the replicas and workers it names. */
  const fresh = async () => {
    for (const client of clients.splice(0)) await client.close().catch(() => {})
    for (const child of processes.splice(0)) await stopServiceProcess(child, 'SIGTERM')
  }
  const statusOf = async (client: Client, taskId: string) =>
    structured(await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
  /** The process running a task, from its record (the test reads Redis as an operator would). */
  const holderPid = async (taskId: string) =>
    Number((await peek.hget(`longrun:task:${taskId}`, 'workerId'))?.split(':')[1])

  before(async () => {
    env = await startLocalAgentCore()
    redis = await startTestRedis()
    peek = new Redis(redis.url, { maxRetriesPerRequest: null })
    peek.on('error', () => {})
    dir = await tempDir()
    baseEnv = mcpProcessEnv(env.service.url, dir.path, {
      MCP_TASK_BACKEND: 'redis',
      REDIS_URL: redis.url,
      MCP_DELIVERY_BASE_DELAY_MS: '20',
      MCP_DELIVERY_MAX_DELAY_MS: '200',
      MCP_HEARTBEAT_INTERVAL_MS: '100',
      MCP_TASK_LEASE_MS: '2000',
      MCP_TASK_CONCURRENCY: '4',
      MCP_TRAINING_EPOCH_DELAY_MS: '100',
    })
  })
  after(async () => {
    for (const client of clients) await client.close().catch(() => {})
    for (const child of processes) await stopServiceProcess(child, 'SIGKILL')
    peek.disconnect()
    await redis.remove()
    await env.close()
    await dir.remove()
  })

  test('a task started on one replica is read on the other; a cancel sent to the other stops it where it runs', async () => {
    await fresh()
    const memoryId = await env.createMemory()
    const [one, two] = [await replica(), await replica()]
    await worker()
    const a = await connect(one.url, 'actor-two-replicas', 's-two', memoryId)
    const b = await connect(two.url, 'actor-two-replicas', 's-two', memoryId)
    const statistics = structured(
      await a.callTool({ name: 'start_text_statistics', arguments: { text: 'alpha beta beta' } }),
    ).task_id as string
    const done = await waitFor(async () => {
      const status = await statusOf(b, statistics)
      return status.status === 'completed' ? status : undefined
    })
    assert.equal(done.runs, 1)
    const result = structured(
      await b.callTool({ name: 'get_task_results', arguments: { task_id: statistics } }),
    )
    assert.deepEqual((result.result as { top_words: unknown }).top_words, [
      { word: 'beta', count: 2 },
      { word: 'alpha', count: 1 },
    ])
    const training = structured(
      await a.callTool({ name: 'start_model_training', arguments: { model_name: 'cancel-me', epochs: 300 } }),
    ).task_id as string
    const progressing = await waitFor(async () => {
      const status = await statusOf(b, training)
      return typeof status.progress === 'number' && status.progress >= 2 ? status : undefined
    })
    assert.equal(progressing.status, 'working')
    const cancelled = structured(await b.callTool({ name: 'cancel_task', arguments: { task_id: training } }))
    assert.equal(cancelled.status, 'cancelled')
    await waitFor(
      async () => ((await peek.hget(`longrun:task:${training}`, 'stage')) === 'done' ? true : undefined),
      5000,
      'the worker to stop the run',
    )
    const events = await waitFor(async () => {
      const all = await listAllEvents(env.data, memoryId, 'actor-two-replicas', 's-two')
      return all.length === 2 ? all : undefined
    })
    assert.equal(
      events.filter((event) => event.text.includes(`${training} (tool model_training) cancelled`)).length,
      1,
    )
  })

  test('a worker killed with SIGKILL mid-task: its tasks are re-run or failed by another, as each tool declares', async () => {
    await fresh()
    const memoryId = await env.createMemory()
    const front = await replica()
    // Alone at first, so the first worker takes both tasks.
    const first = await worker()
    const client = await connect(front.url, 'actor-kill', 's-kill', memoryId)
    const training = structured(
      await client.callTool({
        name: 'start_model_training',
        arguments: { model_name: 'killed', epochs: 40 },
      }),
    ).task_id as string
    const statistics = structured(
      await client.callTool({
        name: 'start_text_statistics',
        arguments: { documents: 400_000, chunk_size: 1 },
      }),
    ).task_id as string
    await waitFor(async () => {
      const [t, s] = [await statusOf(client, training), await statusOf(client, statistics)]
      return t.progress !== null && s.progress !== null ? true : undefined
    })
    assert.equal(await holderPid(training), first.process.pid)
    assert.equal(await holderPid(statistics), first.process.pid)
    // Killed while both run; the worker started next finds their jobs stalled and takes them.
    await stopServiceProcess(first, 'SIGKILL')
    const second = await worker()
    const rerun = await waitFor(
      async () => {
        const status = await statusOf(client, training)
        return status.status === 'completed' ? status : undefined
      },
      30_000,
      'the training task to be run again to its end',
    )
    assert.equal(rerun.runs, 2)
    assert.equal(await holderPid(training), second.process.pid)
    const failed = await waitFor(async () => {
      const status = await statusOf(client, statistics)
      return status.status === 'failed' ? status : undefined
    })
    assert.equal(failed.status_message, 'interrupted by a server restart')
    const events = await waitFor(async () => {
      const all = await listAllEvents(env.data, memoryId, 'actor-kill', 's-kill')
      return all.length === 2 ? all : undefined
    })
    assert.equal(events.filter((event) => event.text.includes(training)).length, 1)
    assert.equal(events.filter((event) => event.text.includes(statistics)).length, 1)
  })

  test('exactly one memory event per task over 60 tasks while workers are killed and replaced, and responses are lost', async () => {
    await fresh()
    const memoryId = await env.createMemory()
    const front = await replica()
    const workers = [await worker(), await worker()]
    const client = await connect(front.url, 'actor-many', 's-many', memoryId)
    env.service.faults.set({ CreateEvent: { loseResponseRate: 0.1, throttleRate: 0.1 } })
    try {
      const ids: string[] = []
      for (let i = 0; i < 60; i += 1) {
        ids.push(
          structured(
            await client.callTool({
              name: 'start_model_training',
              arguments: { model_name: `many-${i}`, epochs: 8 },
            }),
          ).task_id as string,
        )
      }
      // Kill a worker and start another, twice, while the tasks run.
      for (let round = 0; round < 2; round += 1) {
        await new Promise((resolve) => setTimeout(resolve, 1500))
        await stopServiceProcess(workers.shift() as ServiceProcess, 'SIGKILL')
        workers.push(await worker())
      }
      await waitFor(
        async () => {
          for (const taskId of ids) {
            const status = await statusOf(client, taskId)
            if ((status.delivery as { state: string }).state !== 'delivered') return undefined
          }
          return true
        },
        90_000,
        'every task to end and its result to be delivered',
      )
      const events = await listAllEvents(env.data, memoryId, 'actor-many', 's-many')
      assert.equal(events.length, ids.length, 'one event per task, no more')
      for (const taskId of ids)
        assert.equal(events.filter((event) => event.text.includes(taskId)).length, 1, taskId)
      const lost = env.service.faults.counts().CreateEvent?.responsesLost ?? 0
      assert.ok(lost > 0, 'responses were lost after the write, and retried with the same token')
    } finally {
      env.service.faults.set({})
    }
  })

  test('Redis stopped and started mid-run: calls fail clearly while it is away, nothing acknowledged is lost, work resumes', async () => {
    await fresh()
    const memoryId = await env.createMemory()
    // Locks that outlive the outage: the running tasks go on where they are.
    const slowLease = { MCP_TASK_LEASE_MS: '10000' }
    const front = await replica(slowLease)
    await worker(slowLease)
    const client = await connect(front.url, 'actor-outage', 's-outage', memoryId)
    const ids: string[] = []
    for (let i = 0; i < 6; i += 1) {
      ids.push(
        structured(
          await client.callTool({
            name: 'start_model_training',
            arguments: { model_name: `outage-${i}`, epochs: 30 },
          }),
        ).task_id as string,
      )
    }
    await waitFor(async () =>
      (await statusOf(client, ids[0] as string)).progress !== null ? true : undefined,
    )
    await redis.stop()
    const refused = await client
      .callTool({ name: 'start_model_training', arguments: { model_name: 'during-outage', epochs: 1 } })
      .then(
        () => assert.fail('expected a refusal while Redis is away'),
        (error: { data?: { code?: string; retryable?: boolean } }) => error,
      )
    assert.equal(refused.data?.code, 'BACKEND_UNAVAILABLE')
    assert.equal(refused.data?.retryable, true)
    await new Promise((resolve) => setTimeout(resolve, 2000))
    await redis.start()
    await waitFor(
      async () => {
        for (const taskId of ids) {
          const status = await statusOf(client, taskId).catch(() => undefined)
          if (status === undefined || (status.delivery as { state: string }).state !== 'delivered')
            return undefined
        }
        return true
      },
      60_000,
      'every task acknowledged before the outage to end and be delivered',
    )
    for (const taskId of ids) {
      const status = await statusOf(client, taskId)
      assert.equal(status.status, 'completed', `${taskId}: ${String(status.status_message)}`)
    }
    const events = await listAllEvents(env.data, memoryId, 'actor-outage', 's-outage')
    assert.equal(events.length, ids.length)
    const listed = structured(await client.callTool({ name: 'list_tasks', arguments: {} })).tasks as unknown[]
    assert.equal(listed.length, ids.length, 'the refused start left nothing')
  })

  test('a re-queued task is taken by a worker with no session open, with no replica running tasks', async () => {
    await fresh()
    const memoryId = await env.createMemory()
    // Every process publishes the work owed to a stand-in CloudWatch (the SDK's endpoint variable).
    const cloudwatch = await startCloudWatchReceiver()
    try {
      const metric = {
        MCP_QUEUE_METRIC_NAMESPACE: 'Longrun/Test',
        MCP_QUEUE_METRIC_DEPLOYMENT: 'redis-processes',
        AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
      }
      const lastOwed = () => cloudwatch.data().at(-1)?.value
      const front = await replica(metric)
      const workerA = await worker(metric)
      const client = await connect(front.url, 'actor-requeue', 's-requeue', memoryId)
      const training = structured(
        await client.callTool({
          name: 'start_model_training',
          arguments: { model_name: 'requeued', epochs: 60 },
        }),
      ).task_id as string
      // The replica that accepted the start says at once that work is owed (whatever becomes of it).
      await waitFor(
        () => cloudwatch.data().some((datum) => datum.value === 1),
        5000,
        'a publish of the owed task',
      )
      await waitFor(async () => ((await statusOf(client, training)).progress as number) >= 1)
      assert.equal(await holderPid(training), workerA.process.pid)

      // The caller goes away, and so does the replica: no one has a session any more.
      await client.close()
      clients.splice(clients.indexOf(client), 1)
      assert.equal(await stopServiceProcess(front, 'SIGTERM'), 0)
      // Worker A is stopped mid-task: the task goes back to the queue, still owed (its last word).
      assert.equal(await stopServiceProcess(workerA, 'SIGTERM'), 0)
      assert.equal(await peek.hget(`longrun:task:${training}`, 'status'), 'working')
      assert.equal(lastOwed(), 1)

      // Nothing but worker B: it takes the task, runs it again (model_training declares rerun) and
      // delivers its result into the caller's memory.
      const workerB = await worker(metric)
      assert.deepEqual(
        processes.filter((child) => child.process.exitCode === null && child.process.signalCode === null),
        [workerB],
      )
      await waitFor(
        async () => {
          const delivery = await peek.hget(`longrun:task:${training}`, 'delivery')
          return delivery !== null && (JSON.parse(delivery) as { state: string }).state === 'delivered'
        },
        30_000,
        'the re-run task to end and its result to be delivered',
      )
      assert.equal(await peek.hget(`longrun:task:${training}`, 'status'), 'completed')
      assert.equal(await peek.hget(`longrun:task:${training}`, 'runs'), '2')
      assert.equal(await holderPid(training), workerB.process.pid)
      const events = (await listAllEvents(env.data, memoryId, 'actor-requeue', 's-requeue')).filter((event) =>
        event.text.includes(training),
      )
      assert.equal(events.length, 1, 'exactly one result event')
      assert.ok(events[0]?.text.includes(`${training} (tool model_training) completed`))

      // Stopped with nothing owed, B's last word is zero: the service may scale to nothing.
      assert.equal(await stopServiceProcess(workerB, 'SIGTERM'), 0)
      assert.equal(lastOwed(), 0)
      for (const datum of cloudwatch.data()) {
        assert.equal(datum.namespace, 'Longrun/Test')
        assert.equal(datum.metricName, 'TasksOwed')
        assert.deepEqual(datum.dimensions, { Deployment: 'redis-processes' })
      }
    } finally {
      await cloudwatch.close()
    }
  })

  test('Redis out of reach at start: the server says so, naming REDIS_URL, and does not start', async () => {
    const closed = new URL(await unreachableMcpUrl())
    const url = `redis://127.0.0.1:${closed.port}`
    await assert.rejects(startServiceProcess(MAIN, { ...baseEnv, REDIS_URL: url }), (error: Error) =>
      error.message.includes(`REDIS_URL=${url}`),
    )
  })
})
