/**
 * The environment each runtime's container gets: the variables src/config.ts reads, wired to this
 * stack's resources. What is left out keeps the project's default (see .env.example); no value here
 * is a secret, since callers' tokens are checked against the issuer's public key set.
 */
import { Aws } from 'aws-cdk-lib'
import type { TaskBackend } from './stack-parameters.ts'
import { QUEUE_METRIC } from './task-workers.ts'

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

/** The MCP server's client-credentials client, with which it wakes the agent runtime (JWT). */
export interface WakeClient {
  readonly clientId: string
  readonly tokenUrl: string
  readonly scope: string
  /** The Secrets Manager secret holding the client secret. */
  readonly secretArn: string
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
  /** The MCP server's wake client, whose subject may name a wake's actor. */
  readonly wakeClient: WakeClient | undefined
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
    ...(config.wakeClient !== undefined && { RUNTIME_JWT_WAKE_SUBJECTS: config.wakeClient.clientId }),
    OTEL_SERVICE_NAME: 'longrun-runtime',
    ...(config.otlpEndpoint !== undefined && { OTEL_EXPORTER_OTLP_ENDPOINT: config.otlpEndpoint }),
  }
}

/** The Redis of the redis backend: its URL, and the secret holding its AUTH password. */
export interface RedisAccess {
  readonly url: string
  readonly passwordSecretArn: string
}

/** What every process that runs tasks or delivers their results needs: the MCP server and workers. */
export interface TaskSideConfig {
  readonly taskBackend: TaskBackend
  /** With the redis backend only. */
  readonly redis: RedisAccess | undefined
  readonly otlpEndpoint: string | undefined
  /**
   * The agent runtime's name: the one runtime a task's end wakes. Its name, not its ARN: the agent's
   * environment holds the MCP runtime's ARN, so the reverse reference would be a cycle.
   */
  readonly wakeRuntimeName: string
  /** How the wake authenticates to the agent's JWT authorizer; undefined: SigV4 (refused by one). */
  readonly wakeClient: WakeClient | undefined
  /** The `Deployment` of the queue depth metric the workers are scaled on; undefined: none published. */
  readonly queueMetricDeployment: string | undefined
}

export interface McpServerEnvironmentConfig extends TaskSideConfig {
  readonly callers: CallerTokens
  /** Whether the MCP microVMs run tasks too (redis), besides taking calls. */
  readonly runsTasks: boolean
}

export function mcpServerEnvironment(config: McpServerEnvironmentConfig): Record<string, string> {
  const { callers } = config
  return {
    ...taskSideEnvironment(config),
    MCP_HOST: '0.0.0.0',
    MCP_PORT: String(MCP_PORT),
    MCP_JWT_ISSUER: callers.issuer,
    MCP_JWKS_URL: callers.jwksUrl,
    ...tokenChecks('MCP_JWT', callers),
    // The agent names the caller's subject as the actor: a token never writes into another's memory.
    MCP_JWT_SUBJECT_IS_ACTOR: 'true',
    // The continuation turn reaches this server with the wake client's token, for the woken actor.
    ...(config.wakeClient !== undefined && { MCP_JWT_SERVICE_SUBJECTS: config.wakeClient.clientId }),
    ...(config.redis !== undefined && { MCP_RUN_WORKER: String(config.runsTasks) }),
    OTEL_SERVICE_NAME: 'longrun-mcp-server',
  }
}

/** A `longrun worker` of the ECS service: the task side alone, no HTTP and no callers. */
export function workerEnvironment(config: TaskSideConfig): Record<string, string> {
  if (config.redis === undefined) throw new TypeError('workers take tasks from Redis')
  return { ...taskSideEnvironment(config), OTEL_SERVICE_NAME: 'longrun-worker' }
}

function taskSideEnvironment(config: TaskSideConfig): Record<string, string> {
  if ((config.taskBackend === 'redis') !== (config.redis !== undefined))
    throw new TypeError('REDIS_URL goes with the redis task backend, and only with it')
  return {
    AWS_REGION: Aws.REGION,
    LONGRUN_DATA_DIR: MCP_DATA_DIR,
    MCP_TASK_BACKEND: config.taskBackend,
    ...(config.redis !== undefined && {
      REDIS_URL: config.redis.url,
      REDIS_PASSWORD_SECRET_ARN: config.redis.passwordSecretArn,
    }),
    MCP_WAKE_RUNTIME: config.wakeRuntimeName,
    ...(config.wakeClient !== undefined && {
      MCP_WAKE_TOKEN_URL: config.wakeClient.tokenUrl,
      MCP_WAKE_CLIENT_ID: config.wakeClient.clientId,
      MCP_WAKE_CLIENT_SECRET_ARN: config.wakeClient.secretArn,
      MCP_WAKE_SCOPE: config.wakeClient.scope,
    }),
    ...(config.queueMetricDeployment !== undefined && {
      MCP_QUEUE_METRIC_NAMESPACE: QUEUE_METRIC.namespace,
      MCP_QUEUE_METRIC_DEPLOYMENT: config.queueMetricDeployment,
    }),
    ...(config.otlpEndpoint !== undefined && { OTEL_EXPORTER_OTLP_ENDPOINT: config.otlpEndpoint }),
  }
}
