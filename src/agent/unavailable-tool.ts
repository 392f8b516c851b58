/**
 * Stand-ins for MCP tools that cannot be called: the real tool's name and schema, answering every
 * call with an error that says why, so the model can tell the user instead of the turn failing.
 */
import { FunctionTool, type Tool, type ToolSpec } from '@strands-agents/sdk'

/** A tool with the real one's name and schema whose every call fails with `message`. */
export function unavailableTool(spec: ToolSpec, message: string): Tool {
  return new FunctionTool({
    name: spec.name,
    description: spec.description,
    inputSchema: spec.inputSchema as never,
    callback: () => {
      throw new Error(message)
    },
  })
}

/** Why the server at `url` cannot be used, in a few words: `... cannot be used: ECONNREFUSED (...)`. */
export function mcpServerProblem(url: string, error: unknown): string {
  return `the long-running MCP server at ${url} cannot be used: ${describe(error)}`
}

/** What a stand-in answers when the server could not be reached. */
export function unreachableMessage(problem: string): string {
  return `${problem}. Nothing was started; try again later.`
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
