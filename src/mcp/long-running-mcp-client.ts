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
import { type CompositeSessionParts, formatCompositeSessionHeader } from './composite-session-header.ts'

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
  /** Longest a call may take in all, progress or not (default 8 h, the AgentCore Runtime session limit). */
  readonly maxCallMs?: number
  /** Told of every progress notification, e.g. to show it to the user. */
  readonly onProgress?: (progress: ToolProgress) => void
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

export const DEFAULT_IDLE_TIMEOUT_MS = 60_000
export const DEFAULT_MAX_CALL_MS = 8 * 60 * 60 * 1000

/**
 * Pass it in an agent's tools (`new Agent({ tools: [client] })`) as any `McpClient`; its tools
 * survive long calls. OpenTelemetry trace context is not injected into tool arguments unless
 * `disableMcpInstrumentation: false` is given, since a tool that checks its arguments strictly
 * refuses the extra `_meta` field.
 */
export class LongRunningMcpClient extends McpClient {
  readonly #idleTimeoutMs: number
  readonly #maxCallMs: number
  readonly #onProgress: ((progress: ToolProgress) => void) | undefined

  constructor(config: LongRunningMcpClientConfig) {
    const { url, memory, bearerToken, headers, idleTimeoutMs, maxCallMs, onProgress, ...options } = config
    const endpoint = parseUrl(url)
    checkDuration('idleTimeoutMs', idleTimeoutMs)
    checkDuration('maxCallMs', maxCallMs)
    const requestHeaders: Record<string, string> = {}
    for (const [name, value] of Object.entries(headers ?? {})) {
      // The MCP SDK merges its own lower-case `mcp-session-id` with these: another spelling would
      // be sent twice, joined by a comma.
      if (name.toLowerCase() === 'mcp-session-id')
        throw new McpClientConfigError('headers', 'set the session through `memory`, not a header')
      requestHeaders[name.toLowerCase()] = value
    }
    if (bearerToken !== undefined) {
      if (bearerToken.trim() === '' || /[\r\n]/.test(bearerToken))
        throw new McpClientConfigError('bearerToken', 'must be a non-empty single-line token')
      requestHeaders.authorization = `Bearer ${bearerToken}`
    }
    // A header, not the transport's `sessionId` option: with that set, the MCP SDK takes the
    // connection for a resumed session and skips initialisation. The lower-case key replaces the
    // SDK's own `mcp-session-id`, so the server sees exactly one value.
    if (memory) requestHeaders['mcp-session-id'] = formatCompositeSessionHeader(memory)
    const transport = new StreamableHTTPClientTransport(endpoint, {
      requestInit: { headers: requestHeaders },
    })
    super({ disableMcpInstrumentation: true, ...options, transport })
    this.#idleTimeoutMs = idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS
    this.#maxCallMs = maxCallMs ?? DEFAULT_MAX_CALL_MS
    this.#onProgress = onProgress
  }

  /** Calls the tool asking for progress; each notification resets the idle timeout. */
  override async callTool(
    tool: Parameters<McpClient['callTool']>[0],
    args: Parameters<McpClient['callTool']>[1],
    options?: McpCallToolOptions,
  ): Promise<Awaited<ReturnType<McpClient['callTool']>>> {
    const onProgress = this.#onProgress
    const longCall = {
      ...options,
      timeout: this.#idleTimeoutMs,
      resetTimeoutOnProgress: true,
      maxTotalTimeout: this.#maxCallMs,
      // A progress callback is what makes the SDK send a progress token at all.
      onprogress: (progress: Progress) => {
        try {
          onProgress?.({ ...progress, tool: tool.name })
        } catch {
          // A failing observer must not fail the call it observes.
        }
      },
    }
    // Strands hands these options to the MCP SDK's callTool as they are.
    return super.callTool(tool, args, longCall as McpCallToolOptions)
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
  if (!Number.isInteger(value) || value < 1 || value > DEFAULT_MAX_CALL_MS * 3)
    throw new McpClientConfigError(field, 'must be a whole number of milliseconds from 1 to 86,400,000')
}
