/**
 * A Strands `McpClient` for tools that run for minutes or hours. Strands' own client calls a tool
 * with the MCP SDK's defaults: no progress token, and a 60 s request timeout that fails a call still
 * reporting progress. This one asks for progress and lets each notification reset the timeout, so a
 * call lives as long as the server keeps reporting (heartbeats count), up to an overall cap. It also
 * names the caller's memory to the server in the composite `mcp-session-id` header, so a task that
 * outlives the call can write its result into the right session.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { Progress } from '@modelcontextprotocol/sdk/types.js'
import { McpClient, type McpCallToolOptions, type McpClientOptions } from '@strands-agents/sdk'
import { isRecord } from '../shared/is-record.ts'
import { callSignal } from './call-signal.ts'
import { type CompositeSessionParts, formatCompositeSessionHeader, MEMORY_HEADER } from '../contract/index.ts'
import { traceContextFetch } from './trace-propagation.ts'

/** One progress notification of a running tool call. */
export interface ToolProgress extends Progress {
  /** The tool's name as the agent knows it (with the client's prefix, if any). */
  readonly tool: string
}

/** Configuration of {@link LongRunningMcpClient}. */
export interface LongRunningMcpClientConfig extends Omit<McpClientOptions, 'tasksConfig'> {
  /** The server's Streamable HTTP endpoint, e.g. `http://127.0.0.1:8000/mcp`. */
  readonly url: string | URL
  /**
   * The memory a task's result belongs in: sent as `<sessionId>@@@<memoryId>@@@<actorId>` in
   * `mcp-session-id`. Validated here, so a bad id fails before any request.
   */
  readonly memory?: CompositeSessionParts
  /** Sent as `Authorization: Bearer <token>`. */
  readonly bearerToken?: string
  /** More headers for every request (lower-case names; `mcp-session-id` is set from `memory`). */
  readonly headers?: Readonly<Record<string, string>>
  /** Longest silence allowed in a call: each progress notification starts it again (default 60 s). */
  readonly idleTimeoutMs?: number
  /**
   * Longest a call may take in all, progress or not (default 8 h, the AgentCore Runtime session
   * limit). Reaching it aborts the call, which tells the server to cancel it.
   */
  readonly maxCallMs?: number
  /** Told of every progress notification, e.g. to show it to the user. */
  readonly onProgress?: (progress: ToolProgress) => void
  /**
   * Told when a call started a background task: a `start_<tool>` call whose structured answer
   * names a `task_id` (the long-running server's convention). Its result arrives later in memory.
   */
  readonly onTaskStarted?: (task: StartedToolTask) => void
}

/** A background task a tool call started. */
export interface StartedToolTask {
  readonly taskId: string
  /** The tool that was called (`start_model_training`, say). */
  readonly tool: string
}

/** A bad {@link LongRunningMcpClientConfig} field, named. */
export class McpClientConfigError extends Error {
  readonly code = 'INVALID_MCP_CLIENT_CONFIG'
  readonly field: string

  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`${field}: ${message}`, options)
    this.name = 'McpClientConfigError'
    this.field = field
  }
}

/** The MCP SDK's own request timeout, kept as the idle timeout: only silence this long ends a call. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000
/** An AgentCore Runtime session ends at 8 h; no call outlives it. */
export const DEFAULT_MAX_CALL_MS = 8 * 60 * 60 * 1000
/** Upper bound of both durations: one day. */
const MAX_DURATION_MS = 24 * 60 * 60 * 1000
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Pass it in an agent's tools (`new Agent({ tools: [client] })`) as any `McpClient`; its tools
 * survive long calls. The active trace context goes with every request (the `traceparent` header
 * and `params._meta`), not into tool arguments as Strands' own client does (unless
 * `disableMcpInstrumentation: false` is given), since a tool that checks its arguments strictly
 * refuses the extra `_meta` field. One client is one connection: after `disconnect()`, build a new
 * one. The composite header replaces any session id the server issues, so the server must accept
 * session ids it did not issue (stateless, as ours and those on AgentCore Runtime are).
 */
export class LongRunningMcpClient extends McpClient {
  readonly #idleTimeoutMs: number
  readonly #maxCallMs: number
  readonly #onProgress: ((progress: ToolProgress) => void) | undefined
  readonly #onTaskStarted: ((task: StartedToolTask) => void) | undefined

  constructor(config: LongRunningMcpClientConfig) {
    const {
      url,
      memory,
      bearerToken,
      headers,
      idleTimeoutMs,
      maxCallMs,
      onProgress,
      onTaskStarted,
      ...options
    } = config
    // Strands' task path polls without a cap or progress: the type leaves it out, and so does this.
    if ('tasksConfig' in options)
      throw new McpClientConfigError('tasksConfig', 'not supported: calls are long-lived by progress instead')
    const endpoint = parseUrl(url)
    checkDuration('idleTimeoutMs', idleTimeoutMs)
    checkDuration('maxCallMs', maxCallMs)
    const requestHeaders: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers ?? {})) {
      const key = name.toLowerCase()
      if (!HEADER_NAME.test(name)) throw new McpClientConfigError('headers', `not a header name: ${name}`)
      if (typeof value !== 'string' || /[\r\n\0]/.test(value))
        throw new McpClientConfigError('headers', `the value of ${name} must be a single-line string`)
      // The MCP SDK merges its own lower-case `mcp-session-id` with these: another spelling would
      // be sent twice, joined by a comma.
      if (key === 'mcp-session-id' || key === MEMORY_HEADER)
        throw new McpClientConfigError('headers', 'set the session through `memory`, not a header')
      if (key === 'authorization' && bearerToken !== undefined)
        throw new McpClientConfigError(
          'headers',
          'authorization is set by `bearerToken`; give one of the two',
        )
      if (key in requestHeaders) throw new McpClientConfigError('headers', `${name} is given twice`)
      requestHeaders[key] = value
    }
    if (bearerToken !== undefined) {
      if (bearerToken.trim() === '' || /[\r\n]/.test(bearerToken))
        throw new McpClientConfigError('bearerToken', 'must be a non-empty single-line token')
      requestHeaders.authorization = `Bearer ${bearerToken}`
    }
    // A header, not the transport's `sessionId` option: with that set, the MCP SDK takes the
    // connection for a resumed session and skips initialisation. The lower-case key replaces the
    // SDK's own `mcp-session-id`, so the server sees exactly one value.
    // And the same value in longrun's own header, which servers of the 2026-07-28 revision (no
    // protocol sessions, no Mcp-Session-Id) read: results reach memory whatever the server's era.
    if (memory) {
      const header = formatCompositeSessionHeader(memory)
      requestHeaders['mcp-session-id'] = header
      requestHeaders[MEMORY_HEADER] = header
    }
    const transport = new StreamableHTTPClientTransport(endpoint, {
      requestInit: { headers: requestHeaders },
      // The agent's trace continues on the server (a no-op while telemetry is off).
      fetch: traceContextFetch(),
    })
    super({ disableMcpInstrumentation: true, ...options, transport })
    this.#idleTimeoutMs = idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    this.#maxCallMs = maxCallMs ?? DEFAULT_MAX_CALL_MS
    this.#onProgress = onProgress
    this.#onTaskStarted = onTaskStarted
  }

  /**
   * Calls the tool asking for progress; each notification resets the idle timeout. The overall cap
   * is an abort, not the SDK's `maxTotalTimeout`: that one is only checked when progress arrives
   * and does not tell the server, whereas an abort sends `notifications/cancelled`.
   */
  override async callTool(
    tool: Parameters<McpClient['callTool']>[0],
    args: Parameters<McpClient['callTool']>[1],
    options?: McpCallToolOptions,
  ): Promise<Awaited<ReturnType<McpClient['callTool']>>> {
    const onProgress = this.#onProgress
    const maxCallMs = this.#maxCallMs
    // Released when the call settles, so nothing of the call outlives it (see callSignal).
    const call = callSignal({
      caller: options?.signal,
      capMs: maxCallMs,
      capReason: () => new Error(`the call to ${tool.name} ran longer than maxCallMs (${maxCallMs} ms)`),
    })
    const longCall = {
      signal: call.signal,
      timeout: this.#idleTimeoutMs,
      resetTimeoutOnProgress: true,
      // A progress callback is what makes the SDK send a progress token at all.
      onprogress: (progress: Progress) => {
        try {
          onProgress?.({ ...progress, tool: tool.name })
        } catch {
          // A failing observer must not fail the call it observes.
        }
      },
    }
    try {
      // Strands hands these options to the MCP SDK's callTool as they are.
      const result = await super.callTool(tool, args, longCall as McpCallToolOptions)
      this.#noticeStartedTask(tool.name, result)
      return result
    } finally {
      call.release()
    }
  }

  #noticeStartedTask(tool: string, result: unknown): void {
    if (this.#onTaskStarted === undefined || !tool.startsWith('start_')) return
    const structured = (result as { structuredContent?: unknown; isError?: unknown }).structuredContent
    if ((result as { isError?: unknown }).isError === true || !isRecord(structured)) return
    if (typeof structured.task_id !== 'string') return
    try {
      this.#onTaskStarted({ taskId: structured.task_id, tool })
    } catch {
      // A failing observer must not fail the call it observes.
    }
  }
}

function parseUrl(url: string | URL): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch (error) {
    throw new McpClientConfigError('url', `not a URL: ${String(url)}`, { cause: error })
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw new McpClientConfigError('url', `must be http or https, not ${parsed.protocol}`)
  return parsed
}

function checkDuration(field: string, value: number | undefined): void {
  if (value === undefined) return
  if (!Number.isInteger(value) || value < 1 || value > MAX_DURATION_MS)
    throw new McpClientConfigError(
      field,
      `must be a whole number of milliseconds from 1 to ${MAX_DURATION_MS}`,
    )
}
