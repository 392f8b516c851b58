/**
 * What `longrun tasks` does: an actor's background tasks, asked of the long-running MCP server with
 * its `list_tasks` tool through the real MCP client, as the agent itself would. A token the server
 * refuses, or one that is not the local stack's, is said in one line naming MCP_BEARER_TOKEN.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { z } from 'zod'
import { loadEnvironment } from '../config.ts'
import { formatCompositeSessionHeader } from '../contract/index.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/caller-identity.ts'
import {
  CliUsageError,
  McpTokenRefusedError,
  McpUnreachableError,
  UnexpectedAnswerError,
} from './cli-errors.ts'
import { requireMcp, requireMemoryId, resolveTarget } from './cli-target.ts'
import type { TasksOptions } from './tasks-command.ts'

/** A task as `list_tasks` reports it (the fields shown). */
const TaskViewSchema = z.object({
  task_id: z.string(),
  tool: z.string(),
  status: z.string(),
  status_message: z.string().nullable(),
  progress: z.number().nullable(),
  total: z.number().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  delivery: z.object({ state: z.string() }).optional(),
})
const TaskPageSchema = z.object({ tasks: z.array(TaskViewSchema), next_cursor: z.string().nullable() })
type TaskView = z.infer<typeof TaskViewSchema>

/** The session named in the header of a listing: it starts nothing, so any valid id does. */
const LISTING_SESSION_ID = 'longrun-cli-tasks'

export async function runTasks(options: TasksOptions): Promise<void> {
  const env = loadEnvironment()
  const target = await resolveTarget(env, { memory: options.memory })
  const mcp = requireMcp(target, options.mcpUrl)
  if (options.headerless && options.actor !== undefined)
    throw new CliUsageError('--headerless lists the tasks of calls that named no actor: drop --actor')
  const actorId = options.actor ?? DEFAULT_ACTOR_ID
  // Tasks are scoped by who started them: an actor named in the composite header, or, for calls
  // that sent none, the bearer token itself.
  const tasks = await listTasks(
    mcp.url,
    mcp.token,
    options.headerless
      ? undefined
      : { sessionId: LISTING_SESSION_ID, memoryId: requireMemoryId(target), actorId },
  )
  if (options.json) console.log(JSON.stringify(tasks, null, 2))
  else console.log(formatTasks(tasks, options.headerless ? undefined : actorId))
}

async function listTasks(
  url: string,
  token: string | undefined,
  memory: { sessionId: string; memoryId: string; actorId: string } | undefined,
): Promise<TaskView[]> {
  const headers: Record<string, string> = {}
  if (memory !== undefined) headers['mcp-session-id'] = formatCompositeSessionHeader(memory)
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const client = new Client({ name: 'longrun-cli', version: '0.1.0' }, { capabilities: {} })
  try {
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
  } catch (error) {
    throw mcpFailure(error, url, token)
  }
  try {
    const tasks: TaskView[] = []
    let cursor: string | undefined
    do {
      const result = await client.callTool({ name: 'list_tasks', arguments: cursor ? { cursor } : {} })
      const page = TaskPageSchema.safeParse(result.structuredContent)
      if (result.isError || !page.success)
        throw new UnexpectedAnswerError(
          `list_tasks did not list tasks: ${JSON.stringify(result.content).slice(0, 300)}`,
        )
      tasks.push(...page.data.tasks)
      cursor = page.data.next_cursor ?? undefined
    } while (cursor)
    return tasks
  } finally {
    await client.close()
  }
}

/** A failed connection in one line: a refused token (401) names MCP_BEARER_TOKEN; no answer names the URL. */
function mcpFailure(error: unknown, url: string, token: string | undefined): unknown {
  if (error instanceof StreamableHTTPError && error.code === 401)
    return new McpTokenRefusedError(
      token === undefined
        ? `the MCP server at ${url} wants a bearer token: set MCP_BEARER_TOKEN to its token`
        : `the MCP server at ${url} refused the bearer token: MCP_BEARER_TOKEN is not its token`,
    )
  if (error instanceof TypeError && error.message === 'fetch failed')
    return new McpUnreachableError(`the MCP server at ${url} does not answer (${causeOf(error)})`)
  return error
}

function causeOf(error: Error): string {
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined
  return String(cause?.code ?? cause?.message ?? error.message)
}

/**
 * A table: id, tool, status, a progress bar, when it last changed, and its latest message. `actorId`
 * undefined: the tasks of calls that named no actor (`--headerless`).
 */
export function formatTasks(tasks: readonly TaskView[], actorId: string | undefined): string {
  if (tasks.length === 0)
    return actorId === undefined
      ? 'no tasks started without a session header with this bearer token'
      : `no tasks for actor ${actorId} (a task started without the composite session header, from the MCP Inspector or curl, belongs to the bearer token instead: see longrun tasks --headerless)`
  const rows = tasks.map((task) => [
    task.task_id,
    task.tool,
    task.status,
    progressCell(task.progress, task.total),
    task.updated_at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
    task.delivery?.state ?? '',
    task.status_message ?? '',
  ])
  const header = ['TASK', 'TOOL', 'STATUS', 'PROGRESS', 'UPDATED', 'DELIVERY', 'MESSAGE']
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] as string).length)),
  )
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] as number)))
      .join('  ')
  return [line(header), ...rows.map(line)].join('\n')
}

function progressCell(progress: number | null, total: number | null): string {
  if (progress === null) return '-'
  if (total === null || total <= 0) return String(Math.floor(progress))
  const width = 10
  const filled = Math.max(0, Math.min(width, Math.round((progress / total) * width)))
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(progress)}/${total}`
}
