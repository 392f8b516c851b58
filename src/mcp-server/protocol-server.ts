/**
 * JSON-RPC over Streamable HTTP, stateless: one short-lived SDK `Server` per POST (any
 * `mcp-session-id` is accepted, as AgentCore Runtime requires), with our handlers for tools/list,
 * tools/call, the four tasks/* methods, logging/setLevel and a client's cancellation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Server } from '@modelcontextprotocol/sdk/server/index.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import {
  CallToolRequestSchema,
  CancelledNotificationSchema,
  CancelTaskRequestSchema,
  GetTaskPayloadRequestSchema,
  GetTaskRequestSchema,
  ListTasksRequestSchema,
  ListToolsRequestSchema,
  SetLevelRequestSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { answering } from './error-mapping.ts'
import type { InlineCalls } from './inline-calls.ts'
import { type RequestScope, withMemoryMeta } from './request-scope.ts'
import type { SpecTasks } from './spec-tasks.ts'
import type { ToolCalls } from './tool-calls.ts'
import type { ToolCatalog } from './tool-catalog.ts'

/** Configuration of {@link ProtocolServer}. */
export interface ProtocolServerConfig {
  readonly serverInfo: { readonly name: string; readonly version: string }
  readonly catalog: ToolCatalog
  readonly toolCalls: ToolCalls
  readonly specTasks: SpecTasks
  readonly inlineCalls: InlineCalls
}

/** Answers the JSON-RPC message of one POST for one caller. */
export class ProtocolServer {
  readonly #config: ProtocolServerConfig

  constructor(config: ProtocolServerConfig) {
    this.#config = config
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    message: unknown,
    scope: RequestScope,
  ): Promise<void> {
    const { catalog, toolCalls, specTasks, inlineCalls, serverInfo } = this.#config
    const server = new Server(
      { ...serverInfo },
      {
        capabilities: {
          tools: {},
          logging: {},
          tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
        },
      },
    )
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    const abandon = () => {
      void transport.close()
    }
    server.setNotificationHandler(CancelledNotificationSchema, (notification) => {
      const requestId = notification.params.requestId
      if (requestId !== undefined) inlineCalls.cancel(scope, requestId)
    })
    server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: [...catalog.definitions] }))
    server.setRequestHandler(SetLevelRequestSchema, () => ({}))
    // A request's `_meta` may name the caller's memory when no header did (`io.longrun/memory`).
    const ownerOf = (params: { _meta?: unknown } | undefined) => withMemoryMeta(scope, params?._meta).owner
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const scoped = await answering(async () => withMemoryMeta(scope, request.params._meta))
      return toolCalls.call(request.params, extra, scoped, abandon)
    })
    server.setRequestHandler(GetTaskRequestSchema, (request) =>
      answering(() => specTasks.get(request.params.taskId, ownerOf(request.params))),
    )
    server.setRequestHandler(GetTaskPayloadRequestSchema, (request, extra) =>
      answering(() => specTasks.result(request.params.taskId, ownerOf(request.params), extra.signal)),
    )
    server.setRequestHandler(ListTasksRequestSchema, (request) =>
      answering(() => specTasks.list(ownerOf(request.params), request.params?.cursor)),
    )
    server.setRequestHandler(CancelTaskRequestSchema, (request) =>
      answering(() => specTasks.cancel(request.params.taskId, ownerOf(request.params))),
    )
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, message)
  }
}
