/**
 * MCP spec 2026-07-28 on the same endpoint: no `initialize`, no protocol sessions, `server/discover`,
 * and tasks as the extension `io.modelcontextprotocol/tasks` (`tasks-extension.ts`). The SDK v2
 * (`@modelcontextprotocol/server`) speaks the era (envelopes, the routing headers, `resultType`,
 * discovery); this file only wires the server's tools and tasks into it. Requests of spec 2025-11-25
 * never come here: `http-routes.ts` hands them to `protocol-server.ts` (SDK 1.x), unchanged.
 */
import {
  type AuthInfo,
  CLIENT_CAPABILITIES_META_KEY,
  createMcpHandler,
  LOG_LEVEL_META_KEY,
  type McpHttpHandler,
  MissingRequiredClientCapabilityError,
  PROTOCOL_VERSION_META_KEY,
  Server,
  type ServerContext,
} from '@modelcontextprotocol/server'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { answering } from './error-mapping.ts'
import type { CallExtra } from './inline-calls.ts'
import { type RequestScope, withMemoryMeta } from './request-scope.ts'
import type { TaskRunner } from './task-runner.ts'
import { taskListenOf, taskSubscription } from './task-subscriptions.ts'
import { TASKS_EXTENSION, TasksExtension, toExtensionTask } from './tasks-extension.ts'
import { parseArguments } from './tool-arguments.ts'
import type { ToolCalls } from './tool-calls.ts'
import type { ToolCatalog } from './tool-catalog.ts'

/** Configuration of {@link ModernProtocol}. */
export interface ModernProtocolConfig {
  readonly serverInfo: { readonly name: string; readonly version: string }
  readonly catalog: ToolCatalog
  readonly toolCalls: ToolCalls
  readonly runner: TaskRunner
}

/** Where the request's scope rides from the route to the handlers (the SDK passes `authInfo` on). */
const SCOPE_KEY = 'longrun.scope'
const TaskParams = z.looseObject({ taskId: z.string() })
/** How often a task subscription reads the tasks it follows. */
const LISTEN_POLL_MS = 250
const Ack = z.looseObject({})

/**
 * Whether a parsed POST belongs to spec 2026-07-28: a request carrying the era's envelope (its
 * protocol version in `_meta`), or one of the era's own methods. Anything else (an `initialize`, a
 * request of a 2025-11-25 session, a request with no envelope at all) is answered as today, so no
 * client of the earlier era is ever sent to the new side.
 */
export function isModernMessage(message: unknown): boolean {
  const first = Array.isArray(message) ? message[0] : message
  if (typeof first !== 'object' || first === null) return false
  const { method, params } = first as { method?: unknown; params?: { _meta?: Record<string, unknown> } }
  if (method === 'server/discover' || method === 'subscriptions/listen') return true
  return typeof params?._meta?.[PROTOCOL_VERSION_META_KEY] === 'string'
}

/** The 2026-07-28 side of the endpoint. */
export class ModernProtocol {
  readonly #handler: McpHttpHandler
  readonly #tasks: TasksExtension

  constructor(config: ModernProtocolConfig) {
    const tasks = new TasksExtension(config.runner)
    this.#tasks = tasks
    this.#handler = createMcpHandler(
      (context) => {
        const scope = scopeOf(context.authInfo)
        const server = new Server(
          { ...config.serverInfo },
          { capabilities: { tools: {}, extensions: { [TASKS_EXTENSION]: {} } } },
        )
        server.setRequestHandler('tools/list', () => ({ tools: [...config.catalog.definitions] as never }))
        server.setRequestHandler(
          'tools/call',
          (request, ctx) => this.#call(config, request.params, ctx, scope) as Promise<never>,
        )
        const owner = (params: Record<string, unknown>, ctx: ServerContext) => {
          requireExtension(ctx)
          return withMemoryMeta(scope, params._meta).owner
        }
        server.setRequestHandler('tasks/get', { params: TaskParams, result: Ack }, (params, ctx) =>
          answering(async () => ({
            resultType: 'complete',
            ...(await tasks.get(params.taskId, owner(params, ctx))),
          })),
        )
        server.setRequestHandler('tasks/update', { params: TaskParams, result: Ack }, (params, ctx) =>
          answering(async () => {
            await tasks.update(params.taskId, owner(params, ctx))
            return { resultType: 'complete' }
          }),
        )
        server.setRequestHandler('tasks/cancel', { params: TaskParams, result: Ack }, (params, ctx) =>
          answering(async () => {
            await tasks.cancel(params.taskId, owner(params, ctx))
            return { resultType: 'complete' }
          }),
        )
        return server
      },
      { legacy: 'reject' },
    )
  }

  /** Answers one 2026-07-28 request, for the caller `scope` names. */
  async handle(request: Request, message: unknown, scope: RequestScope): Promise<Response> {
    const listen = taskListenOf(message)
    if (listen !== undefined) return this.#listen(request, listen, scope)
    const authInfo: AuthInfo = { token: '', clientId: '', scopes: [], extra: { [SCOPE_KEY]: scope } }
    return this.#handler.fetch(request, { authInfo, parsedBody: message })
  }

  async close(): Promise<void> {
    await this.#handler.close()
  }

  /** A subscription that names tasks (`task-subscriptions.ts`); -32021 without the extension. */
  #listen(
    request: Request,
    listen: { id: string | number; taskIds: string[]; meta: unknown },
    scope: RequestScope,
  ): Response {
    if (!envelopeDeclaresExtension(listen.meta))
      return Response.json(
        {
          jsonrpc: '2.0',
          id: listen.id,
          error: {
            code: -32021,
            message: 'Missing required client capability: the tasks extension',
            data: { requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } } },
          },
        },
        { status: 400 },
      )
    const owner = withMemoryMeta(scope, listen.meta).owner
    return taskSubscription(
      this.#tasks,
      { id: listen.id, taskIds: listen.taskIds, owner },
      request.signal,
      LISTEN_POLL_MS,
    )
  }

  /**
   * A client that declared the tasks extension gets a task for a tool served in the background
   * (answered once the task is stored, so a `tasks/get` finds it); any other call runs as on
   * the 2025 side: inline with progress, a `start_*` tool, or a task tool.
   */
  async #call(
    config: ModernProtocolConfig,
    params: {
      name: string
      arguments?: Record<string, unknown> | undefined
      _meta?: Record<string, unknown> | undefined
    },
    ctx: ServerContext,
    scope: RequestScope,
  ): Promise<CallToolResult | Record<string, unknown>> {
    const scoped = await answering(async () => withMemoryMeta(scope, params._meta))
    const listed = config.catalog.find(params.name)
    // A tool served only inline (no `start_` variant either) answers in the request, as it does for
    // every client.
    if (listed !== undefined && listed.tool.mode !== 'inline' && declaresExtension(ctx)) {
      return answering(async () => {
        const { tool } = listed
        const input = parseArguments(tool.name, tool.input, params.arguments)
        const task = await config.runner.start({
          tool,
          input,
          owner: scoped.owner,
          caller: scoped.caller,
          mode: 'spec',
        })
        return { resultType: 'task', ...toExtensionTask(task) }
      })
    }
    const extra: CallExtra = {
      signal: ctx.mcpReq.signal,
      requestId: ctx.mcpReq.id,
      ...(params._meta !== undefined && { _meta: params._meta }),
      // This era sends log messages only to a request that asked for them (its envelope's logLevel);
      // heartbeats still go as progress to a request with a progress token.
      sendNotification: (notification) =>
        notification.method === 'notifications/message' && !asksForLogs(ctx)
          ? Promise.resolve()
          : ctx.mcpReq.notify(notification as never),
    }
    // The request's own stream ends with its answer: nothing is left to abandon.
    return config.toolCalls.call(
      { ...params, task: undefined },
      extra,
      scoped,
      () => {},
    ) as Promise<CallToolResult>
  }
}

/** The scope the route put in `authInfo`; a request without one never reaches a handler. */
function scopeOf(authInfo: AuthInfo | undefined): RequestScope {
  const scope = authInfo?.extra?.[SCOPE_KEY] as RequestScope | undefined
  if (scope === undefined) throw new Error('a 2026-07-28 request reached the handler without its scope')
  return scope
}

function asksForLogs(ctx: ServerContext): boolean {
  const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined
  return envelope?.[LOG_LEVEL_META_KEY] !== undefined
}

function declaresExtension(ctx: ServerContext): boolean {
  return envelopeDeclaresExtension(ctx.mcpReq.envelope)
}

/** Whether a request's envelope (its `_meta`) declares the tasks extension among its client's capabilities. */
function envelopeDeclaresExtension(envelope: unknown): boolean {
  const capabilities = (envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as
    { extensions?: Record<string, unknown> } | undefined
  return capabilities?.extensions?.[TASKS_EXTENSION] !== undefined
}

/** The extension's methods are for clients that declared it (-32021 otherwise). */
function requireExtension(ctx: ServerContext): void {
  if (!declaresExtension(ctx))
    throw new MissingRequiredClientCapabilityError({
      requiredCapabilities: { extensions: { [TASKS_EXTENSION]: {} } },
    } as never)
}
