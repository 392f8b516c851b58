/**
 * Where a `tools/call` goes: a task tool, a spec-native task request (`params.task`), a background
 * start (`start_<name>`, or a tool served only async), or an inline call. Arguments are checked
 * against the tool's schema before anything starts.
 */
import type { CallToolResult, CreateTaskResult } from '@modelcontextprotocol/sdk/types.js'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { inSpan, traceCarrierOf } from '../telemetry/index.ts'
import { answering, toJsonRpcError } from './error-mapping.ts'
import { echo, McpServerError } from './errors.ts'
import type { CallExtra, InlineCalls } from './inline-calls.ts'
import type { RequestScope } from './request-scope.ts'
import { toSpecTask } from './spec-tasks.ts'
import type { TaskRunner } from './task-runner.ts'
import { isTaskTool, type TaskTools } from './task-tools.ts'
import { taskView } from './task-view.ts'
import { parseArguments } from './tool-arguments.ts'
import type { ToolCatalog } from './tool-catalog.ts'

/** The params of a tools/call, as request-params.ts has checked them. */
export interface ToolCallParams {
  readonly name: string
  readonly arguments?: Record<string, unknown> | undefined
  readonly task?: { readonly ttl?: number | null | undefined } | undefined
  /** Request metadata; may carry the caller's trace context (`traceparent`, `tracestate`). */
  readonly _meta?: Record<string, unknown> | undefined
}

/** Configuration of {@link ToolCalls}. */
export interface ToolCallsConfig {
  readonly catalog: ToolCatalog
  readonly runner: TaskRunner
  readonly taskTools: TaskTools
  readonly inlineCalls: InlineCalls
  readonly deliversResults: boolean
}

/** The `_meta` key of a task answer that says where its result goes. */
export const DELIVERY_META_KEY = 'io.longrun/delivery'
/** What a background call that named no memory is told, while this server delivers results. */
export const NOT_DELIVERED =
  'This call named no memory (no composite Mcp-Session-Id, x-longrun-memory header or io.longrun/memory in _meta), ' +
  'so its result will not be delivered into any conversation: fetch it with get_task_results.'

/** Dispatches tools/call. */
export class ToolCalls {
  readonly #config: ToolCallsConfig

  constructor(config: ToolCallsConfig) {
    this.#config = config
  }

  /** A background call whose result goes nowhere though this server delivers results: it is told. */
  #undelivered(scope: RequestScope): boolean {
    return this.#config.deliversResults && scope.caller === null
  }

  /**
   * Answers one call, in a span that continues the caller's trace (from `_meta`, else the
   * `traceparent` header); a task it starts keeps that span's context for its run and delivery.
   */
  async call(
    params: ToolCallParams,
    extra: CallExtra,
    scope: RequestScope,
    abandon: () => void,
  ): Promise<CallToolResult | CreateTaskResult> {
    // Only a name the server knows goes into the span's name (a caller's name could be anything).
    const known = isTaskTool(params.name) || this.#config.catalog.find(params.name) !== undefined
    const attributes = { 'mcp.method.name': 'tools/call', ...(known && { 'gen_ai.tool.name': params.name }) }
    return inSpan(
      known ? `tools/call ${params.name}` : 'tools/call',
      { kind: SpanKind.SERVER, attributes, parent: traceCarrierOf(params._meta) ?? scope.traceCarrier },
      async (span) => {
        const result = await this.#call(params, extra, scope, abandon)
        if ('isError' in result && result.isError === true)
          span.setStatus({ code: SpanStatusCode.ERROR, message: 'tool error' })
        return result
      },
    )
  }

  /**
   * A tool's own errors and bad arguments come back as a result with `isError` (the model reads
   * them); an unknown tool, a bad task request and a full queue are JSON-RPC errors.
   */
  async #call(
    params: ToolCallParams,
    extra: CallExtra,
    scope: RequestScope,
    abandon: () => void,
  ): Promise<CallToolResult | CreateTaskResult> {
    const { catalog, runner, taskTools, inlineCalls } = this.#config
    const name = params.name
    if (isTaskTool(name)) return answering(() => taskTools.call(name, params.arguments, scope), 'tool')
    const listed = catalog.find(name)
    if (listed === undefined) {
      throw toJsonRpcError(
        new McpServerError('UNKNOWN_TOOL', `Unknown tool: ${echo(name)}`, { field: 'name' }),
      )
    }
    const { tool } = listed
    const base = { tool, owner: scope.owner, caller: scope.caller }
    if (params.task !== undefined) {
      // A task request cannot answer a tool error: bad arguments refuse it as invalid params.
      return answering(async () => {
        const input = parseArguments(tool.name, tool.input, params.arguments)
        const task = await runner.start({
          ...base,
          input,
          mode: 'spec',
          ttlMs: params.task?.ttl ?? undefined,
        })
        return {
          task: toSpecTask(task),
          ...(this.#undelivered(scope) && { _meta: { [DELIVERY_META_KEY]: NOT_DELIVERED } }),
        } satisfies CreateTaskResult
      })
    }
    return answering(async () => {
      const input = parseArguments(tool.name, tool.input, params.arguments)
      if (listed.mode === 'inline') return inlineCalls.run({ ...base, input }, extra, scope, abandon)
      const task = await runner.start({ ...base, input, mode: 'async' })
      return {
        content: [
          {
            type: 'text',
            text:
              `Started task ${task.taskId} (${tool.name}). Check it with check_task_status and fetch the result with get_task_results.` +
              (this.#undelivered(scope) ? ` ${NOT_DELIVERED}` : ''),
          },
        ],
        structuredContent: taskView(task, this.#config.deliversResults),
      } satisfies CallToolResult
    }, 'tool')
  }
}
