/**
 * Which AgentCore the client commands (`invoke`, `tasks`, `memory`) talk to: flags first, then the
 * environment, then the local stack `longrun dev` runs from this data directory. Without an ARN
 * and a running stack there is nothing to talk to, and the error says how to get one.
 */
import { BedrockAgentCoreClient } from '@aws-sdk/client-bedrock-agentcore'
import { InvalidArgumentError } from 'commander'
import type { StaticCredentials } from '../agent/index.ts'
import type { Environment } from '../config.ts'
import { CliUsageError } from './cli-errors.ts'
import { type DevStack, readDevStack } from './dev-stack-file.ts'

/** The local service checks a signature's shape, not its secret: any static pair will do. */
export const LOCAL_CREDENTIALS: StaticCredentials = {
  accessKeyId: 'longrun-local',
  secretAccessKey: 'longrun-local',
}

/** Where the client commands send their requests. */
export interface CliTarget {
  /** The AgentCore endpoint; undefined means AWS's own for the region. */
  readonly endpoint: string | undefined
  readonly region: string
  /** Static credentials for a local endpoint; the default AWS chain otherwise. */
  readonly credentials: StaticCredentials | undefined
  readonly runtimeArn: string | undefined
  readonly memoryId: string | undefined
  readonly mcpUrl: string | undefined
  readonly mcpBearerToken: string | undefined
  /** The running `longrun dev` stack, when that is the target. */
  readonly devStack: DevStack | undefined
}

/** Flags the client commands share. */
export interface TargetFlags {
  readonly arn?: string | undefined
  readonly endpoint?: string | undefined
  readonly memory?: string | undefined
  readonly region?: string | undefined
}

/** Resolves flags, environment and the dev stack into one target. */
export function resolveTarget(env: Environment, flags: TargetFlags): CliTarget {
  const devStack = readDevStack(env.LONGRUN_DATA_DIR)
  const explicitArn = flags.arn ?? env.AGENT_RUNTIME_ARN
  const endpoint =
    flags.endpoint ??
    env.AGENTCORE_ENDPOINT ??
    (explicitArn === undefined ? devStack?.agentCoreEndpoint : undefined)
  const useDevStack =
    devStack !== undefined && (endpoint === undefined || endpoint === devStack.agentCoreEndpoint)
  return {
    endpoint,
    region: flags.region ?? env.AWS_REGION,
    // Against a local endpoint with no credentials of one's own, the local pair does.
    credentials:
      endpoint !== undefined &&
      isLoopback(endpoint) &&
      env.AWS_ACCESS_KEY_ID === undefined &&
      env.AWS_PROFILE === undefined
        ? LOCAL_CREDENTIALS
        : undefined,
    runtimeArn: explicitArn ?? (useDevStack ? devStack.runtimeArn : undefined),
    memoryId: flags.memory ?? env.MEMORY_ID ?? (useDevStack ? devStack.memoryId : undefined),
    mcpUrl: env.MCP_SERVER_URL ?? (useDevStack ? devStack.mcpUrl : undefined),
    mcpBearerToken: env.MCP_BEARER_TOKEN ?? (useDevStack ? devStack.mcpBearerToken : undefined),
    devStack: useDevStack ? devStack : undefined,
  }
}

/** The runtime ARN, or an error saying where one comes from. */
export function requireRuntimeArn(target: CliTarget): string {
  if (target.runtimeArn !== undefined) return target.runtimeArn
  throw new CliUsageError(
    'no agent runtime to invoke: start the local stack with `npm start` (longrun dev) in this directory, or give --arn / AGENT_RUNTIME_ARN for a deployed runtime',
  )
}

/** The memory id, or an error saying where one comes from. */
export function requireMemoryId(target: CliTarget): string {
  if (target.memoryId !== undefined) return target.memoryId
  throw new CliUsageError(
    'no memory id: give --memory or MEMORY_ID, or start the local stack with `npm start`',
  )
}

/** The AgentCore data-plane client of a target (invocations and memory alike). */
export function clientFor(target: CliTarget): BedrockAgentCoreClient {
  return new BedrockAgentCoreClient({
    region: target.region,
    ...(target.endpoint !== undefined && { endpoint: target.endpoint }),
    ...(target.credentials !== undefined && { credentials: target.credentials }),
  })
}

/** Parses a port option: 0..65535. */
export function parsePort(value: string, name: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new InvalidArgumentError(`--${name} must be 0..65535, got ${value}`)
  return port
}

/** Parses a number of milliseconds: a whole number, 0 or more. */
export function parseDuration(value: string, name: string): number {
  if (!/^\d+$/.test(value) || Number(value) > 2_147_483_647)
    throw new InvalidArgumentError(`--${name} must be a whole number of milliseconds, got ${value}`)
  return Number(value)
}

function isLoopback(url: string): boolean {
  try {
    return ['127.0.0.1', 'localhost', '[::1]'].includes(new URL(url).hostname)
  } catch {
    return false
  }
}
