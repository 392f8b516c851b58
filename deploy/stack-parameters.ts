/**
 * The deployment's parameters, read from CDK context (`npx cdk deploy -c modelId=...`) and checked
 * before any resource is defined: a bad value stops synthesis with an error naming the parameter,
 * instead of a CloudFormation failure twenty minutes into a deploy. Context rather than
 * CloudFormation parameters because these values shape the template itself (which resources exist,
 * which model ARNs the roles may invoke), and CloudFormation parameters cannot be checked at synth.
 */
import {
  AGENTCORE_VPC_ZONE_IDS,
  LIST_ZONE_IDS_COMMAND,
  regionCodeOf,
  tableRegionOf,
  ZONE_ID_PATTERN,
} from './availability-zones.ts'

/** A parameter that is missing, malformed or out of range; `parameter` names it. */
export class StackParameterError extends Error {
  readonly code = 'STACK_PARAMETER_INVALID'
  readonly parameter: string
  constructor(parameter: string, message: string) {
    super(`${parameter}: ${message}`)
    this.name = 'StackParameterError'
    this.parameter = parameter
  }
}

/** Where the MCP server keeps its tasks. */
export type TaskBackend = 'redis' | 'sqlite'

/**
 * Where the runtimes' arm64 images are built at deploy: in AWS CodeBuild on an arm64 build image
 * (nothing but credentials on the deploying machine), or by its own Docker (buildx; QEMU on x86).
 */
export type ImageBuild = 'codebuild' | 'docker'

/** AgentCore Memory's built-in long-term strategies this stack can turn on. */
export type LongTermStrategy = 'semantic' | 'summary' | 'userPreference'

/** Who signs the callers' tokens: a user pool of this stack, or an OpenID Connect provider of yours. */
export type CallerAuthParameters =
  | {
      readonly kind: 'cognito'
      /** Multi-factor sign-in with an authenticator app (TOTP): off, optional per user, or required. */
      readonly mfa: CognitoMfa
      /** Whether the app client also takes USER_PASSWORD_AUTH (the password sent to Cognito as is). */
      readonly passwordAuth: boolean
    }
  | {
      readonly kind: 'oidc'
      /** The `iss` of the tokens; the discovery document is `<issuer>/.well-known/openid-configuration`. */
      readonly issuer: string
      readonly jwksUrl: string
      /** Accepted `aud` values. */
      readonly audiences: readonly string[]
      /** Accepted `client_id` values; at least one of these or an audience. */
      readonly clientIds: readonly string[]
    }

export type CognitoMfa = 'off' | 'optional' | 'required'

/** How the model id is invoked: directly, or through a cross-Region inference profile. */
export interface ModelTarget {
  /** The id as given (`BEDROCK_MODEL_ID`). */
  readonly id: string
  /** The foundation model behind it (`anthropic.claude-sonnet-4-6`). */
  readonly foundationModel: string
  /** The inference profile's geography (`us`, `eu`, `global`, ...), undefined for a foundation model id. */
  readonly profileScope: string | undefined
}

export interface StackParameters {
  readonly stackName: string
  /** Prefix of the AgentCore resource names (runtimes, memory), unique per account and Region. */
  readonly name: string
  readonly model: ModelTarget
  /**
   * Whether the agent's role may subscribe to the model's AWS Marketplace offer itself: some
   * models' first call in an account needs that subscription, which AWS makes on that first call
   * when the caller may (`aws-marketplace:Subscribe`). Off: enable the model once in the console.
   */
  readonly modelMarketplaceAccess: boolean
  /** Days AgentCore Memory keeps events (7..365). */
  readonly eventExpiryDays: number
  readonly longTermMemory: readonly LongTermStrategy[]
  readonly taskBackend: TaskBackend
  readonly redisNodeType: string
  /** Read replicas beside the primary (0..5); one or more gives Multi-AZ automatic failover. */
  readonly redisReplicas: number
  /**
   * Availability Zone IDs of the VPC (redis backend), two or more; undefined: the first two
   * AgentCore supports in the deploy Region (deploy/availability-zones.ts).
   */
  readonly availabilityZoneIds: readonly string[] | undefined
  readonly auth: CallerAuthParameters
  /** `fargate`: an ECS service of `longrun worker`s runs the tasks (redis only); `none`: no workers. */
  readonly workers: 'fargate' | 'none'
  /** Workers running while any task is owed; none while the queue stays empty. */
  readonly workerCount: number
  /** Whether the MCP microVMs also run tasks (MCP_RUN_WORKER); a task there lives at most 8 hours. */
  readonly mcpRunsTasks: boolean
  /** OTLP/HTTP base URL both runtimes export traces and metrics to; undefined: none. */
  readonly otlpEndpoint: string | undefined
  /** Where the images are built (deploy/container-images.ts). */
  readonly imageBuild: ImageBuild
}

/** The defaults (the README's parameter table lists the same). */
export const STACK_PARAMETER_DEFAULTS = {
  stackName: 'Longrun',
  name: 'longrun',
  modelId: 'global.anthropic.claude-sonnet-4-6',
  eventExpiryDays: 30,
  longTermMemory: 'none',
  taskBackend: 'redis',
  redisNodeType: 'cache.t4g.micro',
  redisReplicas: 1,
  workerCount: 1,
  cognitoMfa: 'off',
  cognitoPasswordAuth: false,
  modelMarketplaceAccess: false,
  imageBuild: 'codebuild',
} as const

/** The context keys this app reads; any other camelCase key is refused as a likely typo. */
export const STACK_PARAMETER_NAMES = [
  'stackName',
  'name',
  'modelId',
  'eventExpiryDays',
  'longTermMemory',
  'taskBackend',
  'redisNodeType',
  'redisReplicas',
  'availabilityZoneIds',
  'workers',
  'workerCount',
  'mcpRunsTasks',
  'cognitoMfa',
  'cognitoPasswordAuth',
  'modelMarketplaceAccess',
  'oidcIssuer',
  'oidcJwksUrl',
  'oidcAudiences',
  'oidcClientIds',
  'otlpEndpoint',
  'imageBuild',
] as const

/** Parameters that are gone, each with what replaces it (a cdk.json may still name them). */
const RETIRED_PARAMETERS: Readonly<Record<string, string>> = {
  availabilityZones: `zone names map to different zones in each account: give zone IDs as availabilityZoneIds (e.g. use1-az1,use1-az2); list yours with ${LIST_ZONE_IDS_COMMAND}`,
}

/** Cross-Region inference profile prefixes Bedrock defines (`us.anthropic...`, `global.anthropic...`). */
const PROFILE_SCOPES = new Set(['us', 'us-gov', 'eu', 'apac', 'jp', 'au', 'ca', 'global'])
const LONG_TERM_STRATEGIES: readonly LongTermStrategy[] = ['semantic', 'summary', 'userPreference']

/**
 * Parses the app's context into parameters. CDK's own keys (`@aws-cdk/...`, `aws:cdk:...`) are left
 * alone; a plain camelCase key this app does not know is refused, so `-c modelID=...` is not silently
 * ignored in favour of the default model.
 */
export function parseStackParameters(context: Readonly<Record<string, unknown>>): StackParameters {
  for (const key of Object.keys(context)) {
    const retired = RETIRED_PARAMETERS[key]
    if (retired !== undefined) throw new StackParameterError(key, retired)
    if (/^[a-z][a-zA-Z0-9]*$/.test(key) && !(STACK_PARAMETER_NAMES as readonly string[]).includes(key)) {
      throw new StackParameterError(
        key,
        `unknown parameter; the parameters are ${STACK_PARAMETER_NAMES.join(', ')}`,
      )
    }
  }
  const read = (key: (typeof STACK_PARAMETER_NAMES)[number]) => text(key, context[key])
  const taskBackend = oneOf('taskBackend', read('taskBackend') ?? STACK_PARAMETER_DEFAULTS.taskBackend, [
    'redis',
    'sqlite',
  ] as const)
  const availabilityZoneIds = zoneIds(read('availabilityZoneIds'), taskBackend)
  const name = matching(
    'name',
    read('name') ?? STACK_PARAMETER_DEFAULTS.name,
    // Runtime and memory names are [a-zA-Z][a-zA-Z0-9_]{0,47}; the longest suffix added is _mcp_server.
    /^[a-zA-Z][a-zA-Z0-9_]{0,35}$/,
    'a letter, then up to 35 letters, digits or _',
  )
  const auth = callerAuth(read)
  // The name prefixes the user pool's Cognito domain, where these words are reserved.
  if (auth.kind === 'cognito' && /aws|amazon|cognito/i.test(name))
    throw new StackParameterError(
      'name',
      `"${name}" contains aws, amazon or cognito, which a Cognito domain may not`,
    )
  const workers = taskWorkers(read, taskBackend)
  return {
    stackName: matching(
      'stackName',
      read('stackName') ?? STACK_PARAMETER_DEFAULTS.stackName,
      /^[A-Za-z][A-Za-z0-9-]{0,127}$/,
      'letters, digits and -, starting with a letter',
    ),
    name,
    model: modelTarget(read('modelId') ?? STACK_PARAMETER_DEFAULTS.modelId),
    modelMarketplaceAccess: flag(
      'modelMarketplaceAccess',
      read('modelMarketplaceAccess'),
      STACK_PARAMETER_DEFAULTS.modelMarketplaceAccess,
    ),
    eventExpiryDays: integer(
      'eventExpiryDays',
      read('eventExpiryDays') ?? String(STACK_PARAMETER_DEFAULTS.eventExpiryDays),
      7,
      365,
    ),
    longTermMemory: longTermStrategies(read('longTermMemory') ?? STACK_PARAMETER_DEFAULTS.longTermMemory),
    taskBackend,
    redisNodeType: matching(
      'redisNodeType',
      read('redisNodeType') ?? STACK_PARAMETER_DEFAULTS.redisNodeType,
      /^cache\.[a-z0-9]+\.[a-z0-9]+$/,
      'an ElastiCache node type such as cache.t4g.micro',
    ),
    redisReplicas: integer(
      'redisReplicas',
      read('redisReplicas') ?? String(STACK_PARAMETER_DEFAULTS.redisReplicas),
      0,
      5,
    ),
    availabilityZoneIds,
    auth,
    ...workers,
    otlpEndpoint: optionalHttpsUrl('otlpEndpoint', read('otlpEndpoint'), { allowHttp: true }),
    imageBuild: oneOf('imageBuild', read('imageBuild') ?? STACK_PARAMETER_DEFAULTS.imageBuild, [
      'codebuild',
      'docker',
    ] as const),
  }
}

/**
 * Who runs the tasks. With redis, by default an ECS Fargate service of `longrun worker`s, which no
 * Runtime session bounds, and the MCP microVMs only take calls; with sqlite the MCP server runs its
 * own tasks (there is no shared queue to serve workers from).
 */
function taskWorkers(
  read: (key: (typeof STACK_PARAMETER_NAMES)[number]) => string | undefined,
  taskBackend: TaskBackend,
): Pick<StackParameters, 'workers' | 'workerCount' | 'mcpRunsTasks'> {
  const workers = oneOf('workers', read('workers') ?? (taskBackend === 'redis' ? 'fargate' : 'none'), [
    'fargate',
    'none',
  ] as const)
  if (workers === 'fargate' && taskBackend !== 'redis')
    throw new StackParameterError('workers', 'workers take tasks from Redis: only with taskBackend=redis')
  const workerCount = integer(
    'workerCount',
    read('workerCount') ?? String(STACK_PARAMETER_DEFAULTS.workerCount),
    1,
    20,
  )
  if (workers === 'none' && read('workerCount') !== undefined)
    throw new StackParameterError('workerCount', 'only with workers=fargate')
  const mcpRunsTasks = flag('mcpRunsTasks', read('mcpRunsTasks'), workers === 'none')
  if (!mcpRunsTasks && workers === 'none')
    throw new StackParameterError(
      'mcpRunsTasks',
      'with workers=none the MCP server is the only one to run tasks',
    )
  return { workers, workerCount, mcpRunsTasks }
}

/** A context value as text: `-c key=value` gives strings, a cdk.json or a test may give numbers. */
function text(key: string, value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  if (Array.isArray(value) && value.every((each) => typeof each === 'string')) return value.join(',')
  if (typeof value !== 'string') throw new StackParameterError(key, 'must be a string')
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed
}

function matching(key: string, value: string, pattern: RegExp, description: string): string {
  if (!pattern.test(value)) throw new StackParameterError(key, `"${value}" is not ${description}`)
  return value
}

function integer(key: string, value: string, min: number, max: number): number {
  const parsed = Number(value)
  if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new StackParameterError(key, `"${value}" is not a whole number from ${min} to ${max}`)
  }
  return parsed
}

/** `true` or `false` (what `-c key=true` gives), or the default when unset. */
function flag(key: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (value !== 'true' && value !== 'false')
    throw new StackParameterError(key, `"${value}" is not true or false`)
  return value === 'true'
}

function oneOf<T extends string>(key: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value))
    throw new StackParameterError(key, `"${value}" is not one of ${choices.join(', ')}`)
  return value as T
}

function list(key: string, value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined
  const items = value
    .split(',')
    .map((each) => each.trim())
    .filter((each) => each !== '')
  if (items.length === 0) throw new StackParameterError(key, 'give at least one value, comma-separated')
  if (new Set(items).size !== items.length) throw new StackParameterError(key, 'a value is given twice')
  return items
}

function optionalHttpsUrl(
  key: string,
  value: string | undefined,
  options: { allowHttp?: boolean } = {},
): string | undefined {
  if (value === undefined) return undefined
  const url = URL.canParse(value) ? new URL(value) : undefined
  const schemes = options.allowHttp ? ['https:', 'http:'] : ['https:']
  if (url === undefined || !schemes.includes(url.protocol))
    throw new StackParameterError(key, `"${value}" is not an ${schemes.join(' or ').replaceAll(':', '')} URL`)
  return value
}

/**
 * A Bedrock model id, or a cross-Region inference profile id (`<scope>.<model id>`): the roles are
 * scoped to exactly this model, so an ARN or a typo is refused here rather than at the first turn.
 */
function modelTarget(id: string): ModelTarget {
  if (id.startsWith('arn:'))
    throw new StackParameterError('modelId', 'give the model or inference profile id, not an ARN')
  if (!/^[a-z][a-z0-9-]*\.[a-zA-Z0-9][a-zA-Z0-9.:_-]*$/.test(id) || id.length > 200)
    throw new StackParameterError(
      'modelId',
      `"${id}" is not a Bedrock model id such as anthropic.claude-sonnet-4-6`,
    )
  const [first = '', ...rest] = id.split('.')
  if (PROFILE_SCOPES.has(first)) {
    const foundationModel = rest.join('.')
    if (!foundationModel.includes('.'))
      throw new StackParameterError(
        'modelId',
        `"${id}": an inference profile id is <scope>.<provider>.<model>`,
      )
    return { id, foundationModel, profileScope: first }
  }
  return { id, foundationModel: id, profileScope: undefined }
}

function longTermStrategies(value: string): LongTermStrategy[] {
  if (value === 'none') return []
  const items = list('longTermMemory', value) ?? []
  return items.map((item) => {
    if (!(LONG_TERM_STRATEGIES as readonly string[]).includes(item))
      throw new StackParameterError(
        'longTermMemory',
        `"${item}" is not none or a comma list of ${LONG_TERM_STRATEGIES.join(', ')}`,
      )
    return item as LongTermStrategy
  })
}

/** Cognito unless an issuer is given; a provider of yours needs issuer, key set, audiences or client ids. */
function callerAuth(
  read: (key: (typeof STACK_PARAMETER_NAMES)[number]) => string | undefined,
): CallerAuthParameters {
  const issuer = read('oidcIssuer')
  const jwksUrl = read('oidcJwksUrl')
  const audiences = list('oidcAudiences', read('oidcAudiences'))
  const clientIds = list('oidcClientIds', read('oidcClientIds'))
  if (issuer === undefined) {
    const stray = ['oidcJwksUrl', 'oidcAudiences', 'oidcClientIds'].find(
      (key) => read(key as (typeof STACK_PARAMETER_NAMES)[number]) !== undefined,
    )
    if (stray !== undefined)
      throw new StackParameterError(
        stray,
        'only with oidcIssuer (without it the stack creates a Cognito user pool)',
      )
    return {
      kind: 'cognito',
      mfa: oneOf('cognitoMfa', read('cognitoMfa') ?? STACK_PARAMETER_DEFAULTS.cognitoMfa, [
        'off',
        'optional',
        'required',
      ] as const),
      passwordAuth: flag(
        'cognitoPasswordAuth',
        read('cognitoPasswordAuth'),
        STACK_PARAMETER_DEFAULTS.cognitoPasswordAuth,
      ),
    }
  }
  const cognitoOnly = (['cognitoMfa', 'cognitoPasswordAuth'] as const).find((key) => read(key) !== undefined)
  if (cognitoOnly !== undefined)
    throw new StackParameterError(cognitoOnly, 'only with the Cognito user pool (no oidcIssuer)')
  optionalHttpsUrl('oidcIssuer', issuer)
  if (jwksUrl === undefined) throw new StackParameterError('oidcJwksUrl', 'required with oidcIssuer')
  optionalHttpsUrl('oidcJwksUrl', jwksUrl)
  if (audiences === undefined && clientIds === undefined)
    throw new StackParameterError(
      'oidcAudiences',
      'oidcIssuer needs oidcAudiences or oidcClientIds (or both): which tokens to accept',
    )
  return { kind: 'oidc', issuer, jwksUrl, audiences: audiences ?? [], clientIds: clientIds ?? [] }
}

/**
 * Two or more zone IDs of one Region. In a Region of deploy/availability-zones.ts each must be one
 * AgentCore supports for VPC mode: an unsupported one would fail only when the runtime is created.
 */
function zoneIds(value: string | undefined, taskBackend: TaskBackend): string[] | undefined {
  const ids = list('availabilityZoneIds', value)
  if (ids === undefined) return undefined
  const refuse = (message: string) => new StackParameterError('availabilityZoneIds', message)
  if (taskBackend !== 'redis') throw refuse('only the redis task backend has a VPC to place')
  if (ids.length < 2) throw refuse('give at least two zone IDs, comma-separated')
  for (const id of ids)
    if (!ZONE_ID_PATTERN.test(id))
      throw refuse(`"${id}" is not an Availability Zone ID such as use1-az1 (${LIST_ZONE_IDS_COMMAND})`)
  const prefixes = new Set(ids.map(regionCodeOf))
  if (prefixes.size > 1) throw refuse(`${ids.join(', ')} are not all of one Region`)
  const region = tableRegionOf(ids[0] as string)
  const supported = region === undefined ? undefined : AGENTCORE_VPC_ZONE_IDS[region]
  const unsupported = ids.filter((id) => supported !== undefined && !supported.includes(id))
  if (unsupported.length > 0)
    throw refuse(
      `AgentCore Runtime does not support ${unsupported.join(', ')} for VPC mode; in ${region} it supports ${supported?.join(', ')}`,
    )
  return ids
}
