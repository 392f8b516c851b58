/**
 * The agent side of a runtime: the AgentCore Memory client, the model and the invocation handler.
 * The entrypoint loads this module on the first invocation, so the runtime starts and answers
 * /ping without Strands, the AWS SDK clients or a model SDK loaded.
 */
import type { ContinuationLimits } from './continuation-turn.ts'
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import {
  buildModel,
  describeModelEndpoint,
  type ModelProviderConfig,
  type StaticCredentials,
} from '../agent/index.ts'
import type { MemoryLogger } from '../memory/index.ts'
import { countMemoryCalls } from '../telemetry/index.ts'
import { createAgentInvocationHandler, type InvocationHandler } from './invocation-handler.ts'
import type { PendingWrites } from './pending-writes.ts'

/** What the agent side is built from; the model's configuration is checked already. */
export interface AgentSideConfig {
  /** The AWS region of the memory client. */
  readonly region: string
  /** Another AgentCore endpoint (the local service's); AWS's when absent. */
  readonly agentCoreEndpoint?: string | undefined
  /** The long-running MCP server; without a bearer token the caller's verified token is passed on. */
  readonly mcp?: { readonly url: string; readonly bearerToken?: string | undefined } | undefined
  readonly conversationWindow?: number | undefined
  /** Tools that ask the caller before each call (`AGENT_APPROVAL_TOOLS`). */
  readonly approvalTools?: readonly string[] | undefined
  /** How far the agent acts on finished tasks on its own (RUNTIME_CONTINUATION_DEPTH, RUNTIME_WAKES_PER_HOUR). */
  readonly continuations?: ContinuationLimits | undefined
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
  const model = await buildModel(config.model)
  // The session manager retries with the same clientToken itself, so the client does not retry on its own.
  const memoryClient = new BedrockAgentCoreClient({
    region: config.region,
    maxAttempts: 1,
    ...(config.agentCoreEndpoint !== undefined && { endpoint: config.agentCoreEndpoint }),
    ...(config.memoryCredentials !== undefined && { credentials: config.memoryCredentials }),
  })
  // Each invocation's memory calls, for the `longrun.invocation.memory_calls` metric.
  countMemoryCalls(memoryClient)
  const handler = createAgentInvocationHandler({
    model,
    modelEndpoint: describeModelEndpoint(config.model),
    memoryClient,
    mcp: config.mcp,
    conversationWindow: config.conversationWindow,
    approvalTools: config.approvalTools,
    continuations: config.continuations,
    pendingWrites: config.pendingWrites,
    logger: config.logger,
  })
  return { handler, close: () => memoryClient.destroy() }
}
