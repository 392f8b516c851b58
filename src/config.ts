import { existsSync } from 'node:fs'
import { z } from 'zod'
import { DEFAULT_CONVERSATION_WINDOW } from './agent/agent-defaults.ts'
import type { ModelProvider, ModelProviderConfig } from './agent/model-provider-config.ts'
import { MCP_SERVER_DEFAULTS } from './mcp-server/server-defaults.ts'
import { RUNTIME_DEFAULTS } from './runtime/runtime-defaults.ts'
import type { JwtVerifierConfig } from './shared/bearer-token.ts'

/**
 * The one place that reads `process.env`. Every variable is parsed and validated once, so a typo
 * in a port or a URL fails at start with the variable's name instead of deep inside a request.
 * Only the processes' entries import it (src/entrypoint.ts, src/mcp-server-entrypoint.ts and the
 * CLI): they turn the environment into the typed options every component takes, and every problem
 * with it is a {@link ConfigError} naming the variables.
 */

const port = (fallback: number) => z.coerce.number().int().min(0).max(65_535).default(fallback)
const optionalUrl = z
  .string()
  .url()
  .optional()
  .or(z.literal('').transform(() => undefined))
/** An empty variable counts as unset (`MCP_HOST=` in a .env file). */
const blankAsUnset = (value: unknown) => (value === '' ? undefined : value)
/** A Secrets Manager secret's ARN: the environment names the secret, the process reads it at start. */
const secretArn = z.preprocess(
  blankAsUnset,
  z
    .string()
    .regex(/^arn:[\w-]+:secretsmanager:[\w-]+:\d{12}:secret:.+$/, 'a Secrets Manager secret ARN')
    .optional(),
)
const optionalText = z.preprocess(blankAsUnset, z.string().optional())
/** Longest delay a Node timer takes; a longer one silently fires after 1 ms. */
const MAX_TIMER_MS = 2_147_483_647
/** A non-negative integer, `fallback` when unset or empty. */
const count = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(max).default(fallback))

/** Comma-separated values (audiences), undefined when unset or empty. */
const commaList = z.preprocess(
  blankAsUnset,
  z
    .string()
    .transform((value) => value.split(',').map((each) => each.trim()))
    .optional(),
)

/** A whole number of at least 1, `fallback` when unset or empty. */
const positive = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.preprocess(blankAsUnset, z.coerce.number().int().min(1).max(max).default(fallback))

const EnvSchema = z.object({
  AWS_REGION: z.string().min(1).default('us-east-1'),
  /** Read only to tell whether credentials of one's own are configured (the AWS SDK reads them itself). */
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_PROFILE: optionalText,
  AGENTCORE_ENDPOINT: optionalUrl,
  AGENTCORE_LOCAL_PORT: port(8090),
  AGENTCORE_LOCAL_HOST: z.string().min(1).default('127.0.0.1'),
  AGENTCORE_LOCAL_ADMIN_TOKEN: z.string().min(16).optional(),
  AGENTCORE_LOCAL_RUNTIMES: z.string().optional(),
  MEMORY_ID: optionalText,
  PORT: port(RUNTIME_DEFAULTS.port),
  MCP_PORT: port(MCP_SERVER_DEFAULTS.port),
  MCP_SERVER_URL: optionalUrl,
  MCP_BEARER_TOKEN: optionalText,
  LONGRUN_DATA_DIR: z.string().min(1).default(MCP_SERVER_DEFAULTS.dataDir),
  // The long-running MCP server (src/mcp-server-entrypoint.ts); its defaults for an unset MCP_HOST differ
  // (0.0.0.0 there, loopback for `longrun dev`), so the default is applied where it is used.
  MCP_HOST: optionalText,
  MCP_AUTH: z.preprocess(blankAsUnset, z.enum(['none']).optional()),
  MCP_JWT_ISSUER: optionalText,
  /** Comma-separated audiences. */
  MCP_JWT_AUDIENCE: commaList,
  /** Comma-separated allowed `client_id` values (Cognito access tokens carry no audience). */
  MCP_JWT_CLIENT_IDS: commaList,
  MCP_JWKS_URL: optionalUrl,
  /** Safe by default: only `false` lets a token name another actor. */
  MCP_JWT_SUBJECT_IS_ACTOR: z
    .preprocess(blankAsUnset, z.enum(['true', 'false']).default('true'))
    .transform((value) => value === 'true'),
  MCP_JWT_SUBJECT_CLAIM: optionalText,
  /** Subjects (machine identities: the MCP server's own wake client) that act for the actor they name. */
  MCP_JWT_SERVICE_SUBJECTS: commaList,
  MCP_HEARTBEAT_INTERVAL_MS: count(MCP_SERVER_DEFAULTS.heartbeatIntervalMs, MAX_TIMER_MS),
  MCP_SHUTDOWN_GRACE_MS: count(MCP_SERVER_DEFAULTS.shutdownGraceMs, MAX_TIMER_MS),
  MCP_TASK_TTL_SECONDS: count(
    MCP_SERVER_DEFAULTS.taskTtlMs / 1000,
    Math.floor(Number.MAX_SAFE_INTEGER / 1000),
  ),
  MCP_MAX_BODY_BYTES: count(MCP_SERVER_DEFAULTS.maxBodyBytes),
  MCP_DELIVERY_BASE_DELAY_MS: count(MCP_SERVER_DEFAULTS.deliveryBaseDelayMs, MAX_TIMER_MS),
  MCP_DELIVERY_MAX_DELAY_MS: count(MCP_SERVER_DEFAULTS.deliveryMaxDelayMs, MAX_TIMER_MS),
  /** Tasks running at once per process for tools that declare no limit of their own. */
  MCP_TASK_CONCURRENCY: positive(MCP_SERVER_DEFAULTS.taskConcurrency, 100_000),
  /** Tasks waiting at once per process; a start beyond it is refused (QUEUE_FULL), nothing stored. */
  MCP_TASK_QUEUE_LIMIT: positive(MCP_SERVER_DEFAULTS.queueLimit),
  /** Where tasks live: `sqlite` in LONGRUN_DATA_DIR (one machine), or `redis` (replicas and workers anywhere). */
  MCP_TASK_BACKEND: z.preprocess(blankAsUnset, z.enum(['sqlite', 'redis']).default('sqlite')),
  /** The Redis of the `redis` backend. */
  REDIS_URL: z.preprocess(blankAsUnset, z.string().url().default('redis://127.0.0.1:6379')),
  /** Redis AUTH's password (ElastiCache's AUTH token), when the Redis wants one. */
  REDIS_PASSWORD: optionalText,
  /**
   * The same, read from this Secrets Manager secret at start (JSON `{"password": "..."}`, as the
   * deploy generates it): only the ARN is in the environment. Not with REDIS_PASSWORD.
   */
  REDIS_PASSWORD_SECRET_ARN: secretArn,
  /** With `redis`: run background tasks in this server too (false: a stateless replica; `longrun worker` runs them). */
  MCP_RUN_WORKER: z
    .preprocess(blankAsUnset, z.enum(['true', 'false']).default('true'))
    .transform((value) => value === 'true'),
  /** A running task's lease: another process takes it over only once it runs out. */
  MCP_TASK_LEASE_MS: z.preprocess(
    blankAsUnset,
    z.coerce.number().int().min(1000).max(MAX_TIMER_MS).default(MCP_SERVER_DEFAULTS.leaseMs),
  ),
  /**
   * With `redis`: the CloudWatch namespace every process (replica and worker) publishes the work owed
   * in (`TasksOwed`), for a worker service to scale on. Unset: nothing is published.
   */
  MCP_QUEUE_METRIC_NAMESPACE: z.preprocess(
    blankAsUnset,
    z
      .string()
      .regex(/^(?!AWS\/)[\w.\-/#: ]{1,255}$/, 'a CloudWatch namespace (not AWS/...)')
      .optional(),
  ),
  /** The metric's `Deployment` dimension: which deployment's workers scale on it. */
  MCP_QUEUE_METRIC_DEPLOYMENT: z.preprocess(
    blankAsUnset,
    z.string().max(1024).default(MCP_SERVER_DEFAULTS.queueMetricDeployment),
  ),
  /** How often each process publishes it (and at once after a start or a re-queue, and at shutdown). */
  MCP_QUEUE_METRIC_INTERVAL_MS: z.preprocess(
    blankAsUnset,
    z.coerce.number().int().min(1000).max(MAX_TIMER_MS).default(MCP_SERVER_DEFAULTS.queueMetricIntervalMs),
  ),
  /**
   * Continuations: the ARN of the agent runtime this server wakes when a task of a tool with
   * `onEnd: 'wake'` ends (its result in memory first). Unset or `off`: no task wakes anyone.
   */
  MCP_WAKE_RUNTIME: optionalText,
  /**
   * A runtime behind a JWT authorizer takes bearer tokens only: the OAuth client-credentials client
   * the MCP server wakes it with (the token endpoint, the client, its secret, and a scope if needed).
   */
  MCP_WAKE_TOKEN_URL: optionalUrl,
  MCP_WAKE_CLIENT_ID: optionalText,
  MCP_WAKE_CLIENT_SECRET: optionalText,
  /** The same, read from this Secrets Manager secret (the plain secret) at start; not with the other. */
  MCP_WAKE_CLIENT_SECRET_ARN: secretArn,
  MCP_WAKE_SCOPE: optionalText,
  /** Where each continuation's notice is POSTed, signed as Standard Webhooks says. */
  MCP_WEBHOOK_URL: optionalUrl,
  /** The signing secret of those notices: `whsec_` and the base64 of at least 24 random bytes. */
  MCP_WEBHOOK_SECRET: optionalText,
  /** Unset: none for the MCP server alone, paced in `longrun dev` (see its --help). */
  MCP_TRAINING_EPOCH_DELAY_MS: z.preprocess(
    blankAsUnset,
    z.coerce.number().int().min(0).max(MAX_TIMER_MS).optional(),
  ),
  // The agent runtime (src/entrypoint.ts, `longrun runtime`, `longrun dev`).
  /** Listen address of the runtime; the AgentCore container contract is 0.0.0.0:8080. */
  RUNTIME_HOST: optionalText,
  /** bedrock | openai | demo. Unset: `longrun dev` uses demo; the entrypoint refuses to start. */
  MODEL_PROVIDER: z.preprocess(blankAsUnset, z.enum(['bedrock', 'openai', 'demo']).optional()),
  BEDROCK_MODEL_ID: optionalText,
  /** A Bedrock Runtime endpoint other than AWS's (the local service's Converse endpoint). */
  BEDROCK_ENDPOINT: optionalUrl,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_API_KEY: optionalText,
  OPENAI_MODEL: optionalText,
  /** Messages the agent keeps in its context (Strands' sliding window). */
  AGENT_CONVERSATION_WINDOW: z.preprocess(
    blankAsUnset,
    z.coerce.number().int().min(2).max(10_000).default(DEFAULT_CONVERSATION_WINDOW),
  ),
  /** Tools (comma-separated names) that ask the caller before each call: the turn pauses for the answer. */
  AGENT_APPROVAL_TOOLS: commaList,
  /** What a caller that goes away mid-invocation costs: `finish` the turn (stored in memory) or `abort` it. */
  RUNTIME_ON_DISCONNECT: z.preprocess(
    blankAsUnset,
    z.enum(['finish', 'abort']).default(RUNTIME_DEFAULTS.onDisconnect),
  ),
  /** Longest one turn may run (AgentCore's synchronous request limit: 15 min). */
  RUNTIME_TURN_TIMEOUT_MS: positive(RUNTIME_DEFAULTS.turnTimeoutMs, MAX_TIMER_MS),
  /** How long SIGTERM waits for running invocations before aborting them. */
  RUNTIME_SHUTDOWN_GRACE_MS: count(RUNTIME_DEFAULTS.shutdownGraceMs, MAX_TIMER_MS),
  /** Continuations in a chain before the agent stops acting on its own (a task a continuation started, and so on). */
  RUNTIME_CONTINUATION_DEPTH: positive(RUNTIME_DEFAULTS.continuationDepthLimit, 100),
  /** Continuations one session may run per hour; 0 turns them off at this runtime. */
  RUNTIME_WAKES_PER_HOUR: count(RUNTIME_DEFAULTS.wakesPerHour, 10_000),
  /** Largest accepted invocation payload, and longest prompt. */
  RUNTIME_MAX_PAYLOAD_BYTES: positive(RUNTIME_DEFAULTS.maxPayloadBytes),
  RUNTIME_MAX_PROMPT_CHARS: positive(RUNTIME_DEFAULTS.maxPromptChars),
  /** Callers authenticate with JWTs (the Runtime's inbound JWT authorizer): the actor is the token's subject. */
  RUNTIME_JWT_ISSUER: optionalText,
  RUNTIME_JWT_AUDIENCE: commaList,
  /** Allowed `client_id` values (Cognito access tokens carry no audience). */
  RUNTIME_JWT_CLIENT_IDS: commaList,
  RUNTIME_JWKS_URL: optionalUrl,
  RUNTIME_JWT_SUBJECT_CLAIM: optionalText,
  /** Subjects (machine identities: the MCP server's client) whose wakes name the actor they wake. */
  RUNTIME_JWT_WAKE_SUBJECTS: commaList,
  /** A deployed runtime the CLI invokes instead of the local stack. */
  AGENT_RUNTIME_ARN: optionalText,
  /** A bearer token the CLI signs invocations with (a runtime behind a JWT authorizer) instead of SigV4. */
  AGENTCORE_BEARER_TOKEN: optionalText,
  // The developer console of `longrun dev` (src/console).
  /** Its port (0 picks one). */
  CONSOLE_PORT: port(8070),
  /** Its listen address: loopback unless told otherwise. */
  CONSOLE_HOST: z.string().min(1).default('127.0.0.1'),
  // Traces and metrics (src/telemetry): off unless an OTLP endpoint is given. The OpenTelemetry
  // exporters read the rest of the standard OTEL_* variables (headers, protocol, timeouts) themselves.
  /** OTLP/HTTP base URL (`http://collector:4318`): traces go to /v1/traces, metrics to /v1/metrics. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** Full URL for traces alone (overrides the base URL's /v1/traces). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  /** Full URL for metrics alone (overrides the base URL's /v1/metrics). */
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: optionalUrl,
  /** `true` turns every exporter off, whatever else is set. */
  OTEL_SDK_DISABLED: z
    .preprocess(blankAsUnset, z.enum(['true', 'false']).default('false'))
    .transform((value) => value === 'true'),
  /** The service's name in traces (default: longrun-runtime, longrun-mcp-server, longrun-worker). */
  OTEL_SERVICE_NAME: optionalText,
  /** `true` records prompts, answers, tool arguments and results in spans; off by default. */
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: z
    .preprocess(blankAsUnset, z.enum(['true', 'false']).default('false'))
    .transform((value) => value === 'true'),
})

export type Environment = z.infer<typeof EnvSchema>

/** Every variable the project reads (each documented in .env.example). */
export const ENVIRONMENT_VARIABLES: readonly string[] = Object.keys(EnvSchema.shape)

/** A configuration variable that failed validation; `variables` names every one of them. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID'
  readonly variables: readonly string[]
  constructor(message: string, variables: string[]) {
    super(message)
    this.name = 'ConfigError'
    this.variables = variables
  }
}

/**
 * Loads `.env` from the working directory into the environment when the file exists (variables
 * already set win). Node's own `--env-file-if-exists` prints a notice when the file is missing.
 */
export function loadDotEnvFile(path = '.env'): void {
  if (existsSync(path)) process.loadEnvFile(path)
}

/** Parses the environment (by default `process.env`), throwing a {@link ConfigError} naming bad variables. */
export function loadEnvironment(source: Record<string, string | undefined> = process.env): Environment {
  const result = EnvSchema.safeParse(source)
  if (result.success) return result.data
  const variables = result.error.issues.map((issue) => String(issue.path[0]))
  const details = result.error.issues.map((issue) => `${String(issue.path[0])}: ${issue.message}`).join('; ')
  throw new ConfigError(`Invalid environment: ${details}`, variables)
}

/**
 * Parses `AGENTCORE_LOCAL_RUNTIMES`: comma-separated `key=url` pairs, where key is a runtime ARN,
 * a runtime id or `*`, and url the runtime's base URL (`mcp+http://...` marks an MCP runtime).
 */
export function parseRuntimeTable(
  value: string | undefined,
): Record<string, { url: string; protocol: 'HTTP' | 'MCP' }> {
  const table: Record<string, { url: string; protocol: 'HTTP' | 'MCP' }> = {}
  if (!value) return table
  for (const entry of value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const separator = entry.lastIndexOf('=')
    const key = entry.slice(0, separator)
    let url = entry.slice(separator + 1)
    if (separator <= 0 || !url) {
      throw new ConfigError(`AGENTCORE_LOCAL_RUNTIMES: "${entry}" is not key=url`, [
        'AGENTCORE_LOCAL_RUNTIMES',
      ])
    }
    const protocol = url.startsWith('mcp+') ? 'MCP' : 'HTTP'
    if (protocol === 'MCP') url = url.slice(4)
    if (!URL.canParse(url)) {
      throw new ConfigError(`AGENTCORE_LOCAL_RUNTIMES: "${url}" is not a URL`, ['AGENTCORE_LOCAL_RUNTIMES'])
    }
    table[key] = { url, protocol }
  }
  return table
}

/**
 * The JWT settings of one process's callers (`RUNTIME_JWT_*` / `RUNTIME_JWKS_URL`, or `MCP_JWT_*` /
 * `MCP_JWKS_URL`): the issuer and the key set, with an audience or allowed client ids (or both);
 * none of them for callers authenticated otherwise. Anything in between is a ConfigError naming
 * what is missing, so a process never starts half-configured.
 */
export function jwtSettingsFromEnv(
  env: Environment,
  prefix: 'RUNTIME' | 'MCP',
): JwtVerifierConfig | undefined {
  const settings = {
    issuer: env[`${prefix}_JWT_ISSUER`],
    jwks: env[`${prefix}_JWKS_URL`],
    audience: env[`${prefix}_JWT_AUDIENCE`],
    clientIds: env[`${prefix}_JWT_CLIENT_IDS`],
    subjectClaim: env[`${prefix}_JWT_SUBJECT_CLAIM`],
  }
  if (Object.values(settings).every((value) => value === undefined)) return undefined
  const name = (suffix: string) => (suffix === 'JWKS_URL' ? `${prefix}_JWKS_URL` : `${prefix}_JWT_${suffix}`)
  const missing = [
    ...(settings.issuer === undefined ? [name('ISSUER')] : []),
    ...(settings.jwks === undefined ? [name('JWKS_URL')] : []),
    ...(settings.audience === undefined && settings.clientIds === undefined
      ? [`${name('AUDIENCE')} or ${name('CLIENT_IDS')}`]
      : []),
  ]
  if (missing.length > 0)
    throw new ConfigError(`caller authentication needs ${missing.join(', ')} as well`, missing)
  return {
    issuer: settings.issuer as string,
    jwks: settings.jwks as string,
    audience: settings.audience,
    clientIds: settings.clientIds,
    subjectClaim: settings.subjectClaim,
  }
}

/**
 * The model MODEL_PROVIDER chooses, with what it needs. A provider's missing variable is a
 * ConfigError naming it. `fallback` is the provider used when MODEL_PROVIDER is unset (`longrun dev`
 * passes `demo`); without one, unset is an error too.
 */
export function modelProviderFromEnv(env: Environment, fallback?: ModelProvider): ModelProviderConfig {
  const provider = env.MODEL_PROVIDER ?? fallback
  if (provider === undefined) {
    throw new ConfigError('MODEL_PROVIDER is not set: set it to bedrock, openai or demo', ['MODEL_PROVIDER'])
  }
  if (provider === 'demo') return { provider }
  if (provider === 'bedrock') {
    if (env.BEDROCK_MODEL_ID === undefined)
      throw new ConfigError(
        'BEDROCK_MODEL_ID is not set: give the Bedrock model or inference profile id, e.g. global.anthropic.claude-sonnet-4-6',
        ['BEDROCK_MODEL_ID'],
      )
    return {
      provider,
      modelId: env.BEDROCK_MODEL_ID,
      region: env.AWS_REGION,
      ...(env.BEDROCK_ENDPOINT !== undefined && { endpoint: env.BEDROCK_ENDPOINT }),
    }
  }
  const missing = (
    [
      ['OPENAI_BASE_URL', env.OPENAI_BASE_URL],
      ['OPENAI_API_KEY', env.OPENAI_API_KEY],
      ['OPENAI_MODEL', env.OPENAI_MODEL],
    ] as const
  ).flatMap(([name, value]) => (value === undefined ? [name] : []))
  if (missing.length > 0) {
    throw new ConfigError(
      `MODEL_PROVIDER=openai needs ${missing.join(', ')} (an OpenAI-compatible endpoint such as http://127.0.0.1:11434/v1 for Ollama, its API key - any text for a local server - and the model name)`,
      missing,
    )
  }
  return {
    provider,
    baseUrl: env.OPENAI_BASE_URL as string,
    apiKey: env.OPENAI_API_KEY as string,
    modelId: env.OPENAI_MODEL as string,
  }
}
