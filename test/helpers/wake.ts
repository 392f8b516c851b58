/**
 * Helpers of the MCP server's wake tests: a stand-in agent runtime that speaks the runtime's HTTP
 * contract (GET /ping, POST /invocations answered with the runtime's JSON answer or its error
 * body) and records every wake, checking at that moment whether the task's result is in memory;
 * tools whose end wakes (or does not); a client that sends the continuation headers an agent
 * runtime's MCP connection sends; a webhook receiver for the notices after wakes; and the
 * after-end jobs read as an operator would.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BedrockAgentCoreClient, ListEventsCommand } from '@aws-sdk/client-bedrock-agentcore'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { z } from 'zod'
import {
  CONTINUATION_HEADERS,
  CONTINUATION_METADATA_KEY,
  type CompositeSessionParts,
  formatCompositeSessionHeader,
  TASK_ID_METADATA_KEY,
} from '../../src/contract/index.ts'
import {
  defineLongRunningTool,
  type JobKey,
  type LongRunningTool,
  type OwedJob,
  SqliteTaskStore,
  ToolError,
} from '../../src/mcp-server/index.ts'
import { RedisConnection } from '../../src/mcp-server/redis-connection.ts'
import { RedisKeys } from '../../src/mcp-server/redis-task-layout.ts'
import { RedisTaskStore } from '../../src/mcp-server/redis-task-store.ts'
import type { LocalAgentCoreFixture } from './local-agentcore.ts'
import { TEST_TOKEN } from './mcp-server.ts'

/** The runtime the servers under test wake: the local service's region and account. */
export const WAKE_ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/longrun_agent-Wake012345'

/** The header AgentCore (and the local gateway) gives a runtime its session id in. */
const SESSION_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id'

/** One wake the stand-in runtime received. */
export interface WakeCall {
  /** The runtime session it was sent to (AgentCore's session header). */
  readonly runtimeSessionId: string
  /** The payload as sent. */
  readonly payload: Record<string, unknown>
  readonly taskId: string
  /**
   * Whether the task's result was in the session's memory at the moment the wake arrived (a
   * ListEvents call filtered by the task's metadata); undefined when memory could not be read.
   */
  readonly resultInMemory: boolean | undefined
  /** When it arrived (ms since the epoch). */
  readonly receivedAt: number
  /** The status answered; `held` while its answer is held back, `dropped` when the caller left first. */
  answer: number | 'held' | 'dropped'
}

/** How the stand-in answers one wake. */
export type WakeReply =
  /** The runtime's JSON answer. */
  | {
      readonly status: 200
      readonly outcome?: 'ran' | 'resumed' | 'ran_before' | 'paused' | 'stopped'
      readonly interrupts?: readonly unknown[]
      readonly response?: string
    }
  /** The runtime's error body with this code (409 SESSION_BUSY, 404 WAKE_TASK_NOT_FOUND, ...). */
  | { readonly status: number; readonly code: string }
  /** This body as it is (JSON's content type), whatever it says. */
  | { readonly status: number; readonly raw: string }
  /** No answer until {@link FakeAgentRuntime.release} (or until the caller goes away). */
  | { readonly hold: true }

/** The stand-in agent runtime. */
export interface FakeAgentRuntime {
  readonly url: string
  /** Every wake received, in order. */
  readonly calls: readonly WakeCall[]
  /**
   * Decides the answer of a wake; undefined answers as the runtime would: 404 WAKE_TASK_NOT_FOUND
   * when the result is not in memory, 200 `ran_before` when the task was woken (answered 200)
   * already, else 200 `ran`. `earlier` are the earlier wakes of the same task.
   */
  script: ((call: WakeCall, earlier: readonly WakeCall[]) => WakeReply | undefined) | undefined
  /** Says which memory session a runtime session's memory is in (default: the same id). */
  mapSession(runtimeSessionId: string, memorySessionId: string): void
  /** The wakes of `taskId`, answered `answer` when given. */
  wakesOf(taskId: string, answer?: WakeCall['answer']): WakeCall[]
  /** Answers every held wake (with `reply`, or as the runtime would). */
  release(reply?: WakeReply): void
  close(): Promise<void>
}

/**
 * Starts the stand-in on port 0 and registers it with the local service under `arn` (the exact
 * ARN: a wake sent to any other lands elsewhere). It reads memory with its own client, retrying
 * more than the SDK's default, so throttling the service does not fail its checks.
 */
export async function startFakeAgentRuntime(
  env: LocalAgentCoreFixture,
  arn: string = WAKE_ARN,
): Promise<FakeAgentRuntime> {
  const memory = new BedrockAgentCoreClient({ ...env.clientConfig, maxAttempts: 10 })
  const calls: WakeCall[] = []
  const sessions = new Map<string, string>()
  const held = new Set<{ call: WakeCall; response: ServerResponse }>()

  const resultInMemory = async (
    payload: Record<string, unknown>,
    runtimeSessionId: string,
    taskId: string,
  ) => {
    try {
      const answer = await memory.send(
        new ListEventsCommand({
          memoryId: String(payload.memory_id),
          actorId: String(payload.actor_id),
          sessionId: sessions.get(runtimeSessionId) ?? runtimeSessionId,
          includePayloads: false,
          maxResults: 100,
          filter: {
            eventMetadata: [
              {
                left: { metadataKey: TASK_ID_METADATA_KEY },
                operator: 'EQUALS_TO',
                right: { metadataValue: { stringValue: taskId } },
              },
            ],
          },
        }),
      )
      return (answer.events ?? []).some((event) => event.metadata?.[CONTINUATION_METADATA_KEY] === undefined)
    } catch {
      return undefined
    }
  }

  const asRuntime = (call: WakeCall, earlier: readonly WakeCall[]): WakeReply => {
    if (call.resultInMemory === undefined) return { status: 503, code: 'MEMORY_UNAVAILABLE' }
    if (!call.resultInMemory) return { status: 404, code: 'WAKE_TASK_NOT_FOUND' }
    return { status: 200, outcome: earlier.some((wake) => wake.answer === 200) ? 'ran_before' : 'ran' }
  }

  const send = (call: WakeCall, response: ServerResponse, reply: WakeReply) => {
    if ('hold' in reply) return
    call.answer = reply.status
    if ('raw' in reply) {
      response.writeHead(reply.status, { 'content-type': 'application/json' })
      response.end(reply.raw)
      return
    }
    const depth = (call.payload.wake as { depth?: unknown } | undefined)?.depth
    const body =
      reply.status === 200 && !('code' in reply)
        ? {
            response: reply.response ?? `carried on after ${call.taskId}`,
            session_id: call.runtimeSessionId,
            tasks: [],
            ...(reply.interrupts !== undefined && { interrupts: reply.interrupts }),
            continuation: { task_id: call.taskId, depth, outcome: reply.outcome ?? 'ran' },
          }
        : { error: { code: (reply as { code: string }).code, message: 'refused by the stand-in runtime' } }
    response.writeHead(reply.status, { 'content-type': 'application/json' })
    response.end(JSON.stringify(body))
  }

  const answerError = (response: ServerResponse, status: number, code: string) => {
    response.writeHead(status, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ error: { code, message: code } }))
  }

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = new URL(request.url ?? '/', 'http://runtime').pathname
    if (request.method === 'GET' && path === '/ping') {
      response.writeHead(200, { 'content-type': 'application/json' })
      response.end(JSON.stringify({ status: 'Healthy', time_of_last_update: Math.floor(Date.now() / 1000) }))
      return
    }
    if (request.method !== 'POST' || path !== '/invocations') return answerError(response, 404, 'NOT_FOUND')
    const chunks: Buffer[] = []
    for await (const chunk of request) chunks.push(chunk as Buffer)
    let payload: Record<string, unknown>
    try {
      payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>
    } catch {
      return answerError(response, 400, 'INVALID_REQUEST')
    }
    const wake = payload.wake as { task_id?: unknown } | undefined
    const runtimeSessionId = request.headers[SESSION_HEADER]
    if (typeof wake?.task_id !== 'string' || typeof runtimeSessionId !== 'string')
      return answerError(response, 400, 'INVALID_REQUEST')
    const taskId = wake.task_id
    const call: WakeCall = {
      runtimeSessionId,
      payload,
      taskId,
      resultInMemory: await resultInMemory(payload, runtimeSessionId, taskId),
      receivedAt: Date.now(),
      answer: 'held',
    }
    const earlier = calls.filter((other) => other.taskId === taskId)
    calls.push(call)
    const reply = fake.script?.(call, earlier) ?? asRuntime(call, earlier)
    if (!('hold' in reply)) return send(call, response, reply)
    const entry = { call, response }
    held.add(entry)
    response.on('close', () => {
      if (!response.writableFinished && held.delete(entry)) call.answer = 'dropped'
    })
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) answerError(response, 500, 'INTERNAL')
      else response.destroy()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  env.service.registerRuntime(arn, url)

  const fake: FakeAgentRuntime = {
    url,
    calls,
    script: undefined,
    mapSession: (runtimeSessionId, memorySessionId) => {
      sessions.set(runtimeSessionId, memorySessionId)
    },
    wakesOf: (taskId, answer) =>
      calls.filter((call) => call.taskId === taskId && (answer === undefined || call.answer === answer)),
    release: (reply) => {
      for (const entry of [...held]) {
        held.delete(entry)
        const earlier = calls.filter((other) => other.taskId === entry.call.taskId && other !== entry.call)
        send(entry.call, entry.response, reply ?? asRuntime(entry.call, earlier))
      }
    },
    close: async () => {
      for (const entry of held) entry.response.destroy()
      held.clear()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      memory.destroy()
    },
  }
  return fake
}

/**
 * A runtime session id of 33 or more characters (InvokeAgentRuntime's rule), made of `label`, for a
 * test's agent session.
 */
export function runtimeSessionIdOf(label: string): string {
  return `${label}-${'0'.repeat(Math.max(1, 40 - label.length))}`
}

/** An agent's session: a memory session of `memoryId`, and the runtime session beside it that `runtime` knows. */
export function agentSession(runtime: FakeAgentRuntime, memoryId: string, label: string) {
  const memory = { sessionId: `ms-${label}`, memoryId, actorId: `actor-${label}` }
  const runtimeSession = runtimeSessionIdOf(`rt-${label}`)
  runtime.mapSession(runtimeSession, memory.sessionId)
  return { memory, runtimeSession }
}

/** Options of {@link connectAgent}. */
export interface AgentConnection {
  /** The memory session results go to (the composite `mcp-session-id` header); none: no header. */
  readonly memory?: CompositeSessionParts
  /** `x-longrun-runtime-session`: the runtime session a task's end wakes. */
  readonly runtimeSession?: string
  /** `x-longrun-continuation-depth`: the depth of the turn that calls. */
  readonly depth?: string
}

/** A real MCP SDK client that connects as an agent runtime's MCP connection does (close it). */
export async function connectAgent(url: string, connection: AgentConnection): Promise<Client> {
  const headers: Record<string, string> = { authorization: `Bearer ${TEST_TOKEN}` }
  if (connection.memory !== undefined)
    headers['mcp-session-id'] = formatCompositeSessionHeader(connection.memory)
  if (connection.runtimeSession !== undefined)
    headers[CONTINUATION_HEADERS.runtimeSession] = connection.runtimeSession
  if (connection.depth !== undefined) headers[CONTINUATION_HEADERS.depth] = connection.depth
  const transport = new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } })
  const client = new Client({ name: 'longrun-wake-test', version: '1.0.0' }, { capabilities: {} })
  await client.connect(transport)
  return client
}

/** Arguments of the test tools: what to echo, whether to fail, whether to run until cancelled. */
const JobInput = z.object({
  text: z.string().max(200),
  fail: z.boolean().default(false),
  until_cancelled: z.boolean().default(false),
})

/** A quick tool, as `name` (inline) and `start_<name>` (background), whose end does `onEnd`. */
export function jobTool(name: string, onEnd: 'wake' | 'none'): LongRunningTool {
  return defineLongRunningTool({
    name,
    description: `Echoes its text (its end: ${onEnd}).`,
    input: JobInput,
    onEnd,
    run: async ({ text, fail, until_cancelled }, ctx) => {
      if (until_cancelled)
        await new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true })
          if (ctx.signal.aborted) reject(ctx.signal.reason)
        })
      if (fail) throw new ToolError('ASKED_TO_FAIL', `failed as asked: ${text}`)
      return { echo: text }
    },
  })
}

/** The after-end jobs of a data directory (SQLite) or a Redis, read as another process would. */
export interface JobReader {
  job(taskId: string, kind: JobKey['kind']): Promise<OwedJob | undefined>
  close(): Promise<void>
}

/** Opens the jobs of `where`. */
export async function openJobs(where: { dataDir: string } | { redisUrl: string }): Promise<JobReader> {
  if ('dataDir' in where) {
    const store = new SqliteTaskStore({ dataDir: where.dataDir })
    return { job: (taskId, kind) => store.job({ taskId, kind }), close: () => store.close() }
  }
  const connection = await RedisConnection.open({ url: where.redisUrl })
  const store = new RedisTaskStore({ connection, keys: new RedisKeys('longrun') })
  return {
    job: (taskId, kind) => store.job({ taskId, kind }),
    close: async () => {
      await store.close()
      connection.close()
    },
  }
}

/** The job once it is settled (delivered or failed), waited for by polling `jobs`. */
export async function settledJob(
  jobs: JobReader,
  taskId: string,
  kind: string,
  timeoutMs = 20_000,
): Promise<OwedJob> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const job = await jobs.job(taskId, kind)
    if (job !== undefined && job.state !== 'pending') return job
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for the ${kind} job of ${taskId} to settle (now ${job?.state})`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** One POST a {@link WebhookReceiver} got. */
export interface WebhookDelivery {
  readonly headers: IncomingHttpHeaders
  readonly body: string
  /** What it answered. */
  status: number
}

/** A webhook receiver of the test's own: records each notice and answers what `script` says. */
export interface WebhookReceiver {
  readonly url: string
  readonly deliveries: readonly WebhookDelivery[]
  /** The status of a notice, given the earlier deliveries of the same webhook-id (undefined: 204). */
  script: ((delivery: WebhookDelivery, earlier: readonly WebhookDelivery[]) => number | undefined) | undefined
  /** The deliveries of the notice of `taskId` (by its webhook-id). */
  of(taskId: string): WebhookDelivery[]
  close(): Promise<void>
}

/** Starts a receiver on port 0. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const deliveries: WebhookDelivery[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const delivery: WebhookDelivery = {
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        status: 0,
      }
      const earlier = deliveries.filter((one) => one.headers['webhook-id'] === request.headers['webhook-id'])
      deliveries.push(delivery)
      delivery.status = receiver.script?.(delivery, earlier) ?? 204
      response.writeHead(delivery.status)
      response.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/longrun`,
    deliveries,
    script: undefined,
    of: (taskId) => deliveries.filter((one) => one.headers['webhook-id'] === `msg_longrun_${taskId}`),
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return receiver
}
