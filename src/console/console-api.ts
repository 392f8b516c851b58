/**
 * What the developer console does, through the same public clients a user would: the agent
 * through InvokeAgentRuntime (the local gateway, or AgentCore), the session's memory through
 * ListEvents and ListSessions, and the actor's tasks through the long-running MCP server's task
 * tools (an MCP client with the actor's composite session header).
 */
import type { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { type InterruptResponse, invokeFailureOf, type RuntimeInvoker } from '../runtime-client/index.ts'
import { invocationCommand } from '../runtime-client/sigv4-invoker.ts'
import { formatCompositeSessionHeader } from '../mcp/index.ts'
import { memorySessionIdFor, parseRuntimeStream, type RuntimeStreamEvent } from '../runtime/index.ts'
import { isRecord } from '../shared/is-record.ts'
import {
  type CliSession,
  type DefaultSession,
  listActorSessions,
  pickDefaultSession,
} from './actor-sessions.ts'
import { type ResultValues, valuesOf, valuesOfText } from './result-values.ts'
import { taskToolError } from './task-tool-error.ts'
import { type TimelinePage, TimelineReader } from './timeline-reader.ts'

/** Stops and starts the agent runtime of the stack (the dev stack's own process). */
export interface RuntimeControl {
  readonly running: boolean
  stop(): Promise<void>
  start(): Promise<void>
}

/**
 * A {@link RuntimeControl} whose stops and starts run one at a time, in the order asked: two clicks
 * never start two runtimes, and a shutdown can wait for the one under way.
 */
export class SerialRuntimeControl implements RuntimeControl {
  readonly #steps: { isRunning(): boolean; stop(): Promise<void>; start(): Promise<void> }
  #queue: Promise<void> = Promise.resolve()

  constructor(steps: { isRunning(): boolean; stop(): Promise<void>; start(): Promise<void> }) {
    this.#steps = steps
  }

  get running(): boolean {
    return this.#steps.isRunning()
  }

  stop(): Promise<void> {
    return this.#then(() => this.#steps.stop())
  }

  start(): Promise<void> {
    return this.#then(() => this.#steps.start())
  }

  /** Resolves once every stop and start asked for so far is over. */
  async settled(): Promise<void> {
    await this.#queue.catch(() => {})
  }

  #then(step: () => Promise<void>): Promise<void> {
    const next = this.#queue.catch(() => {}).then(step)
    this.#queue = next
    return next
  }
}

/** Configuration of {@link ConsoleApi}. */
export interface ConsoleApiConfig {
  /** AgentCore data plane: the local service (memory and invoke gateway) or AWS. */
  readonly agentCore: BedrockAgentCoreClient
  readonly runtimeArn: string
  readonly memoryId: string
  readonly mcp: { readonly url: string; readonly bearerToken: string }
  /** Absent when the runtime is not the console's to stop (a deployed one). */
  readonly runtime?: RuntimeControl | undefined
  /** Sends the turns another way than SigV4 with `agentCore` (a bearer token for a JWT runtime). */
  readonly invoker?: RuntimeInvoker | undefined
  /**
   * The session the CLI (`longrun invoke`, `longrun chat`) last used with this runtime, if any:
   * the session the console opens by default prefers it (see actor-sessions.ts).
   */
  readonly cliSession?: (() => Promise<CliSession | undefined>) | undefined
}

/** What a turn sends: a prompt, or the answers to the questions the session's paused turn asked. */
export type ChatInput =
  { readonly prompt: string } | { readonly interruptResponses: readonly InterruptResponse[] }

/** Who is looking: the actor and the runtime session. */
export interface ConsoleScope {
  readonly actorId: string
  readonly sessionId: string
}

/** A task as the task tools report it (snake_case), and whether it belongs to the session in view. */
export type ConsoleTask = Record<string, unknown> & {
  readonly task_id: string
  readonly status: string
  /** True when its result goes to the session in view (the session that started it). */
  readonly in_session: boolean
}

/** An ended task's result: its outcome, its text, and its values when it is a JSON object. */
export interface TaskResult {
  readonly status: string
  readonly text: string
  readonly values?: ResultValues
}

/** The console's backend operations. */
export class ConsoleApi {
  readonly #config: ConsoleApiConfig
  /** One MCP connection per actor (the composite header is fixed per connection). */
  readonly #mcpClients = new Map<string, Promise<Client>>()
  readonly #timeline: TimelineReader

  constructor(config: ConsoleApiConfig) {
    this.#config = config
    this.#timeline = new TimelineReader({ client: config.agentCore, memoryId: config.memoryId })
  }

  get runtimeControl(): RuntimeControl | undefined {
    return this.#config.runtime
  }

  /**
   * One turn, streamed (a prompt, or the answers to a paused turn's questions, its `interrupt` events): the runtime's events as they arrive; a refused call (bad session id, empty
   * prompt, the runtime stopped) ends as one `error` event in the runtime's own words.
   */
  async *chat(
    scope: ConsoleScope,
    input: ChatInput,
    signal: AbortSignal,
  ): AsyncGenerator<RuntimeStreamEvent> {
    let body: AsyncIterable<Uint8Array>
    const invocation = {
      runtimeArn: this.#config.runtimeArn,
      sessionId: scope.sessionId,
      ...input,
      actorId: scope.actorId,
    }
    const { invoker } = this.#config
    try {
      if (invoker !== undefined) body = (await invoker.open(invocation, signal)).body
      else {
        const output = await this.#config.agentCore.send(invocationCommand(invocation), {
          abortSignal: signal,
        })
        body = output.response as AsyncIterable<Uint8Array>
      }
    } catch (error) {
      yield { type: 'error', ...(invoker?.failureOf(error) ?? invokeFailureOf(error)) }
      return
    }
    yield* parseRuntimeStream(body)
  }

  /**
   * The actor's background tasks, newest first, as the task tools report them (every page), each
   * saying whether it belongs to the session in view.
   */
  async tasks(scope: ConsoleScope): Promise<ConsoleTask[]> {
    const session = memorySessionIdFor(scope.sessionId)
    const tasks: ConsoleTask[] = []
    let cursor: string | undefined
    do {
      const page = (await this.#callTaskTool(
        scope,
        'list_tasks',
        cursor === undefined ? {} : { cursor },
      )) as {
        tasks?: Record<string, unknown>[]
        next_cursor?: string | null
      }
      for (const task of page.tasks ?? [])
        tasks.push({
          ...task,
          task_id: String(task.task_id),
          status: String(task.status),
          in_session: task.session_id === session,
        })
      cursor = page.next_cursor ?? undefined
    } while (cursor !== undefined)
    return tasks
  }

  /**
   * An ended task's result (what get_task_results answers): a failed task's is its failure. Only
   * a refusal (an unknown task, another actor's) is a TaskToolError.
   */
  async result(scope: ConsoleScope, taskId: string): Promise<TaskResult> {
    const answer = await (
      await this.#mcp(scope)
    ).callTool({
      name: 'get_task_results',
      arguments: { task_id: taskId },
    })
    const structured = isRecord(answer.structuredContent) ? answer.structuredContent : undefined
    if (answer.isError === true && (structured === undefined || 'error' in structured))
      throw taskToolError(answer)
    // The first block says which task and how it ended; the result itself follows.
    const blocks = (answer.content as { type: string; text?: string }[])
      .slice(1)
      .map((block) => (block.type === 'text' ? (block.text ?? '') : `[${block.type}]`))
    const text = blocks.join('\n')
    const values = valuesOf(structured?.result) ?? valuesOfText(text)
    return {
      status: String(structured?.status ?? 'unknown'),
      text,
      ...(values !== undefined && { values }),
    }
  }

  /** Cancels one of the actor's tasks; TaskToolError (TASK_NOT_FOUND, TASK_ALREADY_ENDED) when refused. */
  async cancel(scope: ConsoleScope, taskId: string): Promise<unknown> {
    return this.#callTaskTool(scope, 'cancel_task', { task_id: taskId })
  }

  /**
   * The session's timeline, oldest first: all of it without a cursor, else only what was written
   * since the read that gave the cursor (see timeline-reader.ts).
   */
  async timeline(scope: ConsoleScope, cursor?: string): Promise<TimelinePage> {
    return this.#timeline.read(
      { actorId: scope.actorId, sessionId: memorySessionIdFor(scope.sessionId) },
      cursor,
    )
  }

  /** The actor's sessions in memory, the most recently created first. */
  async sessions(actorId: string): Promise<string[]> {
    return listActorSessions(this.#config.agentCore, this.#config.memoryId, actorId)
  }

  /** The session the console opens for the actor (see actor-sessions.ts); undefined: a new one. */
  async defaultSession(actorId: string): Promise<DefaultSession | undefined> {
    // The CLI's file unreadable is the same as no file: the rule still has memory to go by.
    const cli = await this.#config.cliSession?.().catch(() => undefined)
    return pickDefaultSession(this.#config.agentCore, this.#config.memoryId, actorId, cli)
  }

  async close(): Promise<void> {
    const clients = [...this.#mcpClients.values()]
    this.#mcpClients.clear()
    await Promise.all(clients.map(async (client) => (await client.catch(() => undefined))?.close()))
  }

  async #callTaskTool(scope: ConsoleScope, name: string, args: Record<string, unknown>): Promise<unknown> {
    const result = await (await this.#mcp(scope)).callTool({ name, arguments: args })
    if (result.isError === true) throw taskToolError(result)
    return result.structuredContent ?? {}
  }

  /**
   * One MCP connection per actor: the task tools see the actor's tasks whatever session the
   * composite header names (the session only says where new tasks' results go).
   */
  #mcp(scope: ConsoleScope): Promise<Client> {
    const key = scope.actorId
    let client = this.#mcpClients.get(key)
    if (client === undefined) {
      client = this.#connect(scope)
      // A failed connection is not kept: the next call tries again (the server may be back).
      client.catch(() => this.#mcpClients.delete(key))
      this.#mcpClients.set(key, client)
    }
    return client
  }

  async #connect(scope: ConsoleScope): Promise<Client> {
    const client = new Client({ name: 'longrun-console', version: '1' })
    const header = formatCompositeSessionHeader({
      sessionId: memorySessionIdFor(scope.sessionId),
      memoryId: this.#config.memoryId,
      actorId: scope.actorId,
    })
    await client.connect(
      new StreamableHTTPClientTransport(new URL(this.#config.mcp.url), {
        requestInit: {
          headers: { authorization: `Bearer ${this.#config.mcp.bearerToken}`, 'mcp-session-id': header },
        },
      }),
    )
    return client
  }
}
