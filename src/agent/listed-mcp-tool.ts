/**
 * An MCP tool offered from an earlier listing. The agent sees its name and schema at once; a call
 * opens the invocation's own connection, lists the tools there (Strands' MCP tools are made by a
 * listing, bound to the connection that listed them) and hands the call to the live tool. A tool
 * the server no longer offers answers with an error, and that listing replaces the process's, so
 * the next invocation is offered what the server offers now.
 */
import { Tool, type ToolContext, type ToolSpec, type ToolStreamGenerator } from '@strands-agents/sdk'
import type { InvocationMcpConnection } from './invocation-mcp-connection.ts'
import { mcpServerProblem, unavailableTool, unreachableMessage } from './unavailable-tool.ts'

/** A listed tool whose calls go through the invocation's {@link InvocationMcpConnection}. */
export class ListedMcpTool extends Tool {
  readonly name: string
  readonly description: string
  readonly toolSpec: ToolSpec
  readonly #connection: InvocationMcpConnection
  readonly #url: string

  constructor(spec: ToolSpec, connection: InvocationMcpConnection, url: string) {
    super()
    this.name = spec.name
    this.description = spec.description
    this.toolSpec = spec
    this.#connection = connection
    this.#url = url
  }

  async *stream(context: ToolContext): ToolStreamGenerator {
    let live: readonly Tool[]
    try {
      live = await this.#connection.tools()
    } catch (error) {
      const message = unreachableMessage(mcpServerProblem(this.#url, error))
      return yield* unavailableTool(this.toolSpec, message).stream(context)
    }
    const tool = live.find((one) => one.name === this.name)
    if (tool === undefined) {
      const message = `the long-running MCP server at ${this.#url} no longer offers ${this.name}. Nothing was started; its tools are offered afresh from the next message on.`
      return yield* unavailableTool(this.toolSpec, message).stream(context)
    }
    return yield* tool.stream(context)
  }
}
