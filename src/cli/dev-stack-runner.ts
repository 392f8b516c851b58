/**
 * What `longrun dev` (`npm start`) does: the whole local stack, wired together: the local
 * AgentCore service (Memory, control plane, invoke gateway, local model endpoints), the
 * long-running MCP server delivering into that memory, the agent runtime, registered with the
 * gateway so `longrun invoke` (or boto3 pointed at the gateway) reaches it through
 * InvokeAgentRuntime, and the developer console.
 */
import { randomBytes } from 'node:crypto'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { BedrockAgentCoreControlClient, CreateMemoryCommand } from '@aws-sdk/client-bedrock-agentcore-control'
import { type Environment, parseRuntimeTable } from '../config.ts'
import { type StartedRuntime, startRuntimeFromEnv } from '../entrypoint.ts'
import { ConsoleApi, ConsoleServer, SerialRuntimeControl } from '../console/index.ts'
import { stderrLogger } from '../shared/logger.ts'
import { ensurePrivateDirectory } from '../shared/private-files.ts'
import { LocalAgentCoreService } from '../local/index.ts'
import { LongRunningMcpServer } from '../mcp-server/index.ts'
import { configFromEnv } from '../mcp-server-entrypoint.ts'
import { MCP_SERVER_DEFAULTS } from '../mcp-server/server-defaults.ts'
import { DEFAULT_ACTOR_ID } from '../runtime/index.ts'
import { startTelemetry } from '../telemetry/index.ts'
import { CliUsageError } from './cli-errors.ts'
import { LOCAL_CREDENTIALS } from './cli-target.ts'
import { DEV_EPOCH_DELAY_MS, DEV_RUNTIME_ARN, type DevOptions } from './dev-command.ts'
import { readDevStack, removeDevStack, writeDevStack } from './dev-stack-file.ts'
import { conversationKey, recallSession } from './remembered-sessions.ts'
import { waitForShutdownSignal } from './shutdown-signal.ts'

const DEV_MEMORY_NAME = 'longrun_dev'
const DEFAULT_BEDROCK_MODEL_ID = 'global.anthropic.claude-sonnet-4-6'

export async function runDev(env: Environment, options: DevOptions): Promise<void> {
  const dataDir = options.dataDir ?? env.LONGRUN_DATA_DIR
  // Owner-only: every memory, task and model of the stack is in it (an older, looser one is tightened).
  ensurePrivateDirectory(dataDir, stderrLogger)
  // Two stacks on one data directory would share its databases and its dev-stack file.
  const running = readDevStack(dataDir)
  if (running !== undefined) {
    throw new CliUsageError(
      `a longrun dev stack (process ${running.pid}) already runs from ${dataDir}: stop it first, or give another --data-dir`,
    )
  }
  // One process for the whole stack: its spans share one service name, and still join per invocation.
  const telemetry = startTelemetry({ serviceName: 'longrun-dev', env })
  // With an OTLP endpoint the exporters load in the background: the stack's first spans wait for them.
  await telemetry.ready
  const local = await LocalAgentCoreService.start({
    port: options.port ?? env.AGENTCORE_LOCAL_PORT,
    host: env.AGENTCORE_LOCAL_HOST,
    region: env.AWS_REGION,
    dataDir,
    runtimes: parseRuntimeTable(env.AGENTCORE_LOCAL_RUNTIMES),
    ...(env.AGENTCORE_LOCAL_ADMIN_TOKEN ? { adminToken: env.AGENTCORE_LOCAL_ADMIN_TOKEN } : {}),
  })
  let mcp: LongRunningMcpServer | undefined
  let runtime: StartedRuntime | undefined
  let consoleApi: ConsoleApi | undefined
  let runtimeControl: SerialRuntimeControl | undefined
  let devConsole: ConsoleServer | undefined
  /** Only the stack that wrote the file removes it (a second `longrun dev` that fails must not). */
  let wroteStack = false
  const memoryClient = new BedrockAgentCoreClient({
    endpoint: local.url,
    region: env.AWS_REGION,
    credentials: LOCAL_CREDENTIALS,
  })
  try {
    const memoryId = await ensureDevMemory(local, env.AWS_REGION)
    const token = env.MCP_BEARER_TOKEN ?? randomBytes(24).toString('base64url')
    const mcpEnv: Environment = {
      ...env,
      MCP_PORT: options.mcpPort ?? env.MCP_PORT,
      MCP_HOST: env.MCP_HOST ?? '127.0.0.1',
      LONGRUN_DATA_DIR: dataDir,
      AGENTCORE_ENDPOINT: local.url,
      MCP_BEARER_TOKEN: token,
      MCP_TRAINING_EPOCH_DELAY_MS:
        options.epochDelayMs ?? env.MCP_TRAINING_EPOCH_DELAY_MS ?? DEV_EPOCH_DELAY_MS,
      // Continuations on by default: a finished task wakes the dev runtime (MCP_WAKE_RUNTIME=off: never).
      MCP_WAKE_RUNTIME: env.MCP_WAKE_RUNTIME ?? DEV_RUNTIME_ARN,
    }
    mcp = await LongRunningMcpServer.start({ ...configFromEnv(mcpEnv), memoryClient })
    const runtimeEnv = devRuntimeEnv(env, {
      port: options.runtimePort ?? env.PORT,
      localUrl: local.url,
      memoryId,
      mcpUrl: mcp.url,
      token,
    })
    const provider = runtimeEnv.MODEL_PROVIDER ?? 'demo'
    const stackFile = {
      agentCoreEndpoint: local.url,
      mcpUrl: mcp.url,
      mcpBearerToken: token,
      memoryId,
      runtimeArn: DEV_RUNTIME_ARN,
      pid: process.pid,
    }
    const startRuntime = async () => {
      runtime = await startRuntimeFromEnv(runtimeEnv, {
        modelFallback: 'demo',
        memoryCredentials: LOCAL_CREDENTIALS,
        ...(runtimeEnv.BEDROCK_ENDPOINT === local.url && { modelCredentials: LOCAL_CREDENTIALS }),
      })
      local.registerRuntime(DEV_RUNTIME_ARN, runtime.server.url)
      local.registerRuntime('*', runtime.server.url)
      await writeDevStack(dataDir, { ...stackFile, runtimeUrl: runtime.server.url })
      wroteStack = true
      return runtime
    }
    runtime = await startRuntime()
    // The console may stop the runtime and start it again: results keep landing in memory meanwhile.
    runtimeControl = new SerialRuntimeControl({
      isRunning: () => runtime !== undefined,
      stop: async () => {
        const stopping = runtime
        runtime = undefined
        await stopping?.close()
      },
      start: async () => {
        if (runtime === undefined) await startRuntime()
      },
    })
    consoleApi = new ConsoleApi({
      agentCore: memoryClient,
      runtimeArn: DEV_RUNTIME_ARN,
      memoryId,
      mcp: { url: mcp.url, bearerToken: token },
      runtime: runtimeControl,
      // The client commands reach this stack through its dev-stack file: endpoint local.url.
      cliSession: () =>
        recallSession(
          dataDir,
          conversationKey({ endpoint: local.url, region: env.AWS_REGION }, DEV_RUNTIME_ARN),
        ),
    })
    const consolePort = options.consolePort ?? env.CONSOLE_PORT
    devConsole = await ConsoleServer.start({
      api: consoleApi,
      port: consolePort,
      host: env.CONSOLE_HOST,
      defaults: { actorId: DEFAULT_ACTOR_ID, memoryId, runtimeArn: DEV_RUNTIME_ARN },
      logger: stderrLogger,
    }).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
        throw new CliUsageError(
          `the console's port ${consolePort} is in use: give another with --console-port or CONSOLE_PORT (0 picks a free one)`,
        )
      throw error
    })
    if (!isLoopback(env.CONSOLE_HOST))
      console.log(
        `  warning: the console listens on ${env.CONSOLE_HOST}, beyond this machine, over plain HTTP; anyone with its URL can use it as any actor`,
      )
    wroteStack = true
    console.log(`longrun local AgentCore service listening on ${local.url}`)
    console.log(`longrun MCP server listening on ${mcp.url}`)
    console.log(`longrun agent runtime listening on ${runtime.server.url}`)
    console.log(`longrun console: ${devConsole.openUrl}`)
    console.log(`  model:            ${describeModel(provider, runtimeEnv, local.url)}`)
    console.log(`  memory id:        ${memoryId}`)
    console.log(`  runtime ARN:      ${DEV_RUNTIME_ARN}`)
    console.log(`  MCP bearer token: ${env.MCP_BEARER_TOKEN ? '(MCP_BEARER_TOKEN)' : token}`)
    console.log(`  data:             ${dataDir}`)
    console.log(
      `  try it:           npx longrun invoke "train a model called fraud-v1 for 30 epochs"   (${
        options.dataDir === undefined && env.LONGRUN_DATA_DIR === MCP_SERVER_DEFAULTS.dataDir
          ? 'from this directory or any below it'
          : `with LONGRUN_DATA_DIR=${dataDir}`
      })`,
    )
    console.log('  (Ctrl-C to stop)')
    const signal = await waitForShutdownSignal()
    console.log(`signal=${signal} | stopping`)
  } finally {
    if (wroteStack) await removeDevStack(dataDir)
    await devConsole?.close()
    await consoleApi?.close()
    // A stop or start the console asked for finishes first, so no turn is cut off mid-write.
    await runtimeControl?.settled()
    await runtime?.close()
    await mcp?.close()
    memoryClient.destroy()
    await local.close()
    await telemetry.shutdown()
  }
  console.log('stopped')
}

/** The model line of the banner: which provider, and whether it is the local stand-in. */
function describeModel(provider: string, env: Environment, localUrl: string): string {
  if (provider === 'demo') return 'demo (the offline demo model; set MODEL_PROVIDER for a real one)'
  const local =
    (provider === 'bedrock' && env.BEDROCK_ENDPOINT === localUrl) ||
    (provider === 'openai' && env.OPENAI_BASE_URL === `${localUrl}/v1`)
  return local ? `${provider} (the local endpoint, answering with the demo model)` : provider
}

/**
 * The runtime's environment in the dev stack: the local service for memory, the dev memory as
 * default, the MCP server with its token, and the local model endpoints for bedrock and openai
 * unless the user pointed them elsewhere.
 */
function devRuntimeEnv(
  env: Environment,
  stack: { port: number; localUrl: string; memoryId: string; mcpUrl: string; token: string },
): Environment {
  return {
    ...env,
    PORT: stack.port,
    RUNTIME_HOST: env.RUNTIME_HOST ?? '127.0.0.1',
    AGENTCORE_ENDPOINT: stack.localUrl,
    // The local memory: a MEMORY_ID meant for AWS does not exist here.
    MEMORY_ID: stack.memoryId,
    MCP_SERVER_URL: stack.mcpUrl,
    MCP_BEARER_TOKEN: stack.token,
    BEDROCK_ENDPOINT: env.BEDROCK_ENDPOINT ?? stack.localUrl,
    BEDROCK_MODEL_ID: env.BEDROCK_MODEL_ID ?? DEFAULT_BEDROCK_MODEL_ID,
    OPENAI_BASE_URL: env.OPENAI_BASE_URL ?? `${stack.localUrl}/v1`,
    OPENAI_API_KEY: env.OPENAI_API_KEY ?? 'local',
    OPENAI_MODEL: env.OPENAI_MODEL ?? 'longrun-demo',
  }
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

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}
