/**
 * The long-running MCP tools of one invocation. Strands lists an `McpClient`'s tools inside the
 * agent's first invocation and fails the whole invocation when the server is down (and that client
 * never reconnects). Listing them here first keeps the invocation going: when the server is down
 * or refuses, the agent gets the tools it had last time, each answering with a clear error, so the
 * model can tell the user instead of the invocation failing.
 */
import { FunctionTool, type Tool, type ToolSpec } from '@strands-agents/sdk'
import {
  type CompositeSessionParts,
  LongRunningMcpClient,
  type StartedToolTask,
  type ToolProgress,
} from '../mcp/index.ts'

/** Where the tools come from and who is calling. */
export interface McpToolsConfig {
  /** The long-running MCP server's Streamable HTTP endpoint. */
  readonly url: string
  readonly bearerToken?: string | undefined
  /** The memory a background task's result goes to (the composite `mcp-session-id` header). */
  readonly memory: CompositeSessionParts
  readonly onProgress?: ((progress: ToolProgress) => void) | undefined
  readonly onTaskStarted?: ((task: StartedToolTask) => void) | undefined
  /** Tools listed by earlier invocations: offered (as errors) when the server cannot be reached. */
  readonly catalog?: McpToolCatalog | undefined
}

/** The tools of one invocation and what became of the listing. */
export interface McpTools {
  readonly tools: readonly Tool[]
  /** Why the server's tools are not usable this time, undefined when they are. */
  readonly problem: string | undefined
  /** Ends the connection (idempotent). */
  disconnect(): Promise<void>
}

/** Tool specs last listed per server URL: what an agent is offered while the server is down. */
export class McpToolCatalog {
  readonly #specs = new Map<string, readonly ToolSpec[]>()

  remember(url: string, specs: readonly ToolSpec[]): void {
    this.#specs.set(url, specs)
  }

  recall(url: string): readonly ToolSpec[] {
    return this.#specs.get(url) ?? []
  }
}

/** Connects, lists the tools, and falls back to error-answering stand-ins when that fails. */
export async function listMcpTools(config: McpToolsConfig): Promise<McpTools> {
  const client = new LongRunningMcpClient({
    url: config.url,
    memory: config.memory,
    ...(config.bearerToken !== undefined && { bearerToken: config.bearerToken }),
    ...(config.onProgress !== undefined && { onProgress: config.onProgress }),
    ...(config.onTaskStarted !== undefined && { onTaskStarted: config.onTaskStarted }),
  })
  let disconnected = false
  const disconnect = async () => {
    if (disconnected) return
    disconnected = true
    await client.disconnect().catch(() => {})
  }
  try {
    const tools = await client.listTools()
    config.catalog?.remember(
      config.url,
      tools.map((tool) => tool.toolSpec),
    )
    return { tools, problem: undefined, disconnect }
  } catch (error) {
    await disconnect()
    const problem = `the long-running MCP server at ${config.url} cannot be used: ${describe(error)}`
    const stand = (config.catalog?.recall(config.url) ?? []).map((spec) => unavailableTool(spec, problem))
    return { tools: stand, problem, disconnect }
  }
}

/** A tool with the real one's name and schema that answers every call with `problem`. */
function unavailableTool(spec: ToolSpec, problem: string): Tool {
  return new FunctionTool({
    name: spec.name,
    description: spec.description,
    inputSchema: spec.inputSchema as never,
    callback: () => {
      throw new Error(`${problem}. Nothing was started; try again later.`)
    },
  })
}

/** The root cause in a few words: `ECONNREFUSED`, `HTTP 401 ...`, the message. */
function describe(error: unknown): string {
  let current: unknown = error
  for (let depth = 0; depth < 5; depth += 1) {
    const cause = (current as { cause?: unknown })?.cause
    if (cause === undefined || cause === null) break
    current = cause
  }
  const code = (current as { code?: unknown })?.code
  const message = current instanceof Error ? current.message : String(current)
  const top = error instanceof Error ? error.message : String(error)
  if (typeof code === 'string' && code !== '') return `${code} (${top})`
  return message === top ? top : `${top}: ${message}`
}
