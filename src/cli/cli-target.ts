/**
 * Which AgentCore the client commands (`invoke`, `chat`, `console`, `tasks`, `memory`) talk to:
 * flags first, then the environment, then the local stack `longrun dev` runs (its file is looked
 * for from the working directory upwards). When something only the stack could supply is missing,
 * the error says whether the stack is down or was not found, and how to get one.
 */
import type { StaticCredentials } from '../agent/index.ts'
import type { Environment } from '../config.ts'
import type { BearerToken as InvocationBearerToken } from '../runtime-client/index.ts'
import { isLoopbackUrl } from '../shared/loopback-url.ts'
import { CliUsageError, McpTokenMismatchError, StackDownError, StackNotFoundError } from './cli-errors.ts'
import { confirmStackAnswers, type DevStack, findDevStack, type StackLookup } from './dev-stack-file.ts'

/** The local service checks a signature's shape, not its secret: any static pair will do. */
export const LOCAL_CREDENTIALS: StaticCredentials = {
  accessKeyId: 'longrun-local',
  secretAccessKey: 'longrun-local',
}

/** A bearer token for invocations, and where it came from (named when it is refused). */
export interface BearerToken extends InvocationBearerToken {
  readonly source: '--bearer-token' | 'AGENTCORE_BEARER_TOKEN'
}

/** Where the client commands send their requests. */
export interface CliTarget {
  /** The AgentCore endpoint; undefined means AWS's own for the region. */
  readonly endpoint: string | undefined
  readonly region: string
  /** Static credentials for a local endpoint; the default AWS chain otherwise. */
  readonly credentials: StaticCredentials | undefined
  /** Sign invocations with this token instead of SigV4 (a runtime behind a JWT authorizer). */
  readonly bearerToken: BearerToken | undefined
  readonly runtimeArn: string | undefined
  readonly memoryId: string | undefined
  readonly mcpUrl: string | undefined
  readonly mcpBearerToken: string | undefined
  /** The running `longrun dev` stack, when that is the target. */
  readonly devStack: DevStack | undefined
  /** The data directory of this target (remembered sessions): the stack's when one was found. */
  readonly dataDir: string
  /** What the look for the local stack found, to explain a value only the stack could have given. */
  readonly stack: StackLookup
  /** MCP_BEARER_TOKEN is set and differs from the token of the stack's MCP server. */
  readonly mcpTokenMismatch: boolean
}

/** Flags the client commands share. */
export interface TargetFlags {
  readonly arn?: string | undefined
  readonly endpoint?: string | undefined
  readonly memory?: string | undefined
  readonly region?: string | undefined
  readonly bearerToken?: string | undefined
}

/** Resolves flags, environment and the dev stack into one target. */
export async function resolveTarget(env: Environment, flags: TargetFlags): Promise<CliTarget> {
  const explicitArn = flags.arn ?? env.AGENT_RUNTIME_ARN
  const explicitEndpoint = flags.endpoint ?? env.AGENTCORE_ENDPOINT
  const found = findDevStack({ dataDir: env.LONGRUN_DATA_DIR })
  // The stack is the target when nothing names another endpoint or runtime, or the endpoint named is its own.
  const isTarget = (stack: DevStack) =>
    explicitEndpoint === undefined ? explicitArn === undefined : explicitEndpoint === stack.agentCoreEndpoint
  const stack = found.state === 'running' && isTarget(found.stack) ? await confirmStackAnswers(found) : found
  const devStack = stack.state === 'running' && isTarget(stack.stack) ? stack.stack : undefined
  const endpoint = explicitEndpoint ?? devStack?.agentCoreEndpoint
  const bearerToken: BearerToken | undefined =
    flags.bearerToken !== undefined
      ? { value: flags.bearerToken, source: '--bearer-token' }
      : env.AGENTCORE_BEARER_TOKEN !== undefined
        ? { value: env.AGENTCORE_BEARER_TOKEN, source: 'AGENTCORE_BEARER_TOKEN' }
        : undefined
  return {
    endpoint,
    region: flags.region ?? env.AWS_REGION,
    // Against a local endpoint with no credentials of one's own, the local pair does.
    credentials:
      endpoint !== undefined &&
      isLoopbackUrl(endpoint) &&
      env.AWS_ACCESS_KEY_ID === undefined &&
      env.AWS_PROFILE === undefined
        ? LOCAL_CREDENTIALS
        : undefined,
    bearerToken,
    runtimeArn: explicitArn ?? devStack?.runtimeArn,
    memoryId: flags.memory ?? env.MEMORY_ID ?? devStack?.memoryId,
    mcpUrl: env.MCP_SERVER_URL ?? devStack?.mcpUrl,
    mcpBearerToken: env.MCP_BEARER_TOKEN ?? devStack?.mcpBearerToken,
    devStack,
    dataDir: stack.state === 'not-found' ? env.LONGRUN_DATA_DIR : stack.dataDir,
    stack,
    mcpTokenMismatch:
      devStack !== undefined &&
      env.MCP_BEARER_TOKEN !== undefined &&
      env.MCP_BEARER_TOKEN !== devStack.mcpBearerToken,
  }
}

/** The runtime ARN, or an error saying where one comes from. */
export function requireRuntimeArn(target: CliTarget): string {
  if (target.runtimeArn !== undefined) return target.runtimeArn
  throw missing(target, 'no agent runtime to invoke', 'give --arn / AGENT_RUNTIME_ARN for a deployed runtime')
}

/** The memory id, or an error saying where one comes from. */
export function requireMemoryId(target: CliTarget): string {
  if (target.memoryId !== undefined) return target.memoryId
  throw missing(target, 'no memory id', 'give --memory or MEMORY_ID')
}

/** The MCP server (`url` from a flag, else the target's) and its token, or an error saying what is wrong. */
export function requireMcp(
  target: CliTarget,
  url: string | undefined = target.mcpUrl,
): { readonly url: string; readonly token: string | undefined } {
  if (url === undefined) throw missing(target, 'no MCP server', 'give --mcp-url or MCP_SERVER_URL')
  if (target.mcpTokenMismatch && url === target.devStack?.mcpUrl)
    throw new McpTokenMismatchError(
      `MCP_BEARER_TOKEN in your environment is not the token of the local stack's MCP server (${url}, ` +
        `started from ${target.dataDir}): unset MCP_BEARER_TOKEN, or start the stack with it set`,
    )
  return { url, token: target.mcpBearerToken }
}

/** The error for a value nothing gave: the stack is down, was not found, or is not the target. */
function missing(target: CliTarget, what: string, otherwise: string): Error {
  const { stack } = target
  if (stack.state === 'down')
    return new StackDownError(
      `${what}: the local stack of ${stack.dataDir} is down: ${stack.reason}; start it again with \`npm start\`, or ${otherwise}`,
    )
  if (stack.state === 'not-found')
    return new StackNotFoundError(
      `${what}: no local stack found (looked for ${stack.searched}); start one with \`npm start\` in the project, or ${otherwise}`,
    )
  return new CliUsageError(`${what} at ${target.endpoint ?? `AWS (${target.region})`}: ${otherwise}`)
}
