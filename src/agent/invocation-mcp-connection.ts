/**
 * One invocation's connection to the long-running MCP server, opened on first use. It carries the
 * invocation's own identity (the bearer token, and the session, memory and actor of the composite
 * `mcp-session-id` header), so it is never shared: every invocation, of any caller, opens its own.
 */
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import type { Tool, ToolSpec } from '@strands-agents/sdk'
import {
  type CompositeSessionParts,
  LongRunningMcpClient,
  type StartedToolTask,
  type ToolProgress,
} from '../mcp/index.ts'

/** Configuration of {@link InvocationMcpConnection}. */
export interface InvocationMcpConnectionConfig {
  /** The long-running MCP server's Streamable HTTP endpoint. */
  readonly url: string
  readonly bearerToken?: string | undefined
  /** The memory a background task's result goes to. */
  readonly memory: CompositeSessionParts
  /** More headers for every request of this connection. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly onProgress?: ((progress: ToolProgress) => void) | undefined
  readonly onTaskStarted?: ((task: StartedToolTask) => void) | undefined
  /** Told what the server listed on this connection. */
  readonly onListed?: ((specs: readonly ToolSpec[]) => void) | undefined
  /** Told when the server says its tools changed (`notifications/tools/list_changed`). */
  readonly onToolsChanged?: (() => void) | undefined
  /** Told when connecting or listing failed. */
  readonly onListFailed?: ((error: unknown) => void) | undefined
}

/**
 * A connection that connects and lists on the first {@link tools} call, and never again. Its client
 * is made then too: an invocation that calls no tool makes none.
 */
export class InvocationMcpConnection {
  readonly #config: InvocationMcpConnectionConfig
  #client: LongRunningMcpClient | undefined
  #listing: Promise<readonly Tool[]> | undefined
  #closed = false

  constructor(config: InvocationMcpConnectionConfig) {
    this.#config = config
  }

  /**
   * The server's tools, bound to this connection: connects and lists once, on the first call.
   * Rejects with the client's `INVALID_MCP_CLIENT_CONFIG` for a bad URL, token or id, before any request.
   */
  tools(): Promise<readonly Tool[]> {
    if (this.#closed) return Promise.reject(new Error('the MCP connection of this invocation is closed'))
    if (this.#listing === undefined) {
      this.#listing = this.#list()
      this.#listing.catch((error: unknown) => this.#config.onListFailed?.(error))
    }
    return this.#listing
  }

  /** Ends the connection, if one was opened (idempotent). */
  async disconnect(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#client?.disconnect().catch(() => {})
  }

  async #list(): Promise<readonly Tool[]> {
    const config = this.#config
    const client = new LongRunningMcpClient({
      url: config.url,
      memory: config.memory,
      ...(config.headers !== undefined && { headers: config.headers }),
      ...(config.bearerToken !== undefined && { bearerToken: config.bearerToken }),
      ...(config.onProgress !== undefined && { onProgress: config.onProgress }),
      ...(config.onTaskStarted !== undefined && { onTaskStarted: config.onTaskStarted }),
    })
    this.#client = client
    await client.connect()
    // Strands' own handler lists again after a delay, reconnecting a client this invocation may
    // have closed by then; the process's listings only need to know, for the next invocation.
    const onToolsChanged = config.onToolsChanged
    if (onToolsChanged !== undefined)
      client.client.setNotificationHandler(ToolListChangedNotificationSchema, () => onToolsChanged())
    const tools = await client.listTools()
    config.onListed?.(tools.map((tool) => tool.toolSpec))
    return tools
  }
}
