/**
 * The seed's story as one trace: an invocation that starts a training run, the runtime stopped
 * while the run goes on, and the result delivered into memory afterwards, with the runtime and the
 * MCP server as their own processes exporting to a real OTLP/HTTP receiver. The server's spans
 * (the tool call, the task, its delivery) join the invocation's trace across the MCP boundary, and
 * no conversation content reaches a span. On Redis, a `longrun worker` of its own runs the task
 * and delivers it, from the trace context stored with the task.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { SESSION_ID_HEADER, parseRuntimeStream, type RuntimeStreamEvent } from '../../src/runtime/index.ts'
import { type ServiceProcess, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import {
  type LocalAgentCoreFixture,
  startLocalAgentCore,
  TEST_CREDENTIALS,
  waitFor,
} from '../helpers/local-agentcore.ts'
import { listAllEvents, TEST_TOKEN, tempDir } from '../helpers/mcp-server.ts'
import { type OtlpReceiver, type ReceivedSpan, startOtlpReceiver } from '../helpers/otlp-receiver.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'

const ENTRYPOINT = new URL('../../src/entrypoint.ts', import.meta.url).pathname
const MCP_MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname
/** A model name found nowhere but in the prompt and the tool's arguments and result. */
const MODEL_NAME = 'otel-secret-model-4711'
const SESSION = `trace-story-${'0'.repeat(40)}`.slice(0, 40)
const ACTOR = 'trace-actor'

for (const backend of ['sqlite', 'redis'] as const) {
  describe(`traces of the seed story (${backend} backend)`, () => {
    /** The service that runs tasks and delivers results: the server itself, or a `longrun worker`. */
    const runner = backend === 'redis' ? 'longrun-worker' : 'longrun-mcp-server'
    let redis: TestRedis | undefined
    let worker: ServiceProcess | undefined
    let env: LocalAgentCoreFixture
    let receiver: OtlpReceiver
    let dir: { path: string; remove(): Promise<void> }
    let memoryId: string
    let mcp: ServiceProcess
    let runtime: ServiceProcess
    let events: RuntimeStreamEvent[]
    let delivered: string

    before(async () => {
      env = await startLocalAgentCore()
      memoryId = await env.createMemory()
      receiver = await startOtlpReceiver()
      dir = await tempDir('longrun-traces-')
      const telemetry = {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // Spans leave the batch quickly, so nothing waits on the default 5 s.
        OTEL_BSP_SCHEDULE_DELAY: '100',
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AGENTCORE_ENDPOINT: env.service.url,
      }
      if (backend === 'redis') redis = await startTestRedis()
      // On Redis the server only accepts calls; a worker process of its own runs the task.
      const tasks: Record<string, string> =
        redis === undefined
          ? {}
          : { MCP_TASK_BACKEND: 'redis', REDIS_URL: redis.url, MCP_RUN_WORKER: 'false' }
      mcp = await startServiceProcess(MCP_MAIN, {
        ...telemetry,
        ...tasks,
        MCP_PORT: '0',
        MCP_HOST: '127.0.0.1',
        MCP_BEARER_TOKEN: TEST_TOKEN,
        LONGRUN_DATA_DIR: dir.path,
        MCP_HEARTBEAT_INTERVAL_MS: '200',
        MCP_TRAINING_EPOCH_DELAY_MS: '150',
      })
      if (redis !== undefined) {
        worker = await startServiceProcess(
          MCP_MAIN,
          { ...telemetry, ...tasks, MCP_HEARTBEAT_INTERVAL_MS: '200', MCP_TRAINING_EPOCH_DELAY_MS: '150' },
          undefined,
          ['--worker'],
        )
      }
      runtime = await startServiceProcess(ENTRYPOINT, {
        ...telemetry,
        PORT: '0',
        RUNTIME_HOST: '127.0.0.1',
        MODEL_PROVIDER: 'demo',
        MEMORY_ID: memoryId,
        MCP_SERVER_URL: mcp.url,
        MCP_BEARER_TOKEN: TEST_TOKEN,
      })
      const response = await fetch(`${runtime.url}/invocations`, {
        method: 'POST',
        headers: { [SESSION_ID_HEADER]: SESSION, accept: 'text/event-stream' },
        body: JSON.stringify({ prompt: `train a model called ${MODEL_NAME} for 8 epochs`, actor_id: ACTOR }),
      })
      events = []
      for await (const event of parseRuntimeStream(response.body as AsyncIterable<Uint8Array>))
        events.push(event)
      // The user leaves: the runtime stops (sending its spans), the training goes on without it.
      assert.equal(await stopServiceProcess(runtime, 'SIGTERM'), 0)
      const memorySession = events.find((event) => event.type === 'done')?.session_id as string
      delivered = await waitFor(
        async () => {
          const all = await listAllEvents(env.data, memoryId, ACTOR, memorySession)
          return all.find((event) => event.text.includes('Long-running task'))?.text
        },
        30_000,
        'the training result in memory',
      )
      // The server (and the worker) stop too, sending the task's and the delivery's spans.
      assert.equal(await stopServiceProcess(mcp, 'SIGTERM'), 0)
      if (worker !== undefined) assert.equal(await stopServiceProcess(worker, 'SIGTERM'), 0)
    })

    after(async () => {
      await redis?.remove()
      await receiver.close()
      await env.close()
      await dir.remove()
    })

    const named = (service: string, name: string): ReceivedSpan => {
      const span = receiver.spans.find((each) => each.service === service && each.name === name)
      assert.ok(
        span,
        `no ${name} span from ${service}; got ${receiver.spans.map((each) => `${each.service}:${each.name}`).join(', ')}`,
      )
      return span
    }

    test('the invocation, the agent, the tool call, the task and its delivery are one trace', () => {
      assert.ok(
        events.some((event) => event.type === 'task_started'),
        'the invocation started a task',
      )
      const invocation = named('longrun-runtime', 'invoke_agent_runtime')
      const trace = receiver.spans.filter((span) => span.traceId === invocation.traceId)
      const runtimeSpans = trace.filter((span) => span.service === 'longrun-runtime')
      // Strands' own spans nest under the invocation: the agent, its model calls and the tool call.
      const agentTool = runtimeSpans.find((span) => span.name.includes('start_model_training'))
      assert.ok(agentTool, `no Strands tool span in ${runtimeSpans.map((span) => span.name).join(', ')}`)
      assert.ok(
        runtimeSpans.some((span) => span.parentSpanId === invocation.spanId),
        'Strands spans are children',
      )

      const call = named('longrun-mcp-server', 'tools/call start_model_training')
      assert.equal(call.traceId, invocation.traceId, 'the server continues the agent trace')
      assert.ok(
        runtimeSpans.some((span) => span.spanId === call.parentSpanId),
        'the tool call is a child of a span of the runtime',
      )
      const task = named(runner, 'task model_training')
      assert.equal(task.traceId, invocation.traceId)
      assert.equal(task.parentSpanId, call.spanId, 'the task runs under the call that started it')
      assert.equal(task.attributes['longrun.task.status'], 'completed')
      assert.ok(
        task.events.filter((event) => event.name === 'progress').length >= 2,
        'progress shows as events',
      )

      const delivery = named(runner, 'deliver task result')
      assert.equal(
        delivery.traceId,
        invocation.traceId,
        'the delivery, after the runtime stopped, is in the same trace',
      )
      assert.equal(delivery.parentSpanId, call.spanId)
      assert.equal(delivery.attributes['longrun.delivery.outcome'], 'delivered')
      assert.equal(delivery.attributes['aws.agentcore.memory.id'], memoryId)
    })

    test('metrics: task duration, queue wait, delivery latency, memory calls per invocation', () => {
      const names = new Set(receiver.metrics.map((metric) => `${metric.service}:${metric.name}`))
      for (const expected of [
        `${runner}:longrun.task.duration`,
        `${runner}:longrun.task.queue_wait`,
        `${runner}:longrun.delivery.latency`,
        'longrun-runtime:longrun.invocation.memory_calls',
      ])
        assert.ok(names.has(expected), `${expected} missing from ${[...names].join(', ')}`)
    })

    test('no prompt, tool argument or result text in any exported span', () => {
      assert.ok(delivered.includes(MODEL_NAME), 'the result names the model')
      const resultLine = delivered.split('\n').find((line) => /accuracy|loss/i.test(line))
      assert.ok(resultLine, 'the result has a metrics line')
      const everything = receiver.bodies.join('\n')
      assert.ok(everything.length > 0)
      assert.equal(
        everything.includes(MODEL_NAME),
        false,
        'the model name (prompt, arguments, result) is not exported',
      )
      assert.equal(everything.includes('train a model called'), false, 'the prompt is not exported')
    })
  })
}
