import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { BedrockAgentCoreControlClient, CreateMemoryCommand } from '@aws-sdk/client-bedrock-agentcore-control'
import { type Environment, parseRuntimeTable } from '../config.ts'
import { LocalAgentCoreService } from '../local/index.ts'
import { configFromEnv, LongRunningMcpServer } from '../mcp-server/index.ts'
import { waitForShutdownSignal } from './shutdown-signal.ts'

export const DEV_HELP = `Usage: longrun dev [options]

Starts the development stack on this machine, wired together:
  - the local AgentCore service (Memory, control plane, invoke gateway)
  - the long-running MCP server, delivering task results into the local memory
and creates (or reuses) a memory named longrun_dev.

Options:
  --port <n>       local AgentCore service port (default AGENTCORE_LOCAL_PORT or 8090; 0 picks one)
  --mcp-port <n>   MCP server port (default MCP_PORT or 8000; 0 picks one)
  --data-dir <dir> where SQLite files and model artifacts live (default LONGRUN_DATA_DIR or .longrun)
  -h, --help       show this help

The MCP server's bearer token is MCP_BEARER_TOKEN, or a fresh random one printed at start.`

const DEV_MEMORY_NAME = 'longrun_dev'
/** The local service checks a signature's shape, not its secret: any static pair will do. */
const LOCAL_CREDENTIALS = { accessKeyId: 'longrun-dev', secretAccessKey: 'longrun-dev' }

function portOption(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback
  const port = Number(value)
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--${name} must be 0..65535, got ${value}`)
  return port
}

/** `longrun dev` (and `npm start`): the whole local stack until SIGINT or SIGTERM. */
export async function runDevCommand(args: string[], env: Environment): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      'mcp-port': { type: 'string' },
      'data-dir': { type: 'string' },
    },
    strict: true,
  })
  const localPort = portOption(values.port, env.AGENTCORE_LOCAL_PORT, 'port')
  const mcpPort = portOption(values['mcp-port'], env.MCP_PORT, 'mcp-port')
  const dataDir = values['data-dir'] ?? env.LONGRUN_DATA_DIR
  const local = await LocalAgentCoreService.start({
    port: localPort,
    host: env.AGENTCORE_LOCAL_HOST,
    region: env.AWS_REGION,
    dataDir,
    runtimes: parseRuntimeTable(env.AGENTCORE_LOCAL_RUNTIMES),
    ...(env.AGENTCORE_LOCAL_ADMIN_TOKEN ? { adminToken: env.AGENTCORE_LOCAL_ADMIN_TOKEN } : {}),
  })
  let mcp: LongRunningMcpServer | undefined
  const memoryClient = new BedrockAgentCoreClient({
    endpoint: local.url,
    region: env.AWS_REGION,
    credentials: LOCAL_CREDENTIALS,
  })
  try {
    const memoryId = await ensureDevMemory(local, env.AWS_REGION)
    const token = env.MCP_BEARER_TOKEN ?? randomBytes(24).toString('base64url')
    mcp = await LongRunningMcpServer.start({
      ...configFromEnv({
        ...env,
        MCP_PORT: mcpPort,
        MCP_HOST: env.MCP_HOST ?? '127.0.0.1',
        LONGRUN_DATA_DIR: dataDir,
        AGENTCORE_ENDPOINT: local.url,
        MCP_BEARER_TOKEN: token,
      }),
      memoryClient,
    })
    console.log(`longrun local AgentCore service listening on ${local.url}`)
    console.log(`longrun MCP server listening on ${mcp.url}`)
    console.log(`  memory id:        ${memoryId}`)
    console.log(`  MCP bearer token: ${env.MCP_BEARER_TOKEN ? '(MCP_BEARER_TOKEN)' : token}`)
    console.log(`  data:             ${dataDir}`)
    console.log(`  use it: AGENTCORE_ENDPOINT=${local.url} MEMORY_ID=${memoryId} MCP_SERVER_URL=${mcp.url}`)
    console.log('  (Ctrl-C to stop)')
    const signal = await waitForShutdownSignal()
    console.log(`signal=${signal} | stopping`)
  } finally {
    await mcp?.close()
    memoryClient.destroy()
    await local.close()
  }
  console.log('stopped')
}

/** Finds the development memory by name, or creates it, through the real control-plane client. */
async function ensureDevMemory(local: LocalAgentCoreService, region: string): Promise<string> {
  const existing = local.store.findMemoryByName(DEV_MEMORY_NAME)
  if (existing) return existing.id
  const control = new BedrockAgentCoreControlClient({
    endpoint: local.url,
    region,
    credentials: LOCAL_CREDENTIALS,
  })
  try {
    const { memory } = await control.send(
      new CreateMemoryCommand({ name: DEV_MEMORY_NAME, eventExpiryDuration: 30 }),
    )
    return memory?.id as string
  } finally {
    control.destroy()
  }
}
