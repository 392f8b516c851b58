/**
 * The AgentCore Runtime entrypoint: `node src/entrypoint.ts` (or `longrun runtime`) serves
 * `POST /invocations` and `GET /ping` on PORT (8080), building a Strands agent per invocation whose
 * conversation lives in AgentCore Memory and whose tools come from the long-running MCP server.
 * Configured by the environment (see .env.example); SIGTERM drains it. A cold start loads only what
 * checking the configuration and serving /ping need; the agent side (src/runtime/agent-side.ts)
 * is loaded by the first invocation.
 */
import { ModelCredentialsError } from './agent/errors.ts'
import type { ModelProvider, ModelProviderConfig, StaticCredentials } from './agent/model-provider-config.ts'
import { checkBedrockCredentials } from './agent/model-provider.ts'
import {
  ConfigError,
  type Environment,
  jwtSettingsFromEnv,
  loadEnvironment,
  modelProviderFromEnv,
} from './config.ts'
import { explainIdViolation, MEMORY_ID_RULE } from './contract/index.ts'
import type { AgentSide } from './runtime/agent-side.ts'
import { createCallerResolver } from './runtime/caller-identity.ts'
import type { InvocationHandler } from './runtime/invocation-handler.ts'
import { PendingWrites } from './runtime/pending-writes.ts'
import { AgentRuntimeServer } from './runtime/runtime-server.ts'
import { HealthStatus } from './shared/health-status.ts'
import { type Logger, stderrLogger } from './shared/logger.ts'
import { exitOnStopSignal } from './shared/stop-signal.ts'
import { startWithTelemetry } from './telemetry/index.ts'

/** Choices the environment does not make (`longrun dev` passes some). */
export interface RuntimeStartOptions {
  /** The provider when MODEL_PROVIDER is unset; without it, unset is an error naming the variable. */
  readonly modelFallback?: ModelProvider
  /** Credentials of the memory client (the default AWS chain when absent). */
  readonly memoryCredentials?: StaticCredentials
  /** Credentials of the Bedrock client (the default AWS chain when absent). */
  readonly modelCredentials?: StaticCredentials
  readonly logger?: Logger
}

/** A started runtime and how to stop it (drain, flush what memory is still owed, release clients). */
export interface StartedRuntime {
  readonly server: AgentRuntimeServer
  close(): Promise<void>
}

/** Starts the runtime the environment describes. Bad configuration throws before anything listens. */
export async function startRuntimeFromEnv(
  env: Environment,
  options: RuntimeStartOptions = {},
): Promise<StartedRuntime> {
  const logger = options.logger ?? stderrLogger
  const fromEnv = modelProviderFromEnv(env, options.modelFallback)
  const modelConfig =
    fromEnv.provider === 'bedrock' && options.modelCredentials !== undefined
      ? { ...fromEnv, credentials: options.modelCredentials }
      : fromEnv
  // Missing credentials stop the start, not the first model call.
  if (modelConfig.provider === 'bedrock') await checkCredentials(modelConfig)
  const callers = createCallerResolver(jwtSettingsFromEnv(env, 'RUNTIME'), {
    wakeSubjects: env.RUNTIME_JWT_WAKE_SUBJECTS,
  })
  const memoryIdProblem =
    env.MEMORY_ID === undefined ? undefined : explainIdViolation(env.MEMORY_ID, MEMORY_ID_RULE)
  if (memoryIdProblem !== undefined) throw new ConfigError(`MEMORY_ID ${memoryIdProblem}`, ['MEMORY_ID'])
  if (env.MCP_SERVER_URL === undefined)
    logger.log('warn', 'MCP_SERVER_URL is not set: the agent has no long-running tools')
  // The session manager's notes (how each restore went, events added from elsewhere) are info lines.
  const memoryLogger = {
    warn: (line: string) => logger.log('warn', line),
    debug: (line: string) => logger.log('info', line),
  }
  const health = new HealthStatus()
  const pendingWrites = new PendingWrites({
    onOwedChange: (owed) => health.setDeliveryOwed(owed),
    logger: memoryLogger,
  })
  // The agent side (Strands, the memory client, the model's SDK: most of a start) is loaded by the
  // first invocation, which waits for it: the runtime answers /ping without it.
  let agentSide: Promise<AgentSide> | undefined
  const loadAgentSide = (): Promise<AgentSide> => {
    if (agentSide === undefined) {
      const loading = import('./runtime/agent-side.ts').then(({ startAgentSide }) =>
        startAgentSide({
          region: env.AWS_REGION,
          agentCoreEndpoint: env.AGENTCORE_ENDPOINT,
          mcp:
            env.MCP_SERVER_URL === undefined
              ? undefined
              : { url: env.MCP_SERVER_URL, bearerToken: env.MCP_BEARER_TOKEN },
          conversationWindow: env.AGENT_CONVERSATION_WINDOW,
          approvalTools: env.AGENT_APPROVAL_TOOLS,
          continuations: { depth: env.RUNTIME_CONTINUATION_DEPTH, perHour: env.RUNTIME_WAKES_PER_HOUR },
          model: modelConfig,
          memoryCredentials: options.memoryCredentials,
          pendingWrites,
          logger: memoryLogger,
        }),
      )
      agentSide = loading
      // A load that failed is tried again by the next invocation.
      loading.catch(() => {
        if (agentSide === loading) agentSide = undefined
      })
    }
    return agentSide
  }
  const handler: InvocationHandler = async (invocation, emit) =>
    (await loadAgentSide()).handler(invocation, emit)
  const server = await AgentRuntimeServer.start({
    handler,
    port: env.PORT,
    ...(env.RUNTIME_HOST !== undefined && { host: env.RUNTIME_HOST }),
    defaultMemoryId: env.MEMORY_ID,
    callers,
    onDisconnect: env.RUNTIME_ON_DISCONNECT,
    turnTimeoutMs: env.RUNTIME_TURN_TIMEOUT_MS,
    shutdownGraceMs: env.RUNTIME_SHUTDOWN_GRACE_MS,
    maxPayloadBytes: env.RUNTIME_MAX_PAYLOAD_BYTES,
    maxPromptChars: env.RUNTIME_MAX_PROMPT_CHARS,
    health,
    logger,
  })
  logger.log('info', 'agent runtime listening', {
    url: server.url,
    model: modelConfig.provider,
    memory_id: env.MEMORY_ID,
    mcp: env.MCP_SERVER_URL,
  })
  return {
    server,
    async close() {
      await server.close()
      await pendingWrites.flushAll()
      ;(await agentSide?.catch(() => undefined))?.close()
    },
  }
}

/** Bedrock credentials checked at start; none is a ConfigError naming the variables that give some. */
async function checkCredentials(
  config: Extract<ModelProviderConfig, { provider: 'bedrock' }>,
): Promise<void> {
  try {
    await checkBedrockCredentials(config)
  } catch (error) {
    if (!(error instanceof ModelCredentialsError)) throw error
    throw new ConfigError(
      `${error.message}: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run with an IAM role`,
      ['AWS_ACCESS_KEY_ID', 'AWS_PROFILE'],
    )
  }
}

/**
 * Runs the runtime until SIGTERM or SIGINT: prints its URL on stdout, then drains (running turns
 * get RUNTIME_SHUTDOWN_GRACE_MS to finish, memory is flushed) and exits.
 */
export async function main(
  source: Record<string, string | undefined> = process.env,
): Promise<StartedRuntime> {
  const env = loadEnvironment(source)
  const { service: runtime, telemetry } = await startWithTelemetry(
    { serviceName: 'longrun-runtime', env },
    () => startRuntimeFromEnv(env),
  )
  process.stdout.write(`${runtime.server.url}\n`)
  // close() bounds its wait by the grace period; the backstop covers a stuck close itself.
  exitOnStopSignal(async () => {
    await runtime.close()
    // Spans and metrics still buffered go out before the process ends.
    await telemetry.shutdown()
  }, env.RUNTIME_SHUTDOWN_GRACE_MS + 15_000)
  return runtime
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`level=error | ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
