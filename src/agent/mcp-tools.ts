/**
 * The long-running MCP tools of one invocation. Strands lists an `McpClient`'s tools inside the
 * agent's first invocation and fails the whole invocation when the server is down (and that client
 * never reconnects); listing here first keeps the invocation going. With the process's
 * {@link McpToolListings}, a listing is reused: the tools are offered at once and the invocation
 * connects only when one is called. When the server is down or refuses, the agent gets the tools
 * listed last time, each answering with a clear error, so the model can tell the user instead of
 * the invocation failing.
 */
import type { Tool } from '@strands-agents/sdk'
import {
  type CompositeSessionParts,
  McpClientConfigError,
  type StartedToolTask,
  type ToolProgress,
} from '../mcp/index.ts'
import { InvocationMcpConnection } from './invocation-mcp-connection.ts'
import { ListedMcpTool } from './listed-mcp-tool.ts'
import { mcpListingKey, type McpToolListings } from './mcp-tool-listings.ts'
import { mcpServerProblem, unavailableTool, unreachableMessage } from './unavailable-tool.ts'

/** Where the tools come from and who is calling. */
export interface McpToolsConfig {
  /** The long-running MCP server's Streamable HTTP endpoint. */
  readonly url: string
  readonly bearerToken?: string | undefined
  /** The memory a background task's result goes to (the composite `mcp-session-id` header). */
  readonly memory: CompositeSessionParts
  /** More headers of this invocation's connection (the runtime session a task's end may wake). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly onProgress?: ((progress: ToolProgress) => void) | undefined
  readonly onTaskStarted?: ((task: StartedToolTask) => void) | undefined
  /** The process's listings: reused while current, offered as errors while the server is down. Without them, every invocation lists. */
  readonly listings?: McpToolListings | undefined
}

/** The tools of one invocation and what became of the listing. */
export interface McpTools {
  readonly tools: readonly Tool[]
  /**
   * Why the server's tools are not usable this time, undefined when they are (or when a kept
   * listing was offered: a server that went down since is found out by the first call).
   */
  readonly problem: string | undefined
  /** Ends the invocation's connection, if it opened one (idempotent). */
  disconnect(): Promise<void>
}

/**
 * The invocation's MCP tools: from the process's current listing, or listed now. Throws the MCP
 * client's `INVALID_MCP_CLIENT_CONFIG` when it lists and the URL, token or an id cannot be used.
 */
export async function mcpToolsFor(config: McpToolsConfig): Promise<McpTools> {
  const { listings } = config
  const key = mcpListingKey(config.url, config.bearerToken)
  const connection = new InvocationMcpConnection({
    url: config.url,
    bearerToken: config.bearerToken,
    memory: config.memory,
    headers: config.headers,
    onProgress: config.onProgress,
    onTaskStarted: config.onTaskStarted,
    onListed: (specs) => listings?.remember(key, specs),
    onToolsChanged: () => listings?.invalidate(key),
    onListFailed: () => listings?.invalidate(key),
  })
  const disconnect = () => connection.disconnect()
  const kept = listings?.current(key)
  if (kept !== undefined) {
    const tools = kept.map((spec) => new ListedMcpTool(spec, connection, config.url))
    return { tools, problem: undefined, disconnect }
  }
  try {
    return { tools: await connection.tools(), problem: undefined, disconnect }
  } catch (error) {
    await connection.disconnect()
    // Not the server's fault: a configuration that can never work is the caller's to fix.
    if (error instanceof McpClientConfigError) throw error
    const problem = mcpServerProblem(config.url, error)
    const message = unreachableMessage(problem)
    const tools = (listings?.last(key) ?? []).map((spec) => unavailableTool(spec, message))
    return { tools, problem, disconnect }
  }
}
