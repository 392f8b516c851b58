/**
 * The long-running MCP server: Streamable HTTP at /mcp (stateless: any `mcp-session-id` is
 * accepted, as AgentCore Runtime requires), GET /ping for the Runtime's health contract, and every
 * long-running tool served three ways (inline with progress, async task tools, spec-native tasks).
 */
import { createServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import {
  CallToolRequestSchema,
  type CallToolResult,
  CancelledNotificationSchema,
  type CreateTaskResult,
  ErrorCode,
  ListToolsRequestSchema,
  type RequestId,
  type ServerNotification,
  SetLevelRequestSchema,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import {
  type CompositeSessionParts,
  isCompositeSessionHeader,
  parseCompositeSessionHeader,
} from '../mcp/composite-session-header.ts'
import { readLimitedBody } from '../shared/read-body.ts'
import { type AuthConfig, type Authenticator, createAuthenticator, type Principal } from './auth.ts'
import { JsonRpcError, McpServerError } from './errors.ts'
import { HealthStatus } from '../shared/health-status.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { LongRunningTool } from './long-running-tool.ts'
import { ResultDelivery } from './result-delivery.ts'
import { OwnerScopedTaskStore, TASK_PAGE_SIZE, toSpecTask, translate } from './spec-task-store.ts'
import { type StartTask, type TaskEvent, TaskRunner } from './task-runner.ts'
import { type Outbox, SqliteTaskStore, type TaskRecord, type TaskStore } from './task-store.ts'
import { malformedRequest } from './request-params.ts'

/** Configuration of {@link LongRunningMcpServer}. */
export interface LongRunningMcpServerConfig {
  readonly tools: readonly LongRunningTool[]
  readonly auth: AuthConfig
  /** Default 8000 (the AgentCore Runtime MCP contract); 0 picks a free port. */
  readonly port?: number
  /** Default 0.0.0.0. */
  readonly host?: string
  /**
   * Host names accepted in `Host` and `Origin` (DNS-rebinding protection). Default: loopback names
   * when `host` is a loopback address, else no check (a container behind the Runtime's proxy).
   */
  readonly allowedHosts?: readonly string[]
  /** Where the task database lives (default `.longrun`). */
  readonly dataDir?: string
  /** Another task store (the benchmark's in-memory baseline); results are then not delivered to memory. */
  readonly store?: TaskStore
  /** The AgentCore data-plane client for result events; built from `region`/`agentCoreEndpoint` when absent. */
  readonly memoryClient?: BedrockAgentCoreClient
  readonly region?: string
  /** AGENTCORE_ENDPOINT: the local service in development and tests. */
  readonly agentCoreEndpoint?: string
  /**
   * Heartbeat interval of inline calls, default 10 s: a `notifications/message`, and, when the caller
   * sent a progressToken, a `notifications/progress` too (so clients that reset their timeout on
   * progress keep waiting while a tool is silent).
   */
  readonly heartbeatIntervalMs?: number
  /** How long close() (SIGTERM) waits for aborted tools to stop, default 10 s. */
  readonly shutdownGraceMs?: number
  /** How long ended tasks are kept, default 7 days. */
  readonly taskTtlMs?: number
  readonly pollIntervalMs?: number
  /** Largest accepted request body, default 4 MiB. */
  readonly maxBodyBytes?: number
  /** Retry delays of memory delivery. */
  readonly deliveryBaseDelayMs?: number
  readonly deliveryMaxDelayMs?: number
  readonly clock?: () => number
  readonly newTaskId?: () => string
  readonly logger?: Logger
  readonly serverInfo?: { name: string; version: string }
}

/** HTTP status of a request refused while deciding who asks (anything else there is a 400). */
const SCOPE_ERROR_STATUS: Partial<Record<McpServerError['code'], number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  AUTH_UNAVAILABLE: 503,
}

/** Names of the async task tools every client can use. */
export const TASK_TOOL_NAMES = ['check_task_status', 'get_task_results', 'cancel_task', 'list_tasks'] as const

/** Who is asking, for one request. */
interface RequestScope {
  /** The owner of tasks this request creates and the only owner whose tasks it sees. */
  readonly owner: string
  readonly caller: CompositeSessionParts | null
  /** The raw `mcp-session-id` ('' when none): with owner and request id it names an inline call. */
  readonly sessionKey: string
}

interface ExposedTool {
  readonly tool: LongRunningTool
  readonly serve: 'inline' | 'async'
  readonly definition: Tool
}

interface CallExtra {
  readonly signal: AbortSignal
  readonly requestId: RequestId
  readonly _meta?: { progressToken?: string | number } & Record<string, unknown>
  sendNotification(notification: ServerNotification): Promise<void>
}

const TASK_ID = z.string().min(1, 'task_id must not be empty').max(256)
const TASK_TOOL_INPUTS = {
  check_task_status: z.object({ task_id: TASK_ID }),
  get_task_results: z.object({ task_id: TASK_ID }),
  cancel_task: z.object({ task_id: TASK_ID }),
  list_tasks: z.object({ cursor: z.string().max(1024).optional() }),
} as const

const TASK_TOOL_DESCRIPTIONS: Record<(typeof TASK_TOOL_NAMES)[number], string> = {
  check_task_status: 'Status and progress of a background task started by one of the start_ tools.',
  get_task_results: 'Result of a background task once it has ended (completed, failed or cancelled).',
  cancel_task: 'Cancels a background task that is still running.',
  list_tasks: 'Lists your background tasks, newest first (pass next_cursor to page on).',
}

/** A running server; `close()` stops it (running tasks are left to be recovered at the next start). */
export class LongRunningMcpServer {
  readonly url: string
  readonly port: number
  readonly runner: TaskRunner
  readonly store: TaskStore
  readonly health: HealthStatus
  readonly #http: HttpServer
  readonly #delivery: ResultDelivery | undefined
  readonly #ownsStore: SqliteTaskStore | undefined
  readonly #ownsClient: BedrockAgentCoreClient | undefined
  readonly #sweep: NodeJS.Timeout
  readonly #shutdownGraceMs: number

  private constructor(parts: {
    url: string
    port: number
    runner: TaskRunner
    store: TaskStore
    health: HealthStatus
    http: HttpServer
    delivery: ResultDelivery | undefined
    ownsStore: SqliteTaskStore | undefined
    ownsClient: BedrockAgentCoreClient | undefined
    sweep: NodeJS.Timeout
    shutdownGraceMs: number
  }) {
    this.url = parts.url
    this.port = parts.port
    this.runner = parts.runner
    this.store = parts.store
    this.health = parts.health
    this.#http = parts.http
    this.#delivery = parts.delivery
    this.#ownsStore = parts.ownsStore
    this.#ownsClient = parts.ownsClient
    this.#sweep = parts.sweep
    this.#shutdownGraceMs = parts.shutdownGraceMs
  }

  /** Opens the store, recovers interrupted tasks, resumes owed deliveries and listens. */
  static async start(config: LongRunningMcpServerConfig): Promise<LongRunningMcpServer> {
    const logger = config.logger ?? silentLogger
    const clock = config.clock ?? Date.now
    const authenticate = createAuthenticator(config.auth)
    const ownsStore =
      config.store === undefined ? new SqliteTaskStore({ dataDir: config.dataDir ?? '.longrun' }) : undefined
    const store: TaskStore = ownsStore ?? (config.store as TaskStore)
    // Results are delivered from our own store's outbox; a store of the caller's delivers nothing.
    const ownsClient =
      ownsStore !== undefined && config.memoryClient === undefined
        ? new BedrockAgentCoreClient({
            region: config.region ?? 'us-east-1',
            ...(config.agentCoreEndpoint !== undefined && { endpoint: config.agentCoreEndpoint }),
          })
        : undefined
    const health = new HealthStatus(clock)
    const delivery =
      ownsStore !== undefined
        ? new ResultDelivery({
            outbox: ownsStore,
            client: config.memoryClient ?? (ownsClient as BedrockAgentCoreClient),
            clock,
            logger,
            health,
            ...(config.deliveryBaseDelayMs !== undefined && { baseDelayMs: config.deliveryBaseDelayMs }),
            ...(config.deliveryMaxDelayMs !== undefined && { maxDelayMs: config.deliveryMaxDelayMs }),
          })
        : undefined
    const runner = new TaskRunner({
      store,
      tools: config.tools,
      health,
      clock,
      logger,
      deliverResults: delivery !== undefined,
      onDeliveryQueued: () => {
        // Owed from the task's end on, so /ping does not flicker to Healthy before the first attempt.
        health.setDeliveryOwed(true)
        delivery?.wake()
      },
      ...(config.taskTtlMs !== undefined && { ttlMs: config.taskTtlMs }),
      ...(config.pollIntervalMs !== undefined && { pollIntervalMs: config.pollIntervalMs }),
      ...(config.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: config.heartbeatIntervalMs }),
      ...(config.newTaskId !== undefined && { newTaskId: config.newTaskId }),
    })
    await store.removeExpired(clock())
    const recovered = await runner.recover()
    if (recovered.rerun + recovered.failed > 0) logger.log('info', 'recovered interrupted tasks', recovered)
    delivery?.wake()

    const host = config.host ?? '0.0.0.0'
    const handler = new RequestHandler({
      tools: config.tools,
      allowedHosts: config.allowedHosts ?? (LOOPBACK.includes(host) ? LOOPBACK : undefined),
      authenticate,
      runner,
      store,
      outbox: ownsStore,
      health,
      logger,
      maxBodyBytes: config.maxBodyBytes ?? 4 * 1024 * 1024,
      clock,
      serverInfo: config.serverInfo ?? { name: 'longrun-mcp-server', version: '0.1.0' },
    })
    const http = createServer((req, res) => {
      handler.handle(req, res).catch((error: unknown) => {
        logger.log('error', 'request failed', { error: error instanceof Error ? error.stack : String(error) })
        if (!res.headersSent) sendJsonRpcError(res, 500, ErrorCode.InternalError, 'Internal error')
        else res.end()
      })
    })
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(config.port ?? 8000, host, () => {
        http.off('error', reject)
        resolve()
      })
    })
    const port = (http.address() as AddressInfo).port
    const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host
    const sweep = setInterval(() => {
      store
        .removeExpired(clock())
        .catch((error: unknown) => logger.log('warn', 'expiry sweep failed', { error: String(error) }))
    }, 3_600_000)
    sweep.unref()
    logger.log('info', 'MCP server listening', {
      port,
      tools: config.tools.map((tool) => tool.name).join(','),
    })
    return new LongRunningMcpServer({
      url: `http://${urlHost}:${port}/mcp`,
      port,
      runner,
      store,
      health,
      http,
      delivery,
      ownsStore,
      ownsClient,
      sweep,
      shutdownGraceMs: config.shutdownGraceMs ?? 10_000,
    })
  }

  /**
   * Stops accepting requests, aborts running tools and waits for them at most `shutdownGraceMs`
   * (results of tools that still return are kept and answered), then closes every connection. Tasks
   * left running are recovered at the next start, as after a crash.
   */
  async close(): Promise<void> {
    clearInterval(this.#sweep)
    const closed = new Promise<void>((resolve) => this.#http.close(() => resolve()))
    await this.runner.close(this.#shutdownGraceMs)
    this.#http.closeAllConnections()
    await this.#delivery?.close()
    await closed
    this.#ownsClient?.destroy()
    this.#ownsStore?.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

const LOOPBACK: readonly string[] = ['localhost', '127.0.0.1', '::1', '[::1]']

interface RequestHandlerConfig {
  readonly tools: readonly LongRunningTool[]
  readonly allowedHosts: readonly string[] | undefined
  readonly authenticate: Authenticator
  readonly runner: TaskRunner
  readonly store: TaskStore
  /** Where delivery states are read (undefined when results are not delivered). */
  readonly outbox: Outbox | undefined
  readonly health: HealthStatus
  readonly logger: Logger
  readonly maxBodyBytes: number
  readonly clock: () => number
  readonly serverInfo: { name: string; version: string }
}

/** HTTP in, one short-lived MCP Server per request (stateless), our errors out as 4xx/JSON-RPC. */
class RequestHandler {
  readonly #config: RequestHandlerConfig
  readonly #exposed = new Map<string, ExposedTool>()
  readonly #toolList: Tool[]
  /** Inline calls running now, by owner + session header + request id: where a cancel notification goes. */
  readonly #inline = new Map<string, Set<() => void>>()

  constructor(config: RequestHandlerConfig) {
    this.#config = config
    for (const tool of config.tools) {
      const inputSchema = z.toJSONSchema(tool.input, { io: 'input' }) as Tool['inputSchema']
      const define = (name: string, serve: 'inline' | 'async', description: string) => {
        if (this.#exposed.has(name) || (TASK_TOOL_NAMES as readonly string[]).includes(name)) {
          throw new McpServerError('INVALID_CONFIG', `two tools are named ${name}`)
        }
        const definition: Tool = { name, description, inputSchema, execution: { taskSupport: 'optional' } }
        this.#exposed.set(name, { tool, serve, definition })
      }
      const asyncNote =
        ' Runs in the background: returns a task_id at once; follow it with check_task_status and get_task_results.'
      if (tool.mode === 'inline') define(tool.name, 'inline', tool.description)
      if (tool.mode === 'async') define(tool.name, 'async', tool.description + asyncNote)
      if (tool.mode === 'both') {
        define(tool.name, 'inline', `${tool.description} Runs within this call, reporting progress.`)
        define(`start_${tool.name}`, 'async', tool.description + asyncNote)
      }
    }
    const taskTools: Tool[] = TASK_TOOL_NAMES.map((name) => ({
      name,
      description: TASK_TOOL_DESCRIPTIONS[name],
      inputSchema: z.toJSONSchema(TASK_TOOL_INPUTS[name], { io: 'input' }) as Tool['inputSchema'],
      execution: { taskSupport: 'forbidden' },
    }))
    this.#toolList = [...[...this.#exposed.values()].map((entry) => entry.definition), ...taskTools]
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname
    if (path === '/ping') {
      if (req.method !== 'GET') return sendJson(res, 405, { error: 'method not allowed' }, { allow: 'GET' })
      return sendJson(res, 200, this.#config.health.report())
    }
    if (path !== '/mcp') return sendJson(res, 404, { error: 'not found' })
    if (!this.#hostAllowed(req)) {
      return sendJsonRpcError(res, 403, ErrorCode.InvalidRequest, 'Host or Origin not allowed')
    }
    if (req.method !== 'POST') {
      // Stateless: no standalone SSE stream to GET and no session to DELETE.
      return sendJsonRpcError(
        res,
        405,
        ErrorCode.ConnectionClosed,
        'Method not allowed: POST JSON-RPC messages to /mcp',
        {
          allow: 'POST',
        },
      )
    }
    let scope: RequestScope
    try {
      scope = await this.#scope(req)
    } catch (error) {
      if (!(error instanceof McpServerError)) throw error
      const status = SCOPE_ERROR_STATUS[error.code] ?? 400
      const headers = status === 401 ? { 'www-authenticate': 'Bearer' } : undefined
      return sendJsonRpcError(res, status, ErrorCode.InvalidRequest, error.message, headers)
    }
    const body = await readLimitedBody(req, this.#config.maxBodyBytes)
    if (body === undefined) {
      return sendJsonRpcError(
        res,
        413,
        ErrorCode.InvalidRequest,
        `request body exceeds ${this.#config.maxBodyBytes} bytes`,
        {
          connection: 'close',
        },
      )
    }
    let message: unknown
    try {
      message = JSON.parse(body.toString('utf8'))
    } catch {
      return sendJsonRpcError(res, 400, ErrorCode.ParseError, 'Parse error: the body is not valid JSON')
    }
    // Structurally malformed params are answered here, naming the field, before the SDK's own
    // request schemas turn them into an internal error with a raw validation dump.
    const malformed = malformedRequest(message, TASK_TOOL_NAMES)
    if (malformed !== undefined) {
      return sendJson(res, 200, {
        jsonrpc: '2.0',
        id: malformed.id,
        error: {
          code: ErrorCode.InvalidParams,
          message: malformed.message,
          data: { code: 'INVALID_ARGUMENTS', field: malformed.field },
        },
      })
    }
    const server = this.#protocolServer(scope)
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, message)
  }

  /** DNS-rebinding protection: a browser tricked into calling a local server sends a foreign Host/Origin. */
  #hostAllowed(req: IncomingMessage): boolean {
    const allowed = this.#config.allowedHosts
    if (allowed === undefined) return true
    const hostname = (value: string) => {
      try {
        return new URL(value.includes('://') ? value : `http://${value}`).hostname
      } catch {
        return undefined
      }
    }
    const host = hostname(req.headers.host ?? '')
    if (host === undefined || !allowed.includes(host)) return false
    const origin = req.headers.origin
    if (origin === undefined) return true
    const originHost = hostname(origin)
    return originHost !== undefined && allowed.includes(originHost)
  }

  /** Authenticates, reads the composite header and decides who owns what this request touches. */
  async #scope(req: IncomingMessage): Promise<RequestScope> {
    const principal = await this.#config.authenticate(req.headers.authorization)
    const header = req.headers['mcp-session-id']
    const value = Array.isArray(header) ? header.join(', ') : header
    let caller: CompositeSessionParts | null = null
    if (value !== undefined && isCompositeSessionHeader(value)) {
      try {
        caller = parseCompositeSessionHeader(value)
      } catch (error) {
        throw new McpServerError('INVALID_ARGUMENTS', `Mcp-Session-Id: ${(error as Error).message}`, {
          field: 'Mcp-Session-Id',
          cause: error,
        })
      }
    }
    if (principal.requireSubjectMatchesActor && caller !== null && principal.subject !== caller.actorId) {
      throw new McpServerError('FORBIDDEN', 'the token subject does not match the actor in Mcp-Session-Id')
    }
    return { owner: ownerOf(principal, caller?.actorId), caller, sessionKey: value ?? '' }
  }

  /** The key of one inline call: a cancel from the same owner and session naming the same request id finds it. */
  #inlineKey(scope: RequestScope, requestId: RequestId): string {
    return `${scope.owner}\u0000${scope.sessionKey}\u0000${typeof requestId}:${String(requestId)}`
  }

  #protocolServer(scope: RequestScope): Server {
    const { runner, store } = this.#config
    const server = new Server(this.#config.serverInfo, {
      capabilities: {
        tools: {},
        logging: {},
        tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
      },
      taskStore: new OwnerScopedTaskStore(store, runner, scope.owner, this.#config.clock),
    })
    // Stateless: the client's notifications/cancelled arrives on its own POST, at a fresh Server that
    // never saw the request. Route it by owner + session header + request id to the inline call.
    server.setNotificationHandler(CancelledNotificationSchema, (notification) => {
      const requestId = notification.params.requestId
      if (requestId === undefined) return
      const calls = this.#inline.get(this.#inlineKey(scope, requestId))
      if (calls === undefined) return
      for (const abort of [...calls]) abort()
    })
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: this.#toolList }))
    server.setRequestHandler(SetLevelRequestSchema, () => ({}))
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const { name } = request.params
      // request-params.ts has already refused `task` on these tools.
      if ((TASK_TOOL_NAMES as readonly string[]).includes(name)) {
        return this.#taskTool(name as (typeof TASK_TOOL_NAMES)[number], request.params.arguments, scope)
      }
      const entry = this.#exposed.get(name)
      if (entry === undefined)
        throw new JsonRpcError(ErrorCode.InvalidParams, `Unknown tool: ${name}`, { field: 'name' })
      const input = parseWith(entry.tool.name, entry.tool.input, request.params.arguments)
      const start = { tool: entry.tool, input, owner: scope.owner, caller: scope.caller }
      if (request.params.task !== undefined) {
        // The one path of spec tasks: the SDK's own createTask (reached only through extra.taskStore) is not used.
        const task = await runner.start({
          ...start,
          kind: 'spec',
          ttlMs: request.params.task.ttl ?? undefined,
        })
        return { task: toSpecTask(task) } satisfies CreateTaskResult
      }
      if (entry.serve === 'async') {
        const task = await runner.start({ ...start, kind: 'async' })
        const view = this.#taskView(task)
        return {
          content: [
            {
              type: 'text',
              text: `Started task ${task.taskId} (${entry.tool.name}). Check it with check_task_status and fetch the result with get_task_results.`,
            },
          ],
          structuredContent: view,
        } satisfies CallToolResult
      }
      return this.#runInline({ ...start, kind: 'inline' }, extra, scope)
    })
    return server
  }

  /** Runs inside the request: progress to the client's token, heartbeats as log messages, cancel on abort. */
  async #runInline(start: StartTask, extra: CallExtra, scope: RequestScope): Promise<CallToolResult> {
    const { runner } = this.#config
    const { tool } = start
    const token = extra._meta?.progressToken
    const send = (notification: ServerNotification) => {
      extra.sendNotification(notification).catch(() => {})
    }
    let lastProgress = Number.NEGATIVE_INFINITY
    let lastTotal: number | undefined
    let resolveEnd: (task: TaskRecord) => void = () => {}
    const ended = new Promise<TaskRecord>((resolve) => {
      resolveEnd = resolve
    })
    // Set once start() returns; events come only later (the tool runs on a later turn of the loop).
    let taskId = ''
    const log = (data: Record<string, unknown>) => {
      send({ method: 'notifications/message', params: { level: 'info', logger: tool.name, data } })
    }
    // The watcher goes in with the start itself: no end can happen before it is attached.
    const watch = (event: TaskEvent) => {
      switch (event.type) {
        case 'progress':
          if (token !== undefined && event.progress > lastProgress) {
            lastProgress = event.progress
            if (event.total !== undefined) lastTotal = event.total
            send({
              method: 'notifications/progress',
              params: {
                progressToken: token,
                progress: event.progress,
                ...(event.total !== undefined && { total: event.total }),
                ...(event.message !== undefined && { message: event.message }),
              },
            })
          }
          break
        case 'heartbeat':
          if (token !== undefined) {
            // Progress must increase: a heartbeat reports the last progress plus a tiny step.
            const progress = heartbeatProgress(lastProgress)
            lastProgress = progress
            send({
              method: 'notifications/progress',
              params: {
                progressToken: token,
                progress,
                ...(lastTotal !== undefined && progress <= lastTotal && { total: lastTotal }),
                message: 'still working',
              },
            })
          }
          log({ taskId, status: 'working', elapsedSeconds: Math.round(event.elapsedMs / 1000) })
          break
        case 'log':
          log({ taskId, message: event.message })
          break
        case 'end':
          resolveEnd(event.task)
          break
      }
    }
    const task = await runner.start({ ...start, watch })
    taskId = task.taskId
    const onAbort = () => {
      // A shutdown closes connections too; the runner then decides (keep a result or recover later).
      if (runner.closing) return
      runner.cancel(task.taskId, undefined, 'the client cancelled the request').catch(() => {})
    }
    extra.signal.addEventListener('abort', onAbort, { once: true })
    const key = this.#inlineKey(scope, extra.requestId)
    const calls = this.#inline.get(key) ?? new Set<() => void>()
    calls.add(onAbort)
    this.#inline.set(key, calls)
    try {
      const end = await ended
      return (
        end.result ?? {
          content: [{ type: 'text', text: `Task ${task.taskId} ${end.status}` }],
          isError: true,
        }
      )
    } finally {
      extra.signal.removeEventListener('abort', onAbort)
      calls.delete(onAbort)
      if (calls.size === 0 && this.#inline.get(key) === calls) this.#inline.delete(key)
    }
  }

  /** The caller-facing view of a task, with where its memory event stands. */
  #taskView(stored: TaskRecord): Record<string, unknown> {
    // A task running here carries progress not yet written to the store.
    const task = this.#config.runner.current(stored)
    const owed = task.caller !== null && task.kind !== 'inline' && this.#config.outbox !== undefined
    let delivery: { state: string; reason: string | null; attempts: number }
    if (!owed) delivery = { state: 'none', reason: null, attempts: 0 }
    else {
      // Read with the task itself (one query per page of list_tasks, not one more per task).
      const row = task.delivery
      delivery =
        row === undefined
          ? { state: 'pending', reason: null, attempts: 0 }
          : { state: row.state, reason: row.lastError ?? null, attempts: row.attempts }
    }
    return {
      task_id: task.taskId,
      tool: task.tool,
      status: task.status,
      status_message: task.statusMessage ?? null,
      progress: task.progress ?? null,
      total: task.total ?? null,
      created_at: new Date(task.createdAt).toISOString(),
      updated_at: new Date(task.updatedAt).toISOString(),
      attempts: task.attempts,
      delivers_to_memory: delivery.state === 'pending' || delivery.state === 'delivered',
      delivery,
    }
  }

  async #taskTool(
    name: (typeof TASK_TOOL_NAMES)[number],
    args: Record<string, unknown> | undefined,
    scope: RequestScope,
  ): Promise<CallToolResult> {
    const { runner, store } = this.#config
    const input: unknown = parseWith<unknown>(name, TASK_TOOL_INPUTS[name] as z.ZodType<unknown>, args)
    if (name === 'list_tasks') {
      const cursor = (input as { cursor?: string }).cursor
      const page = await translate(() => store.list(scope.owner, { cursor, limit: TASK_PAGE_SIZE }))
      const result = {
        tasks: page.tasks.map((task) => this.#taskView(task)),
        next_cursor: page.nextCursor ?? null,
      }
      return jsonResult(result)
    }
    const taskId = (input as { task_id: string }).task_id
    if (name === 'cancel_task') {
      const task = await translate(() => runner.cancel(taskId, scope.owner))
      return jsonResult(this.#taskView(task))
    }
    const task = await store.get(taskId, scope.owner)
    if (task === undefined) {
      throw new JsonRpcError(ErrorCode.InvalidParams, `Task not found: ${taskId}`, {
        code: 'TASK_NOT_FOUND',
        field: 'task_id',
      })
    }
    if (name === 'check_task_status' || task.result === undefined) {
      const view = this.#taskView(task)
      return name === 'check_task_status'
        ? jsonResult(view)
        : jsonResult({ ...view, note: 'The task is still running; call get_task_results again later.' })
    }
    return {
      content: [
        { type: 'text', text: `Task ${task.taskId} (${task.tool}) ${task.status}.` },
        ...task.result.content,
      ],
      structuredContent: { ...this.#taskView(task), result: task.result.structuredContent ?? null },
      ...(task.status !== 'completed' && { isError: true }),
    }
  }
}

/** U+001F (unit separator): never in an actor id, and, unlike NUL, kept intact by SQLite. */
const OWNER_SEPARATOR = '\u001f'

/**
 * Who owns a task. With a JWT, the subject (plus the header's actor when the deployment lets a
 * subject name another actor), so a token holder never reads another subject's tasks. With a shared
 * secret, the actor the header names (self-declared by design). A caller without a composite header
 * is scoped by its authenticated principal (JWT subject, or the static token: one bucket per token),
 * prefixed with a control character no actor id can contain, so no actor collides with it.
 */
function ownerOf(principal: Principal, actorId: string | undefined): string {
  const subject = principal.subject
  if (subject !== undefined) {
    if (actorId === undefined || actorId === subject) return subject
    return `${subject}${OWNER_SEPARATOR}${actorId}`
  }
  if (actorId !== undefined) return actorId
  return `${OWNER_SEPARATOR}${principal.principalId ?? 'unauthenticated'}`
}

/**
 * The progress value of a heartbeat: a step above the last value sent (0 when none was), the
 * smallest that still makes a strictly greater number, so a later real progress value stays ahead.
 */
function heartbeatProgress(last: number): number {
  if (!Number.isFinite(last)) return 0
  let step = Math.max(1e-6, Math.abs(last) * 1e-9)
  while (last + step <= last) step *= 2
  return last + step
}

function jsonResult(value: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }], structuredContent: value }
}

/** Validates arguments; a failure is a JSON-RPC invalid-params error naming the field. */
function parseWith<T>(toolName: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args ?? {})
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const field = issue === undefined || issue.path.length === 0 ? '(arguments)' : issue.path.join('.')
  const message = parsed.error.issues
    .map((each) => `${each.path.length === 0 ? '(arguments)' : each.path.join('.')}: ${each.message}`)
    .join('; ')
  throw new JsonRpcError(ErrorCode.InvalidParams, `Invalid arguments for tool ${toolName}: ${message}`, {
    code: 'INVALID_ARGUMENTS',
    field,
  })
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

function sendJsonRpcError(
  res: ServerResponse,
  status: number,
  code: number,
  message: string,
  headers?: Record<string, string>,
): void {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers)
}
