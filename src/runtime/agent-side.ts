/**
 * The agent side of the runtime the environment describes: the AgentCore Memory client, the model
 * and the invocation handler. The entrypoint loads this module on the first invocation, so the
 * runtime starts and answers /ping without Strands, the AWS SDK clients or a model SDK loaded.
 */
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import {
  buildModel,
  describeModelEndpoint,
  type ModelProviderConfig,
  type StaticCredentials,
} from '../agent/index.ts'
import type { Environment } from '../config.ts'
import type { MemoryLogger } from '../memory/index.ts'
import { countMemoryCalls } from '../telemetry/index.ts'
import { createAgentInvocationHandler, type InvocationHandler } from './invocation-handler.ts'
import type { PendingWrites } from './pending-writes.ts'

/** What the agent side is built from; the model's configuration is checked already. */
export interface AgentSideConfig {
  readonly env: Environment
  readonly model: ModelProviderConfig
  /** Credentials of the memory client (the default AWS chain when absent). */
  readonly memoryCredentials?: StaticCredentials | undefined
  readonly pendingWrites: PendingWrites
  readonly logger: MemoryLogger
}

/** The built agent side: its handler, and how to release its clients once the server is closed. */
export interface AgentSide {
  readonly handler: InvocationHandler
  close(): void
}

/** Builds the memory client, the model and the handler. */
export async function startAgentSide(config: AgentSideConfig): Promise<AgentSide> {
  const { env } = config
  const model = await buildModel(config.model)
  // The session manager retries with the same clientToken itself, so the client does not retry on its own.
  const memoryClient = new BedrockAgentCoreClient({
    region: env.AWS_REGION,
    maxAttempts: 1,
    ...(env.AGENTCORE_ENDPOINT !== undefined && { endpoint: env.AGENTCORE_ENDPOINT }),
    ...(config.memoryCredentials !== undefined && { credentials: config.memoryCredentials }),
  })
  // Each invocation's memory calls, for the `longrun.invocation.memory_calls` metric.
  countMemoryCalls(memoryClient)
  const handler = createAgentInvocationHandler({
    model,
    modelEndpoint: describeModelEndpoint(config.model),
    memoryClient,
    mcp:
      env.MCP_SERVER_URL === undefined
        ? undefined
        : { url: env.MCP_SERVER_URL, bearerToken: env.MCP_BEARER_TOKEN },
    conversationWindow: env.AGENT_CONVERSATION_WINDOW,
    pendingWrites: config.pendingWrites,
    logger: config.logger,
  })
  return { handler, close: () => memoryClient.destroy() }
}
