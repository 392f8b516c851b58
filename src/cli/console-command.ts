/**
 * `longrun console`: its flags and help. The console it serves (console-action.ts) is loaded only
 * when the command runs.
 */
import { Command } from 'commander'
import { withSigningOptions } from './conversation-options.ts'
import { parsePort } from './option-parsers.ts'

/** The flags of `longrun console`. */
export interface ConsoleOptions {
  readonly port?: number | undefined
  readonly arn?: string | undefined
  readonly endpoint?: string | undefined
  readonly region?: string | undefined
  readonly memory?: string | undefined
  readonly actor?: string | undefined
  readonly bearerToken?: string | undefined
}

export function consoleCommand(): Command {
  return withSigningOptions(
    new Command('console')
      .description(
        'serve the developer console for a runtime of your choice (--arn / AGENT_RUNTIME_ARN, its MEMORY_ID, ' +
          'MCP_SERVER_URL and MCP_BEARER_TOKEN), or for the local stack from another terminal',
      )
      .option('--port <n>', 'console port (default CONSOLE_PORT or 8070; 0 picks one)', (v) =>
        parsePort(v, 'port'),
      ),
  )
    .option('--memory <id>', "memory id (default MEMORY_ID, else the local stack's)")
    .option('--actor <id>', "the actor the console opens with (default: the runtime's default actor)")
    .action(async (options: ConsoleOptions) => {
      const { runConsole } = await import('./console-action.ts')
      await runConsole(options)
    })
}
