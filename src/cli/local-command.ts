import { parseArgs } from 'node:util'
import { type Environment, parseRuntimeTable } from '../config.ts'
import { LocalAgentCoreService } from '../local/index.ts'
import { waitForShutdownSignal } from './shutdown-signal.ts'

export const LOCAL_HELP = `Usage: longrun local [options]

Starts the local AgentCore service (Memory data plane, control plane, runtime invoke gateway).
Point any AWS SDK client at it with endpoint=<printed URL>.

Options:
  --port <n>        port to listen on (default AGENTCORE_LOCAL_PORT or 8090; 0 picks one)
  --host <h>        interface to bind (default AGENTCORE_LOCAL_HOST or 127.0.0.1)
  --data-dir <dir>  where the SQLite file lives (default LONGRUN_DATA_DIR or .longrun)
  --in-memory       keep nothing on disk
  --runtime <k=url> route InvokeAgentRuntime for an ARN, runtime id or * to a runtime (repeatable;
                    mcp+http://... for an MCP server)
  -h, --help        show this help`

/** `longrun local`: runs the service until SIGINT or SIGTERM, then closes it cleanly. */
export async function runLocalCommand(args: string[], env: Environment): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      'in-memory': { type: 'boolean', default: false },
      runtime: { type: 'string', multiple: true },
    },
    strict: true,
  })
  const port = values.port === undefined ? env.AGENTCORE_LOCAL_PORT : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--port must be 0..65535, got ${values.port}`)
  const runtimes = {
    ...parseRuntimeTable(env.AGENTCORE_LOCAL_RUNTIMES),
    ...parseRuntimeTable((values.runtime ?? []).join(',')),
  }
  const dataDir = values['in-memory'] ? undefined : (values['data-dir'] ?? env.LONGRUN_DATA_DIR)
  const service = await LocalAgentCoreService.start({
    port,
    host: values.host ?? env.AGENTCORE_LOCAL_HOST,
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
}
