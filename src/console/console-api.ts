/**
 * What the developer console does, through the same public clients a user would: the agent
 * through InvokeAgentRuntime (the local gateway, or AgentCore), the session's memory through
 * ListEvents and ListSessions, and the actor's tasks through the long-running MCP server's task
 * tools (an MCP client with the actor's composite session header).
 */
import { type BedrockAgentCoreClient, ListSessionsCommand } from '@aws-sdk/client-bedrock-agentcore'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { invocationCommand, invokeFailureOf } from '../cli/runtime-invocation.ts'
import { formatCompositeSessionHeader } from '../mcp/index.ts'
import { listSessionEvents, timelineOf } from '../memory/index.ts'
import { memorySessionIdFor, parseRuntimeStream, type RuntimeStreamEvent } from '../runtime/index.ts'

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

/** A call the task tools refused (`isError`), with the tools' own error code. */
export class TaskToolError extends Error {
  readonly code: string
  constructor(code: string, message: string) {
    super(message)
    this.name = 'TaskToolError'
    this.code = code
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
}

/** Who is looking: the actor and the runtime session. */
export interface ConsoleScope {
  readonly actorId: string
  readonly sessionId: string
}

/** One event of the session, readable, with its raw payload. */
export interface TimelineItem {
  readonly eventId: string
  readonly time: string
  readonly author: string
  readonly text: string
  readonly raw: unknown
}

/** The console's backend operations. */
export class ConsoleApi {
  readonly #config: ConsoleApiConfig
  /** One MCP connection per actor (the composite header is fixed per connection). */
  readonly #mcpClients = new Map<string, Promise<Client>>()

  constructor(config: ConsoleApiConfig) {
    this.#config = config
  }

  get runtimeControl(): RuntimeControl | undefined {
    return this.#config.runtime
  }

  /**
   * One turn, streamed: the runtime's events as they arrive; a refused call (bad session id, empty
   * prompt, the runtime stopped) ends as one `error` event in the runtime's own words.
   */
  async *chat(scope: ConsoleScope, prompt: string, signal: AbortSignal): AsyncGenerator<RuntimeStreamEvent> {
    let body: AsyncIterable<Uint8Array>
    try {
      const output = await this.#config.agentCore.send(
        invocationCommand({
          runtimeArn: this.#config.runtimeArn,
          sessionId: scope.sessionId,
          prompt,
          actorId: scope.actorId,
        }),
        { abortSignal: signal },
      )
      body = output.response as AsyncIterable<Uint8Array>
    } catch (error) {
      yield { type: 'error', ...invokeFailureOf(error) }
      return
    }
    yield* parseRuntimeStream(body)
  }

  /** The actor's background tasks, newest first, as the task tools report them (every page). */
  async tasks(scope: ConsoleScope): Promise<unknown[]> {
    const tasks: unknown[] = []
    let cursor: string | undefined
    do {
      const page = (await this.#callTaskTool(
        scope,
        'list_tasks',
        cursor === undefined ? {} : { cursor },
      )) as {
        tasks?: unknown[]
        next_cursor?: string | null
      }
      tasks.push(...(page.tasks ?? []))
      cursor = page.next_cursor ?? undefined
    } while (cursor !== undefined)
    return tasks
  }

  /** The text of an ended task's result (what get_task_results answers). */
  async result(scope: ConsoleScope, taskId: string): Promise<string> {
    const result = await (
      await this.#mcp(scope)
    ).callTool({
      name: 'get_task_results',
      arguments: { task_id: taskId },
    })
    if (result.isError === true) throw taskToolError(result)
    return (result.content as { type: string; text?: string }[])
      .map((block) => (block.type === 'text' ? (block.text ?? '') : `[${block.type}]`))
      .join('\n')
  }

  /** Cancels one of the actor's tasks; TaskToolError (TASK_NOT_FOUND, TASK_ALREADY_ENDED) when refused. */
  async cancel(scope: ConsoleScope, taskId: string): Promise<unknown> {
    return this.#callTaskTool(scope, 'cancel_task', { task_id: taskId })
  }

  /** Every event of the session, oldest first, readable, with the raw event one click away. */
  async timeline(scope: ConsoleScope): Promise<TimelineItem[]> {
    const events = await listSessionEvents(this.#config.agentCore, {
      memoryId: this.#config.memoryId,
      actorId: scope.actorId,
      sessionId: memorySessionIdFor(scope.sessionId),
    })
    return events.flatMap((event) =>
      timelineOf(event).map((entry) => ({
        eventId: entry.eventId,
        time: entry.time.toISOString(),
        author: entry.author,
        text: entry.text,
        raw: event.payload ?? [],
      })),
    )
  }

  /** The actor's sessions in memory, newest first. */
  async sessions(actorId: string): Promise<string[]> {
    const sessions: { id: string; at: number }[] = []
    let nextToken: string | undefined
    do {
      const page = await this.#config.agentCore.send(
        new ListSessionsCommand({
          memoryId: this.#config.memoryId,
          actorId,
          maxResults: 100,
          ...(nextToken !== undefined && { nextToken }),
        }),
      )
      for (const session of page.sessionSummaries ?? [])
        if (session.sessionId !== undefined)
          sessions.push({ id: session.sessionId, at: session.createdAt?.getTime() ?? 0 })
      nextToken = page.nextToken
    } while (nextToken !== undefined)
    return sessions.sort((a, b) => b.at - a.at).map((session) => session.id)
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

function taskToolError(result: Record<string, unknown>): TaskToolError {
  const error = (result.structuredContent as { error?: { code?: string; message?: string } } | undefined)
    ?.error
  const text = (result.content as { text?: string }[] | undefined)?.[0]?.text
  return new TaskToolError(error?.code ?? 'TOOL_ERROR', error?.message ?? text ?? 'the task tool refused')
}
