/**
 * The runtime stack of `runtime-stack.ts` with continuations on: its MCP server serves the example
 * tools that wake (model_training, evaluate_model) and text_statistics (which does not), and wakes
 * the test runtime through the local gateway once a result is in memory. Wakes and what the stored
 * session says of each task are read here, the way the tests assert them: by codes and metadata.
 */
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { before } from 'node:test'
import { type Event, InvokeAgentRuntimeCommand } from '@aws-sdk/client-bedrock-agentcore'
import type { Message } from '@strands-agents/sdk'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  CONTINUATION_HEADERS,
  CONTINUATION_METADATA_KEY,
  RUNTIME_ERROR_HEADERS,
  TASK_ID_METADATA_KEY,
} from '../../src/contract/index.ts'
import { formatCompositeSessionHeader } from '../../src/mcp/index.ts'
import {
  evaluateModelTool,
  type LongRunningMcpServer,
  modelTrainingTool,
  textStatisticsTool,
} from '../../src/mcp-server/index.ts'
import {
  decodeMemoryEvent,
  normalizeConverseHistory,
  validateConverseHistory,
} from '../../src/memory/index.ts'
import { type InvocationAnswer, InvocationAnswerSchema, memorySessionIdFor } from '../../src/runtime/index.ts'
import type { Logger } from '../../src/shared/logger.ts'
import { listSessionEvents, waitFor } from './local-agentcore.ts'
import { startTestServer, structured, TEST_TOKEN } from './mcp-server.ts'
import { type RuntimeStack, TEST_RUNTIME_ARN, useRuntimeStack } from './runtime-stack.ts'

/** The prompt of the demo's story: a training, then its evaluation, each woken by the last. */
export const STORY_PROMPT = 'Train a model called fraud-v2 for 30 epochs, then evaluate it.'

/** One log line of the MCP server, with its fields. */
export interface LogEntry {
  readonly level: string
  readonly message: string
  readonly fields: Readonly<Record<string, unknown>>
}

/** What an InvokeAgentRuntime call came to: the runtime's answer, or its refusal (code, field, status). */
export type InvokeResult =
  | { readonly answer: InvocationAnswer; readonly refusal?: undefined }
  | {
      readonly answer?: undefined
      readonly refusal: {
        /** The AWS error's name (RuntimeClientError, RetryableConflictException, ...). */
        readonly name: string
        readonly code: string | undefined
        readonly field: string | undefined
        readonly status: number | undefined
      }
    }

/** One stored event of a session, decoded, with the marks continuations use. */
export interface MarkedEvent {
  readonly eventId: string
  readonly time: number
  /** `longrunTaskId`: a task's result, or an event of the continuation it caused. */
  readonly taskId: string | undefined
  /** `longrunContinuation`: the continuation's depth, or `stopped`; undefined on anything else. */
  readonly continuation: string | undefined
  readonly messages: Message[]
}

export interface ContinuationStack extends RuntimeStack {
  /** What the MCP server logged, oldest first. */
  readonly mcpLog: LogEntry[]
  /** The outcomes of the wakes the MCP server sent for `taskId` and that were answered, in order. */
  wakeOutcomes(taskId: string): string[]
  /** Waits until the wake of `taskId` was answered `count` times (default once), and returns the outcomes. */
  awaitWake(taskId: string, count?: number, timeoutMs?: number): Promise<string[]>
  /** One JSON InvokeAgentRuntime call with exactly `payload`, answered or refused. */
  send(payload: unknown, sessionId: string): Promise<InvokeResult>
  /** A wake as the MCP server sends it (actor `default` and the stack's memory unless given). */
  wake(
    sessionId: string,
    taskId: string,
    depth: number,
    options?: { actorId?: string },
  ): Promise<InvokeResult>
  /** Every event of the runtime session's conversation (actor `default` unless given), decoded. */
  events(sessionId: string, actorId?: string): Promise<MarkedEvent[]>
  /** The stored conversation's problems for Converse (none: a valid history). */
  converseProblems(sessionId: string, actorId?: string): Promise<unknown[]>
  /** Tasks in the MCP server's store, by tool, for a conversation (all conversations unless given). */
  tasksOf(tool: string, sessionId?: string): { task_id: string; status: string; caller: string }[]
  /** The MCP server's after-end job of a task (`memory`, `wake`), as its outbox row holds it. */
  job(
    taskId: string,
    kind: string,
  ): { state: string; attempts: number; last_error: string | null } | undefined
  /**
   * An MCP client that calls tools as the runtime's agent would for `sessionId`: composite header,
   * runtime session header, and the depth header when given.
   */
  connectAsAgent(sessionId: string, depth?: number): Promise<Client>
}

/** Options of {@link useContinuationStack}. */
export interface ContinuationStackOptions {
  /** Pause of each training epoch (default 20 ms: a 30-epoch training takes under a second). */
  readonly epochDelayMs?: number
  /** Pause after each evaluation chunk (default 0). */
  readonly chunkDelayMs?: number
}

/**
 * Registers the hooks of a runtime stack whose MCP server wakes `TEST_RUNTIME_ARN` (the gateway
 * routes every runtime ARN to the runtime started last).
 */
export function useContinuationStack(options: ContinuationStackOptions = {}): ContinuationStack {
  const base = useRuntimeStack({ epochDelayMs: options.epochDelayMs ?? 20 })
  const mcpLog: LogEntry[] = []
  const logger: Logger = {
    log(level, message, fields = {}) {
      mcpLog.push({ level, message, fields })
    },
  }
  const stack = base as ContinuationStack
  before(async () => {
    // The stack's own server knows no wakes: it makes way for one that does, on the same data directory.
    await base.mcp.close()
    const dataDir = base.dataDir
    const mcp: LongRunningMcpServer = await startTestServer(dataDir, {
      memoryClient: base.env.data,
      tools: [
        modelTrainingTool({ dataDir, epochDelayMs: options.epochDelayMs ?? 20 }),
        evaluateModelTool({ dataDir, chunkDelayMs: options.chunkDelayMs ?? 0 }),
        textStatisticsTool(),
      ],
      wake: { runtime: TEST_RUNTIME_ARN },
      logger,
    })
    Object.assign(base, { mcp })
  })
  const wakeOutcomes = (taskId: string) =>
    mcpLog.flatMap((entry) =>
      entry.fields.taskId === taskId && typeof entry.fields.outcome === 'string'
        ? [entry.fields.outcome]
        : [],
    )
  const withDb = <T>(read: (db: DatabaseSync) => T): T => {
    const db = new DatabaseSync(join(base.dataDir, 'mcp-tasks.sqlite'), { readOnly: true })
    try {
      return read(db)
    } finally {
      db.close()
    }
  }
  Object.assign(stack, {
    mcpLog,
    wakeOutcomes,
    awaitWake: (taskId: string, count = 1, timeoutMs = 60_000) =>
      waitFor(
        () => {
          const outcomes = wakeOutcomes(taskId)
          return outcomes.length >= count ? outcomes : undefined
        },
        timeoutMs,
        `the wake of task ${taskId} to be answered ${count} time(s)`,
      ),
    async send(payload: unknown, sessionId: string): Promise<InvokeResult> {
      try {
        const output = await base.env.data.send(
          new InvokeAgentRuntimeCommand({
            agentRuntimeArn: TEST_RUNTIME_ARN,
            qualifier: 'DEFAULT',
            runtimeSessionId: sessionId,
            contentType: 'application/json',
            accept: 'application/json',
            payload: new TextEncoder().encode(JSON.stringify(payload)),
          }),
        )
        const text = (await output.response?.transformToString()) ?? ''
        return { answer: InvocationAnswerSchema.parse(JSON.parse(text)) }
      } catch (error) {
        const failed = error as {
          name?: string
          $response?: { headers?: Record<string, string | undefined> }
          $metadata?: { httpStatusCode?: number }
        }
        if (failed.$metadata === undefined) throw error
        const headers = failed.$response?.headers ?? {}
        const status = headers[RUNTIME_ERROR_HEADERS.status]
        return {
          refusal: {
            name: failed.name ?? 'Error',
            code: headers[RUNTIME_ERROR_HEADERS.code],
            field: headers[RUNTIME_ERROR_HEADERS.field],
            status: status === undefined ? failed.$metadata.httpStatusCode : Number(status),
          },
        }
      }
    },
    wake(sessionId: string, taskId: string, depth: number, wakeOptions: { actorId?: string } = {}) {
      return stack.send(
        {
          wake: { task_id: taskId, depth },
          actor_id: wakeOptions.actorId ?? 'default',
          memory_id: base.memoryId,
        },
        sessionId,
      )
    },
    async events(sessionId: string, actorId = 'default'): Promise<MarkedEvent[]> {
      const events = await listSessionEvents(
        base.env.data,
        base.memoryId,
        actorId,
        memorySessionIdFor(sessionId),
      )
      return events.map(markedEvent)
    },
    async converseProblems(sessionId: string, actorId = 'default') {
      const events = await stack.events(sessionId, actorId)
      return validateConverseHistory(normalizeConverseHistory(events.flatMap((event) => event.messages)))
    },
    tasksOf(tool: string, sessionId?: string) {
      return withDb((db) => {
        const rows = db
          .prepare('SELECT task_id, status, caller FROM tasks WHERE tool = ? ORDER BY created_at')
          .all(tool) as { task_id: string; status: string; caller: string | null }[]
        return rows
          .filter(
            (row) => sessionId === undefined || (row.caller ?? '').includes(memorySessionIdFor(sessionId)),
          )
          .map((row) => ({ task_id: row.task_id, status: row.status, caller: row.caller ?? '' }))
      })
    },
    job(taskId: string, kind: string) {
      return withDb(
        (db) =>
          db
            .prepare('SELECT state, attempts, last_error FROM outbox WHERE task_id = ? AND kind = ?')
            .get(taskId, kind) as { state: string; attempts: number; last_error: string | null } | undefined,
      )
    },
    async connectAsAgent(sessionId: string, depth?: number) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${TEST_TOKEN}`,
        'mcp-session-id': formatCompositeSessionHeader({
          sessionId: memorySessionIdFor(sessionId),
          memoryId: base.memoryId,
          actorId: 'default',
        }),
        [CONTINUATION_HEADERS.runtimeSession]: sessionId,
        ...(depth !== undefined && { [CONTINUATION_HEADERS.depth]: String(depth) }),
      }
      const transport = new StreamableHTTPClientTransport(new URL(base.mcp.url), { requestInit: { headers } })
      const client = new Client({ name: 'longrun-test-agent', version: '1.0.0' }, { capabilities: {} })
      await client.connect(transport)
      return client
    },
  })
  return stack
}

function markedEvent(event: Event): MarkedEvent {
  const metadata = event.metadata ?? {}
  const value = (key: string) => {
    const entry = metadata[key]
    return entry !== undefined && 'stringValue' in entry ? entry.stringValue : undefined
  }
  return {
    eventId: event.eventId ?? '',
    time: event.eventTimestamp?.getTime() ?? 0,
    taskId: value(TASK_ID_METADATA_KEY),
    continuation: value(CONTINUATION_METADATA_KEY),
    messages: decodeMemoryEvent(event).messages,
  }
}

/** The result events of a task: marked with its id, not with a continuation. */
export function resultEvents(events: readonly MarkedEvent[], taskId: string): MarkedEvent[] {
  return events.filter((event) => event.taskId === taskId && event.continuation === undefined)
}

/** The events of the continuation a task caused. */
export function continuationEvents(events: readonly MarkedEvent[], taskId: string): MarkedEvent[] {
  return events.filter((event) => event.taskId === taskId && event.continuation !== undefined)
}

/** The final answers among messages: assistant messages with text and no tool call. */
export function finalAnswers(events: readonly MarkedEvent[]): string[] {
  return events.flatMap((event) =>
    event.messages.flatMap((message) => {
      if (message.role !== 'assistant' || message.content.some((block) => block.type === 'toolUseBlock'))
        return []
      const text = message.content
        .flatMap((block) => (block.type === 'textBlock' ? [block.text] : []))
        .join('\n')
      return text === '' ? [] : [text]
    }),
  )
}

/** The tool calls among messages: name and input. */
export function toolCalls(events: readonly MarkedEvent[]): { name: string; input: unknown }[] {
  return events.flatMap((event) =>
    event.messages.flatMap((message) =>
      message.content.flatMap((block) =>
        block.type === 'toolUseBlock' ? [{ name: block.name, input: block.input }] : [],
      ),
    ),
  )
}

/** The user texts among messages (prompts, continuation prompts, delivered results). */
export function userTexts(events: readonly MarkedEvent[]): string[] {
  return events.flatMap((event) =>
    event.messages.flatMap((message) =>
      message.role === 'user'
        ? message.content.flatMap((block) => (block.type === 'textBlock' ? [block.text] : []))
        : [],
    ),
  )
}

/** The JSON result a delivered result event holds (its text after `Result:`). */
export function deliveredResult(events: readonly MarkedEvent[], taskId: string): Record<string, unknown> {
  const [text] = userTexts(resultEvents(events, taskId))
  const json = /\nResult:\n([\s\S]*)$/.exec(text ?? '')?.[1]
  if (json === undefined) throw new Error(`no result of task ${taskId} is stored`)
  return JSON.parse(json) as Record<string, unknown>
}

/** Starts a background text_statistics task (which wakes nobody) for the session, as its agent would. */
export async function startQuietTask(stack: ContinuationStack, sessionId: string): Promise<string> {
  const client = await stack.connectAsAgent(sessionId)
  try {
    const started = await client.callTool({
      name: 'start_text_statistics',
      arguments: { documents: 50 },
    })
    return structured(started).task_id as string
  } finally {
    await client.close()
  }
}

/** Waits until the task's result is in the session (delivered by the MCP server). */
export async function awaitResult(
  stack: ContinuationStack,
  sessionId: string,
  taskId: string,
  timeoutMs = 30_000,
): Promise<void> {
  await waitFor(
    () => stack.job(taskId, 'memory')?.state === 'delivered',
    timeoutMs,
    `the result of task ${taskId} to be delivered`,
  )
  // The outbox row is settled once the write was acknowledged: the event is there.
  const events = await stack.events(sessionId)
  if (resultEvents(events, taskId).length !== 1) throw new Error(`the result of ${taskId} is not stored once`)
}
