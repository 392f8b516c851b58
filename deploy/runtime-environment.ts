/**
 * The environment each runtime's container gets: the variables src/config.ts reads, wired to this
 * stack's resources. What is left out keeps the project's default (see .env.example); no value here
 * is a secret, since callers' tokens are checked against the issuer's public key set.
 */
import { Aws } from 'aws-cdk-lib'
import type { TaskBackend } from './stack-parameters.ts'

/** The AgentCore Runtime container contract: the agent on 8080, the MCP server on 8000 at /mcp. */
export const AGENT_PORT = 8080
export const MCP_PORT = 8000
export const MCP_PATH = '/mcp'
/** A Runtime container may write under /tmp; the MCP server's SQLite tasks and models go there. */
export const MCP_DATA_DIR = '/tmp/longrun'

/** How the servers check callers' tokens (the same issuer for both): an audience, client ids, or both. */
export interface CallerTokens {
  readonly issuer: string
  readonly jwksUrl: string
  readonly audiences: readonly string[]
  readonly clientIds: readonly string[]
}

/** `<prefix>_AUDIENCE` and `<prefix>_CLIENT_IDS`, each only when there is something to accept. */
function tokenChecks(prefix: 'RUNTIME_JWT' | 'MCP_JWT', callers: CallerTokens): Record<string, string> {
  return {
    ...(callers.audiences.length > 0 && { [`${prefix}_AUDIENCE`]: callers.audiences.join(',') }),
    ...(callers.clientIds.length > 0 && { [`${prefix}_CLIENT_IDS`]: callers.clientIds.join(',') }),
  }
}

export interface AgentEnvironmentConfig {
  readonly memoryId: string
  readonly modelId: string
  /** The MCP runtime's invocation URL (its ARN URL-encoded). */
  readonly mcpServerUrl: string
  readonly callers: CallerTokens
  readonly otlpEndpoint: string | undefined
}

export function agentEnvironment(config: AgentEnvironmentConfig): Record<string, string> {
  const { callers } = config
  return {
    AWS_REGION: Aws.REGION,
    PORT: String(AGENT_PORT),
    RUNTIME_HOST: '0.0.0.0',
    MODEL_PROVIDER: 'bedrock',
    BEDROCK_MODEL_ID: config.modelId,
    MEMORY_ID: config.memoryId,
    // The caller's token is passed on to the MCP server (no MCP_BEARER_TOKEN), which checks it too.
    MCP_SERVER_URL: config.mcpServerUrl,
    RUNTIME_JWT_ISSUER: callers.issuer,
    RUNTIME_JWKS_URL: callers.jwksUrl,
    ...tokenChecks('RUNTIME_JWT', callers),
    OTEL_SERVICE_NAME: 'longrun-runtime',
    ...(config.otlpEndpoint !== undefined && { OTEL_EXPORTER_OTLP_ENDPOINT: config.otlpEndpoint }),
  }
}

export interface McpServerEnvironmentConfig {
  readonly taskBackend: TaskBackend
  /** REDIS_URL of the redis backend. */
  readonly redisUrl: string | undefined
  readonly callers: CallerTokens
  readonly otlpEndpoint: string | undefined
  /**
   * The agent runtime's name: the one runtime a task's end wakes. Its name, not its ARN: the agent's
   * environment holds the MCP runtime's ARN, so the reverse reference would be a cycle.
   */
  readonly wakeRuntimeName: string
}

export function mcpServerEnvironment(config: McpServerEnvironmentConfig): Record<string, string> {
  const { callers } = config
  if ((config.taskBackend === 'redis') !== (config.redisUrl !== undefined))
    throw new TypeError('REDIS_URL goes with the redis task backend, and only with it')
  return {
    AWS_REGION: Aws.REGION,
    MCP_HOST: '0.0.0.0',
    MCP_PORT: String(MCP_PORT),
    LONGRUN_DATA_DIR: MCP_DATA_DIR,
    MCP_JWT_ISSUER: callers.issuer,
    MCP_JWKS_URL: callers.jwksUrl,
    ...tokenChecks('MCP_JWT', callers),
    // The agent names the caller's subject as the actor: a token never writes into another's memory.
    MCP_JWT_SUBJECT_IS_ACTOR: 'true',
    MCP_TASK_BACKEND: config.taskBackend,
    MCP_WAKE_RUNTIME: config.wakeRuntimeName,
    // Every MCP microVM also runs tasks: there are no separate workers on AgentCore.
    ...(config.redisUrl !== undefined && { REDIS_URL: config.redisUrl, MCP_RUN_WORKER: 'true' }),
    OTEL_SERVICE_NAME: 'longrun-mcp-server',
    ...(config.otlpEndpoint !== undefined && { OTEL_EXPORTER_OTLP_ENDPOINT: config.otlpEndpoint }),
  }
}
