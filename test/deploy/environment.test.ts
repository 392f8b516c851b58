import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { parseStackParameters, type StackParameters } from '../../deploy/stack-parameters.ts'
import { ENVIRONMENT_VARIABLES } from '../../src/config.ts'
import {
  environmentOf,
  runtimeOf,
  type SynthesizedStack,
  withSynthesized,
  workerEnvironmentOf,
} from '../helpers/deploy-stack.ts'

/**
 * Every variable src/config.ts reads, and what the stack does with it: set for the agent runtime,
 * for the MCP server runtime (always, or when a parameter asks), or deliberately left unset with
 * the reason. A variable config.ts gains fails here until it is classified; a variable the stack
 * sets that config.ts does not read fails too, unless it is a standard one listed below.
 */
type When = (parameters: StackParameters) => boolean
type Side = 'agent' | 'mcpServer' | 'worker'
type Classification = { readonly [side in Side]?: When } | { readonly unset: string }

const always: When = () => true
const withRedis: When = (parameters) => parameters.taskBackend === 'redis'
/** Cognito access tokens are checked by client id; a provider of yours by what you name. */
const withClientIds: When = ({ auth }) => auth.kind === 'cognito' || auth.clientIds.length > 0
const withAudiences: When = ({ auth }) => auth.kind === 'oidc' && auth.audiences.length > 0
const withOtlp: When = (parameters) => parameters.otlpEndpoint !== undefined
/** An ECS service of workers scales on the queue depth every process publishes. */
const withWorkers: When = (parameters) => parameters.workers === 'fargate'
/** The Cognito deploy has the MCP server's wake client (a provider of yours: bring your own). */
const withCognito: When = ({ auth }) => auth.kind === 'cognito'
const both =
  (...conditions: When[]): When =>
  (parameters) =>
    conditions.every((condition) => condition(parameters))

const CLASSIFICATION: Record<string, Classification> = {
  AWS_REGION: { agent: always, mcpServer: always, worker: withWorkers },
  AWS_ACCESS_KEY_ID: { unset: 'the runtimes use their execution role; no key is ever in the template' },
  AWS_PROFILE: { unset: 'the runtimes use their execution role' },
  AGENTCORE_ENDPOINT: { unset: "AWS's own endpoints; the override is for the local service" },
  AGENTCORE_LOCAL_PORT: { unset: 'the local AgentCore service does not run on AWS' },
  AGENTCORE_LOCAL_HOST: { unset: 'the local AgentCore service does not run on AWS' },
  AGENTCORE_LOCAL_ADMIN_TOKEN: { unset: 'the local AgentCore service does not run on AWS' },
  AGENTCORE_LOCAL_RUNTIMES: { unset: 'the local AgentCore service does not run on AWS' },
  AGENTCORE_BEARER_TOKEN: { unset: "the CLI's token for invoking a JWT runtime; the runtimes never invoke" },
  CONSOLE_PORT: { unset: 'the developer console is part of longrun dev, on a developer machine' },
  CONSOLE_HOST: { unset: 'the developer console is part of longrun dev, on a developer machine' },
  MEMORY_ID: { agent: always },
  PORT: { agent: always },
  MCP_PORT: { mcpServer: always },
  MCP_SERVER_URL: { agent: always },
  MCP_BEARER_TOKEN: {
    unset: "a static secret; the agent passes the caller's JWT on and the server checks it",
  },
  LONGRUN_DATA_DIR: { mcpServer: always, worker: withWorkers },
  MCP_HOST: { mcpServer: always },
  MCP_AUTH: { unset: 'the MCP server checks JWTs itself' },
  MCP_JWT_ISSUER: { mcpServer: always },
  MCP_JWT_AUDIENCE: { mcpServer: withAudiences },
  MCP_JWT_CLIENT_IDS: { mcpServer: withClientIds },
  MCP_JWKS_URL: { mcpServer: always },
  MCP_JWT_SUBJECT_IS_ACTOR: { mcpServer: always },
  MCP_JWT_SUBJECT_CLAIM: { unset: 'sub, the default, names the caller in Cognito and OIDC tokens alike' },
  MCP_HEARTBEAT_INTERVAL_MS: { unset: 'the default (10 s) keeps calls alive through the Runtime proxy' },
  MCP_SHUTDOWN_GRACE_MS: { unset: 'the default fits the Runtime stopping a session' },
  MCP_TASK_TTL_SECONDS: { unset: 'the default keeps ended tasks 7 days' },
  MCP_MAX_BODY_BYTES: { unset: 'the default' },
  MCP_DELIVERY_BASE_DELAY_MS: { unset: 'the default backoff' },
  MCP_DELIVERY_MAX_DELAY_MS: { unset: 'the default backoff' },
  MCP_TASK_CONCURRENCY: { unset: "the default: the microVM's cores" },
  MCP_TASK_QUEUE_LIMIT: { unset: 'the default' },
  MCP_TASK_BACKEND: { mcpServer: always, worker: withWorkers },
  REDIS_URL: { mcpServer: withRedis, worker: withWorkers },
  REDIS_PASSWORD: { unset: 'a literal would be in the template: the runtime reads the AUTH token by ARN' },
  REDIS_PASSWORD_SECRET_ARN: { mcpServer: withRedis, worker: withWorkers },
  MCP_RUN_WORKER: { mcpServer: withRedis },
  MCP_TASK_LEASE_MS: { unset: 'the default' },
  MCP_QUEUE_METRIC_NAMESPACE: { mcpServer: withWorkers, worker: withWorkers },
  MCP_QUEUE_METRIC_DEPLOYMENT: { mcpServer: withWorkers, worker: withWorkers },
  MCP_QUEUE_METRIC_INTERVAL_MS: { unset: "the default (60 s): the scaling alarm's period" },
  MCP_TRAINING_EPOCH_DELAY_MS: { unset: 'demos only (longrun dev paces the example training)' },
  MCP_WAKE_RUNTIME: { mcpServer: always, worker: withWorkers },
  // The JWT agent runtime refuses SigV4: wakes (in the MCP server and the workers) use the client.
  MCP_WAKE_TOKEN_URL: { mcpServer: withCognito, worker: both(withCognito, withWorkers) },
  MCP_WAKE_CLIENT_ID: { mcpServer: withCognito, worker: both(withCognito, withWorkers) },
  MCP_WAKE_CLIENT_SECRET: { unset: 'a secret: the environment names its Secrets Manager secret instead' },
  MCP_WAKE_CLIENT_SECRET_ARN: { mcpServer: withCognito, worker: both(withCognito, withWorkers) },
  MCP_WAKE_SCOPE: { mcpServer: withCognito, worker: both(withCognito, withWorkers) },
  MCP_JWT_SERVICE_SUBJECTS: { mcpServer: withCognito },
  MCP_WEBHOOK_URL: {
    unset: 'no webhook unless the deployer adds one (its secret belongs in Secrets Manager)',
  },
  MCP_WEBHOOK_SECRET: { unset: 'no webhook unless the deployer adds one' },
  RUNTIME_HOST: { agent: always },
  MODEL_PROVIDER: { agent: always },
  BEDROCK_MODEL_ID: { agent: always },
  BEDROCK_ENDPOINT: { unset: "Bedrock's own endpoint" },
  OPENAI_BASE_URL: { unset: 'the deployed agent uses Bedrock' },
  OPENAI_API_KEY: { unset: 'the deployed agent uses Bedrock; a key would be a secret in the template' },
  OPENAI_MODEL: { unset: 'the deployed agent uses Bedrock' },
  AGENT_CONVERSATION_WINDOW: { unset: 'the default' },
  AGENT_APPROVAL_TOOLS: {
    unset: 'none by default: no tool asks first (set it on the agent runtime for approvals)',
  },
  RUNTIME_ON_DISCONNECT: { unset: 'the default: a turn whose caller left still ends and is stored' },
  RUNTIME_TURN_TIMEOUT_MS: { unset: "the default is AgentCore's synchronous limit, 15 min" },
  RUNTIME_SHUTDOWN_GRACE_MS: { unset: 'the default' },
  RUNTIME_MAX_PAYLOAD_BYTES: { unset: 'the default' },
  RUNTIME_MAX_PROMPT_CHARS: { unset: 'the default' },
  RUNTIME_CONTINUATION_DEPTH: { unset: 'the default' },
  RUNTIME_WAKES_PER_HOUR: { unset: 'the default' },
  RUNTIME_JWT_ISSUER: { agent: always },
  RUNTIME_JWT_AUDIENCE: { agent: withAudiences },
  RUNTIME_JWT_CLIENT_IDS: { agent: withClientIds },
  RUNTIME_JWKS_URL: { agent: always },
  RUNTIME_JWT_SUBJECT_CLAIM: { unset: 'sub, the default' },
  RUNTIME_JWT_WAKE_SUBJECTS: { agent: withCognito },
  AGENT_RUNTIME_ARN: { unset: 'read by the CLI on your machine, not by a runtime' },
  OTEL_EXPORTER_OTLP_ENDPOINT: { agent: withOtlp, mcpServer: withOtlp, worker: both(withOtlp, withWorkers) },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: { unset: 'otlpEndpoint sets the base URL for traces and metrics' },
  OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: { unset: 'otlpEndpoint sets the base URL for traces and metrics' },
  OTEL_SDK_DISABLED: { unset: 'without an endpoint nothing is exported anyway' },
  OTEL_SERVICE_NAME: { agent: always, mcpServer: always, worker: withWorkers },
  OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT: { unset: 'off: spans carry no prompts or results' },
}

/** Standard variables the stack may set although src/config.ts does not read them (none yet). */
const STANDARD_VARIABLES: readonly string[] = []

/** The environment of each process the stack runs: both runtimes, and the workers' container. */
function environmentsOf(json: SynthesizedStack['json']): Record<Side, Record<string, unknown>> {
  return {
    agent: environmentOf(runtimeOf(json, 'HTTP')[1]),
    mcpServer: environmentOf(runtimeOf(json, 'MCP')[1]),
    worker: workerEnvironmentOf(json),
  }
}

/** Contexts that between them take every conditional branch of the table. */
const VARIANTS: readonly Record<string, string>[] = [
  {},
  { taskBackend: 'sqlite' },
  { workers: 'none', otlpEndpoint: 'https://collector.example.com' },
  {
    oidcIssuer: 'https://login.example.com',
    oidcJwksUrl: 'https://login.example.com/keys',
    oidcAudiences: 'longrun',
    oidcClientIds: 'app',
    otlpEndpoint: 'https://collector.example.com',
  },
]

describe('the environment the code reads is the environment the stack sets', () => {
  test('every variable of src/config.ts is classified, and nothing else is', () => {
    const unclassified = ENVIRONMENT_VARIABLES.filter((name) => !(name in CLASSIFICATION))
    assert.deepEqual(unclassified, [], 'classify these variables in CLASSIFICATION')
    const unknown = Object.keys(CLASSIFICATION).filter(
      (name) => !ENVIRONMENT_VARIABLES.includes(name) && !STANDARD_VARIABLES.includes(name),
    )
    assert.deepEqual(unknown, [], 'src/config.ts no longer reads these')
    for (const [name, classification] of Object.entries(CLASSIFICATION)) {
      if ('unset' in classification) assert.ok(classification.unset.length > 0, name)
      else
        assert.ok(
          classification.agent ?? classification.mcpServer ?? classification.worker,
          `${name}: set for no process`,
        )
    }
  })

  for (const context of VARIANTS) {
    test(`each runtime gets exactly its variables (${JSON.stringify(context)})`, () => {
      const parameters = parseStackParameters(context)
      withSynthesized(context, ({ json }) => {
        const environments = environmentsOf(json)
        for (const side of ['agent', 'mcpServer', 'worker'] as const) {
          const set = Object.keys(environments[side]).sort()
          for (const name of set)
            assert.ok(
              ENVIRONMENT_VARIABLES.includes(name) || STANDARD_VARIABLES.includes(name),
              `${name} is set for the ${side} but read by nothing`,
            )
          const expected = Object.entries(CLASSIFICATION)
            .filter(
              ([, classification]) => !('unset' in classification) && classification[side]?.(parameters),
            )
            .map(([name]) => name)
            .sort()
          assert.deepEqual(set, expected, `the ${side}'s environment`)
        }
      })
    })
  }

  test('every conditional variable is set by some variant', () => {
    const seen = new Set<string>()
    for (const context of VARIANTS)
      withSynthesized(context, ({ json }) => {
        for (const environment of Object.values(environmentsOf(json)))
          for (const name of Object.keys(environment)) seen.add(name)
      })
    const neverSet = Object.entries(CLASSIFICATION)
      .filter(([name, classification]) => !('unset' in classification) && !seen.has(name))
      .map(([name]) => name)
    assert.deepEqual(neverSet, [])
  })
})
