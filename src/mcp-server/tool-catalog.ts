/**
 * The tools this server lists: each long-running tool under the modes it is served in (`inline`
 * as `name`, `async` as `name` or `start_<name>`), then the four task tools. Every long-running
 * tool also takes spec-native task requests (`execution.taskSupport: "optional"`).
 */
import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { McpServerError } from './errors.ts'
import type { CallMode, LongRunningTool } from './long-running-tool.ts'
import { TASK_TOOL_NAMES, taskToolDefinitions } from './task-tools.ts'

/** A name in the tool list and how a plain tools/call of it runs. */
export interface ListedTool {
  readonly tool: LongRunningTool
  readonly mode: Exclude<CallMode, 'spec'>
  readonly definition: Tool
}

const ASYNC_NOTE =
  ' Runs in the background: returns a task_id at once; follow it with check_task_status and get_task_results.'

/** The tool list and the lookup of a called name. */
export class ToolCatalog {
  readonly definitions: readonly Tool[]
  readonly #listed = new Map<string, ListedTool>()

  constructor(tools: readonly LongRunningTool[]) {
    for (const tool of tools) {
      const inputSchema = z.toJSONSchema(tool.input, { io: 'input' }) as Tool['inputSchema']
      const list = (name: string, mode: ListedTool['mode'], description: string) => {
        if (this.#listed.has(name) || (TASK_TOOL_NAMES as readonly string[]).includes(name)) {
          throw new McpServerError('INVALID_CONFIG', `two tools are named ${name}`)
        }
        const definition: Tool = { name, description, inputSchema, execution: { taskSupport: 'optional' } }
        this.#listed.set(name, { tool, mode, definition })
      }
      if (tool.mode === 'inline') list(tool.name, 'inline', tool.description)
      if (tool.mode === 'async') list(tool.name, 'async', tool.description + ASYNC_NOTE)
      if (tool.mode === 'both') {
        list(tool.name, 'inline', `${tool.description} Runs within this call, reporting progress.`)
        list(`start_${tool.name}`, 'async', tool.description + ASYNC_NOTE)
      }
    }
    this.definitions = [
      ...[...this.#listed.values()].map((entry) => entry.definition),
      ...taskToolDefinitions(),
    ]
  }

  /** The long-running tool listed as `name`; undefined for a task tool or an unknown name. */
  find(name: string): ListedTool | undefined {
    return this.#listed.get(name)
  }
}
