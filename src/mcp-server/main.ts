/**
 * Runs the long-running MCP server with the example tools, configured from the environment:
 * `node src/mcp-server/main.ts`. Prints the server URL on stdout (logs go to stderr).
 */
import { resolve } from 'node:path'
import { loadEnvironment } from '../config.ts'
import type { AuthConfig } from './auth.ts'
import { McpServerError } from './errors.ts'
import { stderrLogger } from './logger.ts'
import { LongRunningMcpServer, type LongRunningMcpServerConfig } from './mcp-server.ts'
import { modelTrainingTool, textStatisticsTool } from './tools/index.ts'

/** Reads the server's configuration from environment variables (documented in the README). */
export function configFromEnv(env: NodeJS.ProcessEnv): LongRunningMcpServerConfig {
  // Variables the whole project shares are parsed and checked once, in src/config.ts.
  const shared = loadEnvironment(env)
  const dataDir = resolve(shared.LONGRUN_DATA_DIR)
  return {
    port: shared.MCP_PORT,
    host: env.MCP_HOST ?? '0.0.0.0',
    dataDir,
    auth: authFromEnv(env),
    region: shared.AWS_REGION,
    ...(shared.AGENTCORE_ENDPOINT !== undefined && { agentCoreEndpoint: shared.AGENTCORE_ENDPOINT }),
    heartbeatIntervalMs: integer(env, 'MCP_HEARTBEAT_INTERVAL_MS', 10_000),
    shutdownGraceMs: integer(env, 'MCP_SHUTDOWN_GRACE_MS', 10_000),
    taskTtlMs: integer(env, 'MCP_TASK_TTL_SECONDS', 7 * 24 * 3600) * 1000,
    maxBodyBytes: integer(env, 'MCP_MAX_BODY_BYTES', 4 * 1024 * 1024),
    deliveryBaseDelayMs: integer(env, 'MCP_DELIVERY_BASE_DELAY_MS', 200),
    deliveryMaxDelayMs: integer(env, 'MCP_DELIVERY_MAX_DELAY_MS', 60_000),
    logger: stderrLogger,
    tools: [
      modelTrainingTool({ dataDir, epochDelayMs: integer(env, 'MCP_TRAINING_EPOCH_DELAY_MS', 0) }),
      textStatisticsTool(),
    ],
  }
}

function authFromEnv(env: NodeJS.ProcessEnv): AuthConfig {
  if (env.MCP_JWT_ISSUER !== undefined && env.MCP_JWT_ISSUER !== '') {
    if (!env.MCP_JWKS_URL || !env.MCP_JWT_AUDIENCE) {
      throw new McpServerError(
        'INVALID_CONFIG',
        'MCP_JWT_ISSUER needs MCP_JWKS_URL and MCP_JWT_AUDIENCE as well',
      )
    }
    return {
      kind: 'jwt',
      issuer: env.MCP_JWT_ISSUER,
      audience: env.MCP_JWT_AUDIENCE.split(',').map((each) => each.trim()),
      jwks: env.MCP_JWKS_URL,
      // Safe by default: only MCP_JWT_SUBJECT_IS_ACTOR=false lets a token name another actor.
      requireSubjectMatchesActor: env.MCP_JWT_SUBJECT_IS_ACTOR !== 'false',
      ...(env.MCP_JWT_SUBJECT_CLAIM !== undefined &&
        env.MCP_JWT_SUBJECT_CLAIM !== '' && { subjectClaim: env.MCP_JWT_SUBJECT_CLAIM }),
    }
  }
  if (env.MCP_BEARER_TOKEN !== undefined && env.MCP_BEARER_TOKEN !== '') {
    return { kind: 'bearer', token: env.MCP_BEARER_TOKEN }
  }
  if (env.MCP_AUTH === 'none') return { kind: 'none' }
  throw new McpServerError(
    'INVALID_CONFIG',
    'set MCP_BEARER_TOKEN, or MCP_JWT_ISSUER + MCP_JWT_AUDIENCE + MCP_JWKS_URL, or MCP_AUTH=none behind a gateway that authenticates',
  )
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 0) {
    throw new McpServerError(
      'INVALID_CONFIG',
      `${name} must be a non-negative integer (got ${JSON.stringify(raw)})`,
    )
  }
  return value
}

/** Starts the server and stops it cleanly on SIGTERM/SIGINT. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<LongRunningMcpServer> {
  const config = configFromEnv(env)
  const server = await LongRunningMcpServer.start(config)
  process.stdout.write(`${server.url}\n`)
  const stop = () => {
    // close() bounds its wait by the grace period; this backstop covers a stuck close itself.
    setTimeout(() => process.exit(1), (config.shutdownGraceMs ?? 10_000) + 5_000).unref()
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
  return server
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`level=error | ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
