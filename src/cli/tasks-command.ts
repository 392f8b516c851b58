/**
 * `longrun tasks`: an actor's background tasks, asked of the long-running MCP server with its
 * `list_tasks` tool through the real MCP client, as the agent itself would.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Command } from 'commander'
import { z } from 'zod'
import { loadEnvironment } from '../config.ts'
import { formatCompositeSessionHeader } from '../mcp/index.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/index.ts'
import { CliUsageError, UnexpectedAnswerError } from './cli-errors.ts'
import { requireMemoryId, resolveTarget } from './cli-target.ts'

interface TasksOptions {
  actor: string
  memory?: string
  mcpUrl?: string
  json?: boolean
}

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

export function tasksCommand(): Command {
  return new Command('tasks')
    .description(
      "list an actor's background tasks (status, progress, delivery into memory) from the MCP server",
    )
    .option('--actor <id>', 'actor id', DEFAULT_ACTOR_ID)
    .option(
      '--memory <id>',
      "memory id the actor's tasks deliver to (default MEMORY_ID, else the local stack's)",
    )
    .option('--mcp-url <url>', "MCP server URL (default MCP_SERVER_URL, else the local stack's)")
    .option('--json', 'print the tasks as JSON')
    .action(async (options: TasksOptions) => {
      const env = loadEnvironment()
      const target = resolveTarget(env, { memory: options.memory })
      const url = options.mcpUrl ?? target.mcpUrl
      if (url === undefined)
        throw new CliUsageError(
          'no MCP server: give --mcp-url or MCP_SERVER_URL, or start the local stack with `npm start`',
        )
      const tasks = await listTasks(url, target.mcpBearerToken, {
        sessionId: LISTING_SESSION_ID,
        memoryId: requireMemoryId(target),
        actorId: options.actor,
      })
      if (options.json) console.log(JSON.stringify(tasks, null, 2))
      else console.log(formatTasks(tasks, options.actor))
    })
}

async function listTasks(
  url: string,
  token: string | undefined,
  memory: { sessionId: string; memoryId: string; actorId: string },
): Promise<TaskView[]> {
  const headers: Record<string, string> = { 'mcp-session-id': formatCompositeSessionHeader(memory) }
  if (token !== undefined) headers.authorization = `Bearer ${token}`
  const client = new Client({ name: 'longrun-cli', version: '0.1.0' }, { capabilities: {} })
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }))
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

/** A table: id, tool, status, a progress bar, when it last changed, and its latest message. */
export function formatTasks(tasks: readonly TaskView[], actorId: string): string {
  if (tasks.length === 0) return `no tasks for actor ${actorId}`
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
