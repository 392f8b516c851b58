/**
 * The whole stack for runtime tests, on free ports: the local AgentCore service (memory, gateway,
 * model endpoints), a memory, the long-running MCP server delivering into it, and agent runtimes
 * (in this process or as their own processes) registered with the gateway, invoked through the
 * real `InvokeAgentRuntimeCommand`.
 */
import { after, before } from 'node:test'
import { InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore'
import { loadEnvironment } from '../../src/config.ts'
import { type StartedRuntime, startRuntimeFromEnv } from '../../src/entrypoint.ts'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import type { Message } from '@strands-agents/sdk'
import { decodeMemoryEvent } from '../../src/memory/index.ts'
import {
  type InvocationAnswer,
  InvocationAnswerSchema,
  parseRuntimeStream,
  type RuntimeStreamEvent,
  SESSION_ID_HEADER,
} from '../../src/runtime/index.ts'
import { type Logger, silentLogger } from '../../src/shared/logger.ts'
import { type ServiceProcess, startServiceProcess, stopServiceProcess } from './child-process.ts'
import {
  type LocalAgentCoreFixture,
  listSessionEvents,
  startLocalAgentCore,
  TEST_CREDENTIALS,
} from './local-agentcore.ts'
import { startTestServer, TEST_TOKEN, tempDir } from './mcp-server.ts'

export const TEST_RUNTIME_ARN =
  'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/test_agent-0123456789'
const ENTRYPOINT = new URL('../../src/entrypoint.ts', import.meta.url).pathname

/** A runtime session id of 40 characters (the Runtime wants 33 or more). */
export function sessionIdFor(name: string): string {
  return `${name}-${'0'.repeat(40)}`.slice(0, 40)
}

/** What one invocation through the gateway gave back. */
export interface InvokeOutcome {
  /** Streamed events (empty for a JSON answer). */
  readonly events: RuntimeStreamEvent[]
  /** The answer: the `done` event or the JSON body. */
  readonly answer: InvocationAnswer | undefined
  /** The runtime session id the gateway reports. */
  readonly runtimeSessionId: string | undefined
}

export interface InvokeOptions {
  readonly sessionId?: string
  readonly actorId?: string
  readonly memoryId?: string
  /** Ask for `text/event-stream` (default true). */
  readonly stream?: boolean
  /** Send the payload as boto3 does: a JSON string, no content type of our choosing. */
  readonly asBoto3?: boolean
  /** Answer the session's paused turn instead of sending the prompt (which is then ignored). */
  readonly interruptResponses?: readonly { interrupt_id: string; response: unknown }[]
}

export interface RuntimeStack {
  readonly env: LocalAgentCoreFixture
  readonly memoryId: string
  readonly mcp: LongRunningMcpServer
  readonly dataDir: string
  /** The runtime's environment for this stack, with `overrides`. */
  runtimeVariables(overrides?: Record<string, string>): Record<string, string>
  /** Starts a runtime in this process (logging to `logger`, default nowhere) and routes the gateway to it. */
  startRuntime(overrides?: Record<string, string>, logger?: Logger): Promise<StartedRuntime>
  /** Starts `src/entrypoint.ts` as its own process and routes the gateway to it. */
  startRuntimeProcess(overrides?: Record<string, string>): Promise<ServiceProcess>
  /** One invocation through the real InvokeAgentRuntimeCommand. */
  invoke(prompt: string, options?: InvokeOptions): Promise<InvokeOutcome>
}

/** Registers before/after hooks building the stack; runtimes started through it are stopped in `after`. */
export function useRuntimeStack(
  options: { epochDelayMs?: number; heartbeatIntervalMs?: number } = {},
): RuntimeStack {
  const runtimes: StartedRuntime[] = []
  const processes: ServiceProcess[] = []
  let dir: { path: string; remove(): Promise<void> }
  const stack = {} as RuntimeStack & {
    env: LocalAgentCoreFixture
    memoryId: string
    mcp: LongRunningMcpServer
    dataDir: string
  }
  Object.assign(stack, {
    runtimeVariables(overrides: Record<string, string> = {}) {
      return {
        PORT: '0',
        RUNTIME_HOST: '127.0.0.1',
        MODEL_PROVIDER: 'demo',
        AGENTCORE_ENDPOINT: stack.env.service.url,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        MEMORY_ID: stack.memoryId,
        MCP_SERVER_URL: stack.mcp.url,
        MCP_BEARER_TOKEN: TEST_TOKEN,
        ...overrides,
      }
    },
    async startRuntime(overrides: Record<string, string> = {}, logger: Logger = silentLogger) {
      const runtime = await startRuntimeFromEnv(loadEnvironment(stack.runtimeVariables(overrides)), {
        memoryCredentials: TEST_CREDENTIALS,
        modelCredentials: TEST_CREDENTIALS,
        logger,
      })
      runtimes.push(runtime)
      stack.env.service.registerRuntime('*', runtime.server.url)
      return runtime
    },
    async startRuntimeProcess(overrides: Record<string, string> = {}) {
      const child = await startServiceProcess(ENTRYPOINT, stack.runtimeVariables(overrides))
      processes.push(child)
      stack.env.service.registerRuntime('*', child.url)
      return child
    },
    async invoke(prompt: string, invokeOptions: InvokeOptions = {}) {
      const payload = {
        ...(invokeOptions.interruptResponses === undefined
          ? { prompt }
          : { interrupt_responses: invokeOptions.interruptResponses }),
        ...(invokeOptions.actorId !== undefined && { actor_id: invokeOptions.actorId }),
        ...(invokeOptions.memoryId !== undefined && { memory_id: invokeOptions.memoryId }),
      }
      const stream = invokeOptions.stream ?? true
      const output = await stack.env.data.send(
        new InvokeAgentRuntimeCommand({
          agentRuntimeArn: TEST_RUNTIME_ARN,
          qualifier: 'DEFAULT',
          ...(invokeOptions.sessionId !== undefined && { runtimeSessionId: invokeOptions.sessionId }),
          payload: invokeOptions.asBoto3
            ? JSON.stringify(payload)
            : new TextEncoder().encode(JSON.stringify(payload)),
          ...(!invokeOptions.asBoto3 && { contentType: 'application/json' }),
          ...(stream && { accept: 'text/event-stream' }),
        }),
      )
      if (!stream) {
        const answer = InvocationAnswerSchema.parse(
          JSON.parse((await output.response?.transformToString()) ?? ''),
        )
        return { events: [], answer, runtimeSessionId: output.runtimeSessionId }
      }
      const events: RuntimeStreamEvent[] = []
      for await (const event of parseRuntimeStream(output.response as AsyncIterable<Uint8Array>))
        events.push(event)
      const done = events.find((event) => event.type === 'done')
      return {
        events,
        answer: done && {
          response: done.response,
          session_id: done.session_id,
          tasks: done.tasks,
          ...(done.interrupts !== undefined && { interrupts: done.interrupts }),
        },
        runtimeSessionId: output.runtimeSessionId,
      }
    },
  })
  before(async () => {
    stack.env = await startLocalAgentCore()
    stack.memoryId = await stack.env.createMemory()
    dir = await tempDir('longrun-runtime-')
    stack.dataDir = dir.path
    stack.mcp = await startTestServer(dir.path, {
      memoryClient: stack.env.data,
      epochDelayMs: options.epochDelayMs ?? 0,
      ...(options.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: options.heartbeatIntervalMs }),
    })
  })
  after(async () => {
    for (const runtime of runtimes) await runtime.close()
    for (const child of processes) await stopServiceProcess(child, 'SIGKILL')
    await stack.mcp.close()
    await stack.env.close()
    await dir.remove()
  })
  return stack
}

/** The text of an event list: `done`'s response, for assertions. */
export function responseOf(outcome: InvokeOutcome): string {
  return outcome.answer?.response ?? ''
}

/** A streamed turn sent straight to a runtime, read in the background. */
export interface StreamedTurn {
  /** Resolves once the running tool has reported progress: the turn is then mid-tool. */
  readonly midTool: Promise<void>
  /** Every event, once the stream ends (rejects if the caller aborts it). */
  readonly ended: Promise<RuntimeStreamEvent[]>
}

/** POSTs `prompt` to `runtimeUrl` asking for a stream, and reads it as it comes. */
export function streamTurn(
  runtimeUrl: string,
  sessionId: string,
  prompt: string,
  signal?: AbortSignal,
): StreamedTurn {
  let progressed: () => void = () => {}
  const midTool = new Promise<void>((resolve) => {
    progressed = resolve
  })
  const ended = (async () => {
    const response = await fetch(`${runtimeUrl}/invocations`, {
      method: 'POST',
      headers: { [SESSION_ID_HEADER]: sessionId, accept: 'text/event-stream' },
      body: JSON.stringify({ prompt }),
      ...(signal !== undefined && { signal }),
    })
    const events: RuntimeStreamEvent[] = []
    for await (const event of parseRuntimeStream(response.body as AsyncIterable<Uint8Array>)) {
      events.push(event)
      if (event.type === 'tool_progress') progressed()
    }
    return events
  })()
  // An aborted or failed stream must not go unhandled before a test awaits it.
  ended.catch(() => {})
  return { midTool, ended }
}

/** The messages stored in a session, oldest first. */
export async function storedMessages(
  stack: RuntimeStack,
  actorId: string,
  sessionId: string,
): Promise<Message[]> {
  return (await listSessionEvents(stack.env.data, stack.memoryId, actorId, sessionId)).flatMap(
    (event) => decodeMemoryEvent(event).messages,
  )
}
