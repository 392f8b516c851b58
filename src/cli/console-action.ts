/**
 * What `longrun console` does: the developer console alone, for a runtime that is not this
 * machine's `longrun dev` stack (a deployed runtime with --arn / AGENT_RUNTIME_ARN, its memory and
 * its MCP server), or for the local stack from another terminal. It cannot stop a runtime it does
 * not own, so it offers no stop control. (`longrun dev` serves the console itself.)
 */
import { loadEnvironment } from '../config.ts'
import { ConsoleApi, ConsoleServer } from '../console/index.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/caller-identity.ts'
import { stderrLogger } from '../shared/logger.ts'
import { clientFor } from './agentcore-client.ts'
import { CliUsageError } from './cli-errors.ts'
import { requireMcp, requireMemoryId, requireRuntimeArn, resolveTarget } from './cli-target.ts'
import type { ConsoleOptions } from './console-command.ts'
import { invokerFor } from './invoker-for.ts'
import { conversationKey, recallSession } from './remembered-sessions.ts'
import { waitForShutdownSignal } from './shutdown-signal.ts'

export async function runConsole(options: ConsoleOptions): Promise<void> {
  const env = loadEnvironment()
  const target = await resolveTarget(env, options)
  const runtimeArn = requireRuntimeArn(target)
  const memoryId = requireMemoryId(target)
  const mcp = requireMcp(target)
  if (mcp.token === undefined)
    throw new CliUsageError('the task panel needs the MCP server: set MCP_SERVER_URL and MCP_BEARER_TOKEN')
  const client = clientFor(target)
  const invoker = await invokerFor(target)
  const api = new ConsoleApi({
    agentCore: client,
    runtimeArn,
    memoryId,
    mcp: { url: mcp.url, bearerToken: mcp.token },
    // The console opens on the session `longrun invoke` / `longrun chat` used last with this runtime.
    cliSession: () => recallSession(target.dataDir, conversationKey(target, runtimeArn)),
    // With a bearer token the turns are signed with it; memory is read with SigV4 either way.
    ...(target.bearerToken !== undefined && { invoker }),
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
    invoker.close()
    client.destroy()
  }
}
