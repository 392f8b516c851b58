/**
 * The AWS SDK client of the AgentCore data plane as the client commands build it (SigV4-signed),
 * apart from the target's resolution so a command that needs no SDK does not load it.
 */
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import type { CliTarget } from './cli-target.ts'

/** The AgentCore data-plane client of a target (invocations and memory alike). */
export function clientFor(target: CliTarget): BedrockAgentCoreClient {
  return new BedrockAgentCoreClient({
    region: target.region,
    ...(target.endpoint !== undefined && { endpoint: target.endpoint }),
    ...(target.credentials !== undefined && { credentials: target.credentials }),
  })
}
