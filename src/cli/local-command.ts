/** `longrun local`: the local AgentCore service alone, until SIGINT or SIGTERM (its code loaded only when it runs). */
import { Command } from 'commander'
import { parsePort } from './option-parsers.ts'

interface LocalOptions {
  port?: number
  host?: string
  dataDir?: string
  inMemory: boolean
  runtime: string[]
}

export function localCommand(): Command {
  return new Command('local')
    .description(
      'start the local AgentCore service only (Memory data plane, control plane, runtime invoke gateway, ' +
        'local Bedrock Converse and OpenAI chat endpoints); point any AWS SDK client at it with endpoint=<printed URL>',
    )
    .option('--port <n>', 'port to listen on (default AGENTCORE_LOCAL_PORT or 8090; 0 picks one)', (v) =>
      parsePort(v, 'port'),
    )
    .option('--host <h>', 'interface to bind (default AGENTCORE_LOCAL_HOST or 127.0.0.1)')
    .option('--data-dir <dir>', 'where the SQLite file lives (default LONGRUN_DATA_DIR or .longrun)')
    .option('--in-memory', 'keep nothing on disk', false)
    .option(
      '--runtime <key=url>',
      'route InvokeAgentRuntime for an ARN, runtime id or * to a runtime (repeatable; mcp+http://... for an MCP server)',
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .action(async (options: LocalOptions) => {
      const [{ loadEnvironment, parseRuntimeTable }, { LocalAgentCoreService }, { waitForShutdownSignal }] =
        await Promise.all([
          import('../config.ts'),
          import('../local/index.ts'),
          import('./shutdown-signal.ts'),
        ])
      const env = loadEnvironment()
      const runtimes = {
        ...parseRuntimeTable(env.AGENTCORE_LOCAL_RUNTIMES),
        ...parseRuntimeTable(options.runtime.join(',')),
      }
      const dataDir = options.inMemory ? undefined : (options.dataDir ?? env.LONGRUN_DATA_DIR)
      const service = await LocalAgentCoreService.start({
        port: options.port ?? env.AGENTCORE_LOCAL_PORT,
        host: options.host ?? env.AGENTCORE_LOCAL_HOST,
        region: env.AWS_REGION,
        runtimes,
        ...(dataDir ? { dataDir } : {}),
        ...(env.AGENTCORE_LOCAL_ADMIN_TOKEN ? { adminToken: env.AGENTCORE_LOCAL_ADMIN_TOKEN } : {}),
      })
      console.log(`longrun local AgentCore service listening on ${service.url}`)
      console.log(`  data: ${dataDir ? `${dataDir}/agentcore-local.sqlite` : 'in memory'}`)
      console.log(`  use it: AGENTCORE_ENDPOINT=${service.url} (Ctrl-C to stop)`)
      const signal = await waitForShutdownSignal()
      console.log(`signal=${signal} | stopping`)
      await service.close()
      console.log('stopped')
    })
}
