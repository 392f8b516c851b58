import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import {
  CloudWatchQueueDepthSink,
  type LogLevel,
  type Logger,
  type LongRunningMcpServer,
  McpServerError,
  modelTrainingTool,
  QueueDepthMetric,
  type QueueDepthSample,
  type QueueDepthSink,
  RedisTaskBackend,
  TaskWorker,
  type TaskRecord,
} from '../../src/mcp-server/index.ts'
import { type CloudWatchReceiver, startCloudWatchReceiver } from '../helpers/cloudwatch-receiver.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { connectClient, startTask, startTestServer, tempDir, waitFor } from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'

/**
 * The queue depth metric: what a worker service scales on. The CloudWatch sink against a stand-in
 * endpoint (the real SDK client, its real request), the publisher's timing and failures with a sink
 * of the test's own, and the count itself against a real Redis with a replica and workers.
 */

/** Keeps every reading it is given. */
class RecordingSink implements QueueDepthSink {
  readonly samples: QueueDepthSample[] = []
  async publish(sample: QueueDepthSample): Promise<void> {
    this.samples.push(sample)
  }
  values(): number[] {
    return this.samples.map((sample) => sample.tasksOwed)
  }
}

/** Keeps every log line it is given. */
class RecordingLogger implements Logger {
  readonly lines: { level: LogLevel; message: string; fields: Record<string, unknown> }[] = []
  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level, message, fields })
  }
  warnings(): Record<string, unknown>[] {
    return this.lines.filter((line) => line.level === 'warn').map((line) => line.fields)
  }
}

describe('the CloudWatch sink', () => {
  let receiver: CloudWatchReceiver
  let client: CloudWatchClient
  before(async () => {
    receiver = await startCloudWatchReceiver()
    client = new CloudWatchClient({
      region: 'eu-west-1',
      endpoint: receiver.url,
      credentials: { accessKeyId: 'AKIDQUEUEDEPTH', secretAccessKey: 'test-secret' },
    })
  })
  after(async () => {
    client.destroy()
    await receiver.close()
  })

  test('sends PutMetricData, signed for CloudWatch: TasksOwed in the namespace, by Deployment', async () => {
    const sink = new CloudWatchQueueDepthSink({ namespace: 'Longrun/Test', deployment: 'blue', client })
    await sink.publish({ tasksOwed: 7, at: new Date() }, AbortSignal.timeout(10_000))
    const [request] = receiver.requests
    assert.ok(request)
    assert.equal(request.target, 'GraniteServiceVersion20100801.PutMetricData')
    // The signing name is what the IAM action is under: cloudwatch:PutMetricData.
    assert.match(
      request.authorization,
      /Credential=AKIDQUEUEDEPTH\/\d{8}\/eu-west-1\/monitoring\/aws4_request/,
    )
    assert.deepEqual(receiver.data(), [
      {
        namespace: 'Longrun/Test',
        metricName: 'TasksOwed',
        dimensions: { Deployment: 'blue' },
        value: 7,
        unit: 'Count',
      },
    ])
  })

  test('a refused publish is logged once per kind of failure, and publishing goes on once it is accepted', async () => {
    const logger = new RecordingLogger()
    let owed = 3
    const metric = new QueueDepthMetric({
      count: async () => owed,
      sink: new CloudWatchQueueDepthSink({ namespace: 'Longrun/Test', client }),
      coalesceMs: 0,
      logger,
    })
    const before = receiver.requests.length
    receiver.refuse({ status: 400, type: 'AccessDenied' })
    metric.nudge()
    await waitFor(() => receiver.requests.length > before, 10_000, 'the first refused publish')
    metric.nudge()
    await waitFor(() => receiver.requests.length > before + 1, 10_000, 'the second refused publish')
    receiver.refuse(undefined)
    owed = 4
    await metric.close()
    assert.deepEqual(
      logger.warnings().map((fields) => fields.kind),
      ['publish:AccessDenied'],
    )
    assert.deepEqual(receiver.data().at(-1), {
      namespace: 'Longrun/Test',
      metricName: 'TasksOwed',
      dimensions: { Deployment: 'longrun' },
      value: 4,
      unit: 'Count',
    })
  })
})

describe('the publisher', () => {
  test('publishes at start, coalesces a burst of nudges into one publish, and once more at close', async () => {
    const sink = new RecordingSink()
    let owed = 0
    const metric = new QueueDepthMetric({ count: async () => owed, sink, coalesceMs: 60_000 })
    metric.start()
    await waitFor(() => sink.samples.length === 1, 5000, 'the publish at start')
    owed = 5
    for (let i = 0; i < 100; i += 1) metric.nudge()
    owed = 6
    await metric.close()
    // The burst's publish was due at the end of the gap; close publishes the depth left instead.
    assert.deepEqual(sink.values(), [0, 6])
    metric.nudge()
    await metric.close()
    assert.equal(sink.samples.length, 2, 'nothing after close')
  })

  test('a count that fails (Redis away) publishes nothing and is logged once; tasks never see it', async () => {
    const sink = new RecordingSink()
    const logger = new RecordingLogger()
    let failing = true
    let counted = 0
    const metric = new QueueDepthMetric({
      count: async () => {
        counted += 1
        if (failing) throw new McpServerError('BACKEND_UNAVAILABLE', 'away')
        return 1
      },
      sink,
      coalesceMs: 0,
      logger,
    })
    metric.nudge()
    await waitFor(() => counted === 1, 5000, 'a first count')
    metric.nudge()
    await waitFor(() => counted === 2, 5000, 'a second count')
    failing = false
    await metric.close()
    assert.deepEqual(sink.values(), [1])
    assert.deepEqual(
      logger.warnings().map((fields) => fields.kind),
      ['count:BACKEND_UNAVAILABLE'],
    )
  })

  test('a count that never answers (Redis connected, silent) is given up at the timeout: close does not hang', async () => {
    const sink = new RecordingSink()
    const logger = new RecordingLogger()
    let answering = false
    const metric = new QueueDepthMetric({
      count: () => (answering ? Promise.resolve(2) : new Promise<number>(() => {})),
      sink,
      coalesceMs: 0,
      timeoutMs: 50,
      logger,
    })
    metric.nudge()
    await waitFor(() => logger.warnings().length === 1, 5000, 'the silent count given up')
    answering = true
    // The chain is free again: the last publish at close counts and sends.
    await metric.close()
    assert.deepEqual(sink.values(), [2])
    assert.deepEqual(
      logger.warnings().map((fields) => fields.kind),
      ['count:TimeoutError'],
    )
  })
})

describe('the count of the work owed, on a real Redis', () => {
  let redis: TestRedis
  let local: LocalAgentCoreFixture
  let dir: { path: string; remove(): Promise<void> }
  let memoryId: string
  let replica: LongRunningMcpServer
  let client: Client
  const replicaSink = new RecordingSink()
  const workers: TaskWorker[] = []

  const tasksOwed = () => (replica.backend as RedisTaskBackend).tasksOwed()
  const record = async (taskId: string) => (await replica.backend.get(taskId)) as TaskRecord
  const startWorker = async (sink: QueueDepthSink, concurrency: number) => {
    const worker = await TaskWorker.start({
      tools: [modelTrainingTool({ dataDir: dir.path, epochDelayMs: 50 })],
      redis: { url: redis.url, queueDepthMetric: { namespace: 'Longrun/Test', sink } },
      memoryClient: local.data,
      taskConcurrency: concurrency,
      leaseMs: 2000,
      heartbeatIntervalMs: 100,
      deliveryBaseDelayMs: 20,
      deliveryMaxDelayMs: 200,
    })
    workers.push(worker)
    return worker
  }

  before(async () => {
    redis = await startTestRedis()
    local = await startLocalAgentCore()
    memoryId = await local.createMemory()
    dir = await tempDir()
    replica = await startTestServer(dir.path, {
      memoryClient: local.data,
      redis: {
        url: redis.url,
        runWorker: false,
        queueDepthMetric: { namespace: 'Longrun/Test', sink: replicaSink },
      },
    })
    client = await connectClient(replica.url, {
      memory: { sessionId: 'queue-depth', memoryId, actorId: 'actor-depth' },
    })
  })
  after(async () => {
    local?.service.faults.set({})
    await client?.close()
    for (const worker of workers) await worker.close()
    await replica?.close()
    await local?.close()
    await redis?.remove()
    await dir?.remove()
  })

  test('waiting, running, re-queued and owed deliveries are counted; zero when idle', async () => {
    assert.ok(replica.backend instanceof RedisTaskBackend)
    assert.equal(await tasksOwed(), 0, 'nothing owed before any start')

    // Two starts on a replica that runs nothing: both wait, and the replica says so promptly.
    const long = await startTask(client, 'start_model_training', { model_name: 'depth-long', epochs: 40 })
    const short = await startTask(client, 'start_model_training', { model_name: 'depth-short', epochs: 2 })
    assert.equal(await tasksOwed(), 2)
    await waitFor(() => replicaSink.values().includes(2), 5000, 'the replica to publish 2 after the starts')

    // A worker with one slot: one task runs, the other waits.
    const firstSink = new RecordingSink()
    const first = await startWorker(firstSink, 1)
    await waitFor(async () => ((await record(long)).progress ?? 0) > 0, 10_000, 'the long task to run')
    assert.equal((await record(short)).stage, 'queued')
    assert.equal(await tasksOwed(), 2)

    // Stopped mid-task: the running task goes back to the queue, and the worker's last word says so.
    await first.close()
    assert.equal((await record(long)).status, 'working')
    assert.equal(await tasksOwed(), 2)
    assert.equal(firstSink.values().at(-1), 2)

    // Memory refuses every write: both tasks end, their results are owed.
    local.service.faults.set({ CreateEvent: { throttleRate: 1 } })
    const secondSink = new RecordingSink()
    const second = await startWorker(secondSink, 4)
    await waitFor(
      async () => (await record(long)).status === 'completed' && (await record(short)).status === 'completed',
      20_000,
      'both tasks to end',
    )
    assert.equal((await record(long)).runs, 2, 'the re-queued task ran again')
    assert.equal((await record(long)).delivery?.state, 'pending')
    // A task's job leaves BullMQ's active list just after its end is stored and its delivery added,
    // so the count settles on the two deliveries owed a moment after the status reads completed.
    await waitFor(async () => (await tasksOwed()) === 2, 10_000, 'two deliveries owed, and the runs gone')

    // Memory takes them: nothing is owed any more.
    local.service.faults.set({})
    await waitFor(async () => (await tasksOwed()) === 0, 20_000, 'the deliveries to settle')
    assert.equal((await record(long)).delivery?.state, 'delivered')
    assert.equal((await record(short)).delivery?.state, 'delivered')
    await second.close()
    assert.equal(secondSink.values().at(-1), 0)
  })
})
