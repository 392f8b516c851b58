/**
 * `longrun console`: the developer console alone, for a runtime that is not this machine's
 * `longrun dev` stack (a deployed runtime with --arn / AGENT_RUNTIME_ARN, its memory and its MCP
 * server), or for the local stack from another terminal. It cannot stop a runtime it does not own,
 * so it offers no stop control. (`longrun dev` serves the console itself.)
 */
import { Command } from 'commander'
import { type Environment, loadEnvironment } from '../config.ts'
import { ConsoleApi, ConsoleServer } from '../console/index.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/index.ts'
import { stderrLogger } from '../shared/logger.ts'
import { CliUsageError } from './cli-errors.ts'
import { clientFor, parsePort, requireMemoryId, requireRuntimeArn, resolveTarget } from './cli-target.ts'
import { waitForShutdownSignal } from './shutdown-signal.ts'

interface ConsoleOptions {
  port?: number
  arn?: string
  endpoint?: string
  region?: string
  memory?: string
  actor?: string
}

export function consoleCommand(): Command {
  return new Command('console')
    .description(
      'serve the developer console for a runtime of your choice (--arn / AGENT_RUNTIME_ARN, its MEMORY_ID, ' +
        'MCP_SERVER_URL and MCP_BEARER_TOKEN), or for the local stack from another terminal',
    )
    .option('--port <n>', 'console port (default CONSOLE_PORT or 8070; 0 picks one)', (v) =>
      parsePort(v, 'port'),
    )
    .option('--arn <arn>', 'agent runtime ARN (default AGENT_RUNTIME_ARN, else the local stack)')
    .option(
      '--endpoint <url>',
      'AgentCore endpoint (default AGENTCORE_ENDPOINT, else the local stack, else AWS)',
    )
    .option('--region <region>', 'AWS region (default AWS_REGION)')
    .option('--memory <id>', "memory id (default MEMORY_ID, else the local stack's)")
    .option('--actor <id>', 'the actor the console opens with', DEFAULT_ACTOR_ID)
    .action(async (options: ConsoleOptions) => runConsole(loadEnvironment(), options))
}

async function runConsole(env: Environment, options: ConsoleOptions): Promise<void> {
  const target = resolveTarget(env, options)
  const runtimeArn = requireRuntimeArn(target)
  const memoryId = requireMemoryId(target)
  if (target.mcpUrl === undefined || target.mcpBearerToken === undefined)
    throw new CliUsageError('the task panel needs the MCP server: set MCP_SERVER_URL and MCP_BEARER_TOKEN')
  const client = clientFor(target)
  const api = new ConsoleApi({
    agentCore: client,
    runtimeArn,
    memoryId,
    mcp: { url: target.mcpUrl, bearerToken: target.mcpBearerToken },
  })
  const server = await ConsoleServer.start({
    api,
    port: options.port ?? env.CONSOLE_PORT,
    host: env.CONSOLE_HOST,
    defaults: { actorId: options.actor ?? DEFAULT_ACTOR_ID, memoryId, runtimeArn },
    logger: stderrLogger,
  })
  try {
    console.log(`longrun console: ${server.openUrl}`)
    console.log(`  runtime ARN: ${runtimeArn}`)
    console.log(`  memory id:   ${memoryId}`)
    console.log('  (Ctrl-C to stop)')
    await waitForShutdownSignal()
  } finally {
    await server.close()
    await api.close()
    client.destroy()
  }
}
