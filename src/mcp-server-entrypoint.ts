/**
 * Runs the long-running MCP server with the example tools, configured from the environment:
 * `node src/mcp-server-entrypoint.ts` (`--worker`: a Redis task worker). Prints the server URL on
 * stdout (logs go to stderr). The one place the MCP server's processes read the environment.
 */
import { startWithTelemetry } from './telemetry/index.ts'
import { resolve } from 'node:path'
import { ConfigError, type Environment, jwtSettingsFromEnv, loadEnvironment } from './config.ts'
import {
  type AuthConfig,
  LongRunningMcpServer,
  type LongRunningMcpServerConfig,
  type LongRunningTool,
  MCP_SERVER_DEFAULTS,
  type QueueDepthMetricSettings,
  evaluateModelTool,
  modelTrainingTool,
  TaskWorker,
  type TaskWorkerConfig,
  textStatisticsTool,
} from './mcp-server/index.ts'
import { stderrLogger } from './shared/logger.ts'
import { readSecretValue, type SecretReader, secretsManagerReader } from './shared/secret-value.ts'
import { exitOnStopSignal } from './shared/stop-signal.ts'

/**
 * The server's configuration from the environment as src/config.ts parsed and checked it
 * (`loadEnvironment()`; every variable is documented in .env.example).
 */
export function configFromEnv(env: Environment, secrets: StartSecrets = {}): LongRunningMcpServerConfig {
  return {
    port: env.MCP_PORT,
    host: env.MCP_HOST ?? '0.0.0.0',
    dataDir: resolve(env.LONGRUN_DATA_DIR),
    auth: authFromEnv(env),
    region: env.AWS_REGION,
    ...(env.AGENTCORE_ENDPOINT !== undefined && { agentCoreEndpoint: env.AGENTCORE_ENDPOINT }),
    heartbeatIntervalMs: env.MCP_HEARTBEAT_INTERVAL_MS,
    shutdownGraceMs: env.MCP_SHUTDOWN_GRACE_MS,
    taskTtlMs: env.MCP_TASK_TTL_SECONDS * 1000,
    maxBodyBytes: env.MCP_MAX_BODY_BYTES,
    taskConcurrency: env.MCP_TASK_CONCURRENCY,
    queueLimit: env.MCP_TASK_QUEUE_LIMIT,
    leaseMs: env.MCP_TASK_LEASE_MS,
    ...(env.MCP_TASK_BACKEND === 'redis' && {
      redis: {
        url: env.REDIS_URL,
        ...redisPassword(env, secrets),
        runWorker: env.MCP_RUN_WORKER,
        ...queueDepthMetricFromEnv(env),
      },
    }),
    deliveryBaseDelayMs: env.MCP_DELIVERY_BASE_DELAY_MS,
    deliveryMaxDelayMs: env.MCP_DELIVERY_MAX_DELAY_MS,
    ...continuationsFromEnv(env, secrets),
    logger: stderrLogger,
    tools: exampleTools(env),
  }
}

/** The runtime a task's end wakes and the webhook told of it (MCP_WAKE_RUNTIME, MCP_WEBHOOK_*). */
function continuationsFromEnv(
  env: Environment,
  secrets: StartSecrets,
): Pick<LongRunningMcpServerConfig, 'wake' | 'webhook'> {
  const arn = env.MCP_WAKE_RUNTIME
  if ((env.MCP_WEBHOOK_URL === undefined) !== (env.MCP_WEBHOOK_SECRET === undefined))
    throw new ConfigError('a webhook needs both MCP_WEBHOOK_URL and MCP_WEBHOOK_SECRET', [
      env.MCP_WEBHOOK_URL === undefined ? 'MCP_WEBHOOK_URL' : 'MCP_WEBHOOK_SECRET',
    ])
  // The secret itself, or the one read at start from MCP_WAKE_CLIENT_SECRET_ARN (a wake signed with
  // SigV4 instead would be refused by a JWT runtime: no silent fallback).
  if (wakesOn(env) && env.MCP_WAKE_CLIENT_SECRET_ARN !== undefined && secrets.wakeClientSecret === undefined)
    throw unreadSecret('MCP_WAKE_CLIENT_SECRET_ARN')
  const clientSecret = secrets.wakeClientSecret ?? env.MCP_WAKE_CLIENT_SECRET
  const secretGiven = env.MCP_WAKE_CLIENT_SECRET !== undefined || env.MCP_WAKE_CLIENT_SECRET_ARN !== undefined
  const client = [env.MCP_WAKE_TOKEN_URL, env.MCP_WAKE_CLIENT_ID, secretGiven ? true : undefined]
  if (client.some((value) => value !== undefined) && client.some((value) => value === undefined))
    throw new ConfigError(
      'a wake client needs MCP_WAKE_TOKEN_URL, MCP_WAKE_CLIENT_ID and MCP_WAKE_CLIENT_SECRET (or MCP_WAKE_CLIENT_SECRET_ARN) together',
      ['MCP_WAKE_TOKEN_URL', 'MCP_WAKE_CLIENT_ID', 'MCP_WAKE_CLIENT_SECRET'],
    )
  const clientCredentials =
    env.MCP_WAKE_TOKEN_URL !== undefined && env.MCP_WAKE_CLIENT_ID !== undefined && clientSecret !== undefined
      ? {
          tokenUrl: env.MCP_WAKE_TOKEN_URL,
          clientId: env.MCP_WAKE_CLIENT_ID,
          clientSecret,
          ...(env.MCP_WAKE_SCOPE !== undefined && { scope: env.MCP_WAKE_SCOPE }),
        }
      : undefined
  return {
    ...(arn !== undefined &&
      arn !== 'off' && {
        wake: { runtime: arn, ...(clientCredentials !== undefined && { clientCredentials }) },
      }),
    ...(env.MCP_WEBHOOK_URL !== undefined &&
      env.MCP_WEBHOOK_SECRET !== undefined && {
        webhook: { url: env.MCP_WEBHOOK_URL, secret: env.MCP_WEBHOOK_SECRET },
      }),
  }
}

/** The queue depth metric a Redis process publishes (MCP_QUEUE_METRIC_*): none without a namespace. */
function queueDepthMetricFromEnv(env: Environment): { queueDepthMetric?: QueueDepthMetricSettings } {
  if (env.MCP_QUEUE_METRIC_NAMESPACE === undefined) return {}
  return {
    queueDepthMetric: {
      namespace: env.MCP_QUEUE_METRIC_NAMESPACE,
      deployment: env.MCP_QUEUE_METRIC_DEPLOYMENT,
      intervalMs: env.MCP_QUEUE_METRIC_INTERVAL_MS,
      // The region: the server's or worker's own (AWS_REGION), which it passes on.
    },
  }
}

/**
 * What the environment names by reference (REDIS_PASSWORD_SECRET_ARN, MCP_WAKE_CLIENT_SECRET_ARN),
 * read once at start.
 */
export interface StartSecrets {
  readonly redisPassword?: string
  readonly wakeClientSecret?: string
}

/**
 * Reads the secrets the environment names, with `reader` (Secrets Manager in the environment's
 * Region by default): a secret that cannot be read stops the start (SecretValueError naming the
 * variable). The Redis password's secret is JSON, `{"password": "..."}`, as the deploy generates it; the
 * wake client's is the plain secret.
 */
export async function secretsFromEnv(
  env: Environment,
  reader: SecretReader = secretsManagerReader({ region: env.AWS_REGION }),
): Promise<StartSecrets> {
  for (const [plain, byArn] of [
    ['REDIS_PASSWORD', 'REDIS_PASSWORD_SECRET_ARN'],
    ['MCP_WAKE_CLIENT_SECRET', 'MCP_WAKE_CLIENT_SECRET_ARN'],
  ] as const)
    if (env[plain] !== undefined && env[byArn] !== undefined)
      throw new ConfigError(`set ${plain} or ${byArn}, not both`, [plain, byArn])
  // Read side by side, with one client; what reading took is released once both are in.
  const [redisPassword, wakeClientSecret] = await Promise.all([
    env.MCP_TASK_BACKEND === 'redis' && env.REDIS_PASSWORD_SECRET_ARN !== undefined
      ? readSecretValue(reader, {
          variable: 'REDIS_PASSWORD_SECRET_ARN',
          secretId: env.REDIS_PASSWORD_SECRET_ARN,
          jsonKey: 'password',
        })
      : undefined,
    // The Cognito client's secret as the deploy stores it: the plain secret string; only when a
    // task's end wakes anyone.
    wakesOn(env) && env.MCP_WAKE_CLIENT_SECRET_ARN !== undefined
      ? readSecretValue(reader, {
          variable: 'MCP_WAKE_CLIENT_SECRET_ARN',
          secretId: env.MCP_WAKE_CLIENT_SECRET_ARN,
        })
      : undefined,
  ]).finally(() => reader.close?.())
  return {
    ...(redisPassword !== undefined && { redisPassword }),
    ...(wakeClientSecret !== undefined && { wakeClientSecret }),
  }
}

/** A worker takes tasks from Redis: with SQLite there is nothing for it to take. */
function requireRedisBackend(env: Environment): void {
  if (env.MCP_TASK_BACKEND !== 'redis')
    throw new ConfigError(
      'a worker takes tasks from Redis: set MCP_TASK_BACKEND=redis and REDIS_URL (the SQLite backend runs tasks in the server itself)',
      ['MCP_TASK_BACKEND'],
    )
}

/**
 * Redis AUTH's password: from the secret read at start, else REDIS_PASSWORD, else none (or the one
 * REDIS_URL carries, alone).
 */
function redisPassword(env: Environment, secrets: StartSecrets): { password?: string } {
  if (env.REDIS_PASSWORD_SECRET_ARN !== undefined && secrets.redisPassword === undefined)
    throw unreadSecret('REDIS_PASSWORD_SECRET_ARN')
  // A password in the URL would silently win over the other two (the Redis client prefers it).
  if (new URL(env.REDIS_URL).password !== '')
    for (const other of ['REDIS_PASSWORD', 'REDIS_PASSWORD_SECRET_ARN'] as const)
      if (env[other] !== undefined)
        throw new ConfigError(
          `REDIS_URL carries a password already: give it there or in ${other}, not both`,
          ['REDIS_URL', other],
        )
  const password = secrets.redisPassword ?? env.REDIS_PASSWORD
  return password === undefined ? {} : { password }
}

/** A secret the environment names by ARN that was not read at start (secretsFromEnv reads them). */
function unreadSecret(variable: string): ConfigError {
  return new ConfigError(`${variable} names a secret read at start, and none was read`, [variable])
}

/** Whether a task's end wakes an agent runtime (MCP_WAKE_RUNTIME set, and not `off`). */
function wakesOn(env: Environment): boolean {
  return env.MCP_WAKE_RUNTIME !== undefined && env.MCP_WAKE_RUNTIME !== 'off'
}

/** The example tools, as the environment configures them. */
function exampleTools(env: Environment): LongRunningTool[] {
  return [
    modelTrainingTool({
      dataDir: resolve(env.LONGRUN_DATA_DIR),
      ...(env.MCP_TRAINING_EPOCH_DELAY_MS !== undefined && { epochDelayMs: env.MCP_TRAINING_EPOCH_DELAY_MS }),
    }),
    evaluateModelTool({ dataDir: resolve(env.LONGRUN_DATA_DIR) }),
    textStatisticsTool(),
  ]
}

/** A Redis worker's configuration from the environment (MCP_TASK_BACKEND must be `redis`). */
export function workerConfigFromEnv(env: Environment, secrets: StartSecrets = {}): TaskWorkerConfig {
  requireRedisBackend(env)
  return {
    tools: exampleTools(env),
    redis: { url: env.REDIS_URL, ...redisPassword(env, secrets), ...queueDepthMetricFromEnv(env) },
    region: env.AWS_REGION,
    ...(env.AGENTCORE_ENDPOINT !== undefined && { agentCoreEndpoint: env.AGENTCORE_ENDPOINT }),
    taskConcurrency: env.MCP_TASK_CONCURRENCY,
    leaseMs: env.MCP_TASK_LEASE_MS,
    heartbeatIntervalMs: env.MCP_HEARTBEAT_INTERVAL_MS,
    shutdownGraceMs: env.MCP_SHUTDOWN_GRACE_MS,
    deliveryBaseDelayMs: env.MCP_DELIVERY_BASE_DELAY_MS,
    deliveryMaxDelayMs: env.MCP_DELIVERY_MAX_DELAY_MS,
    ...continuationsFromEnv(env, secrets),
    logger: stderrLogger,
  }
}

/** Starts a Redis worker (`longrun worker`) and stops it cleanly on SIGTERM/SIGINT. */
export async function workerMain(
  source: Record<string, string | undefined> = process.env,
): Promise<TaskWorker> {
  const env = loadEnvironment(source)
  // The clearer error first: no secret is read for a worker that has no Redis to work from.
  requireRedisBackend(env)
  const config = workerConfigFromEnv(env, await secretsFromEnv(env))
  const { service: worker, telemetry } = await startWithTelemetry(
    { serviceName: 'longrun-worker', env },
    () => TaskWorker.start(config),
  )
  process.stdout.write(`worker ${worker.backend.workerId}\n`)
  const graceMs = config.shutdownGraceMs ?? MCP_SERVER_DEFAULTS.shutdownGraceMs
  exitOnStopSignal(async (signal) => {
    stderrLogger.log('info', 'stopping: running tasks get the grace period, then go back to the queue', {
      signal,
      graceMs,
    })
    await worker.close()
    await telemetry.shutdown()
    stderrLogger.log('info', 'stopped', { signal })
  }, graceMs + 5_000)
  return worker
}

function authFromEnv(env: Environment): AuthConfig {
  const jwt = jwtSettingsFromEnv(env, 'MCP')
  if (jwt !== undefined) {
    return {
      kind: 'jwt',
      issuer: jwt.issuer,
      audience: jwt.audience,
      clientIds: jwt.clientIds,
      jwks: jwt.jwks,
      requireSubjectMatchesActor: env.MCP_JWT_SUBJECT_IS_ACTOR,
      serviceSubjects: env.MCP_JWT_SERVICE_SUBJECTS,
      ...(jwt.subjectClaim !== undefined && { subjectClaim: jwt.subjectClaim }),
    }
  }
  if (env.MCP_BEARER_TOKEN !== undefined) return { kind: 'bearer', token: env.MCP_BEARER_TOKEN }
  if (env.MCP_AUTH === 'none') return { kind: 'none' }
  throw new ConfigError(
    'set MCP_BEARER_TOKEN, or MCP_JWT_ISSUER + MCP_JWKS_URL + MCP_JWT_AUDIENCE (or MCP_JWT_CLIENT_IDS), or MCP_AUTH=none behind a gateway that authenticates',
    ['MCP_BEARER_TOKEN', 'MCP_JWT_ISSUER', 'MCP_AUTH'],
  )
}

/** Starts the server and stops it cleanly on SIGTERM/SIGINT. */
export async function main(
  source: Record<string, string | undefined> = process.env,
): Promise<LongRunningMcpServer> {
  const env = loadEnvironment(source)
  const config = configFromEnv(env, await secretsFromEnv(env))
  const { service: server, telemetry } = await startWithTelemetry(
    { serviceName: 'longrun-mcp-server', env },
    () => LongRunningMcpServer.start(config),
  )
  process.stdout.write(`${server.url}\n`)
  const graceMs = config.shutdownGraceMs ?? MCP_SERVER_DEFAULTS.shutdownGraceMs
  // close() bounds its wait by the grace period; the backstop covers a stuck close itself.
  exitOnStopSignal(async (signal) => {
    stderrLogger.log('info', 'stopping: running tasks get the grace period, then are left for recovery', {
      signal,
      running: server.runner.running,
      graceMs,
    })
    await server.close()
    // Spans and metrics still buffered go out before the process ends.
    await telemetry.shutdown()
    stderrLogger.log('info', 'stopped', { signal })
  }, graceMs + 5_000)
  return server
}

if (import.meta.main) {
  ;(process.argv.includes('--worker') ? workerMain() : main()).catch((error: unknown) => {
    process.stderr.write(`level=error | ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
