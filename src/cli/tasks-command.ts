/** `longrun tasks`: its flags and help; the listing itself (tasks-action.ts) is loaded only when it runs. */
import { Command } from 'commander'

/** The flags of `longrun tasks`. */
export interface TasksOptions {
  readonly actor?: string | undefined
  readonly memory?: string | undefined
  readonly mcpUrl?: string | undefined
  readonly json?: boolean | undefined
  readonly headerless?: boolean | undefined
}

export function tasksCommand(): Command {
  return new Command('tasks')
    .description(
      "list an actor's background tasks (status, progress, delivery into memory) from the MCP server",
    )
    .option('--actor <id>', "actor id (default: the runtime's default actor)")
    .option(
      '--memory <id>',
      "memory id the actor's tasks deliver to (default MEMORY_ID, else the local stack's)",
    )
    .option('--mcp-url <url>', "MCP server URL (default MCP_SERVER_URL, else the local stack's)")
    .option(
      '--headerless',
      'list the tasks of calls that named no memory (no composite mcp-session-id header, as from the MCP Inspector or curl): they belong to the bearer token itself, not to an actor',
    )
    .option('--json', 'print the tasks as JSON')
    .addHelpText('after', "\nThe MCP server's bearer token is MCP_BEARER_TOKEN, else the local stack's.")
    .action(async (options: TasksOptions) => {
      const { runTasks } = await import('./tasks-action.ts')
      await runTasks(options)
    })
}
