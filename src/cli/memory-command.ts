/** `longrun memory events`: its flags and help; the reading (memory-action.ts) is loaded only when it runs. */
import { Command } from 'commander'

/** The flags of `longrun memory events`. */
export interface EventsOptions {
  readonly session: string
  readonly actor?: string | undefined
  readonly memory?: string | undefined
  readonly endpoint?: string | undefined
  readonly region?: string | undefined
  readonly full?: boolean | undefined
  readonly json?: boolean | undefined
}

export function memoryCommand(): Command {
  const memory = new Command('memory').description('read AgentCore Memory')
  memory
    .command('events')
    .description(
      "print a session's events as a timeline (who wrote each: user, agent, tool, task result, runtime, state; continuations marked)",
    )
    .requiredOption('--session <id>', 'session id (a runtime session id is mapped as the runtime maps it)')
    .option('--actor <id>', "actor id (default: the runtime's default actor)")
    .option('--memory <id>', "memory id (default MEMORY_ID, else the local stack's)")
    .option(
      '--endpoint <url>',
      'AgentCore endpoint (default AGENTCORE_ENDPOINT, else the local stack, else AWS)',
    )
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option('--full', 'print whole texts instead of their first 160 characters')
    .option('--json', 'print the raw events as JSON')
    .action(async (options: EventsOptions) => {
      const { runMemoryEvents } = await import('./memory-action.ts')
      await runMemoryEvents(options)
    })
  return memory
}
