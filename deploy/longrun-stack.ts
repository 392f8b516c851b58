/**
 * The whole deployment: AgentCore Memory, the long-running MCP server and the agent as two
 * AgentCore Runtimes built from this repository's Dockerfile, the callers' JWT issuer (and the MCP
 * server's wake client), and (with the redis task backend) the VPC and ElastiCache group where tasks
 * outlive a Runtime session, with ECS Fargate workers that run them whether or not a session is
 * open. The stack
 * is environment-agnostic: it names its Region and account only through pseudo parameters, so it
 * synthesises offline and deploys to whichever account and Region the credentials point at.
 */
import { fileURLToPath } from 'node:url'
import { Aws, CfnOutput, Fn, Stack, type StackProps } from 'aws-cdk-lib'
import { CfnMemory, CfnRuntime } from 'aws-cdk-lib/aws-bedrockagentcore'
import { PolicyStatement } from 'aws-cdk-lib/aws-iam'
import type { Construct } from 'constructs'
import { CallerAuth } from './caller-auth.ts'
import { runtimeImages } from './container-images.ts'
import { RuntimeExecutionRole } from './execution-role.ts'
import { marketplaceStatements, modelInvokeStatements } from './model-access.ts'
import { RedisTaskStore } from './redis-task-store.ts'
import {
  agentEnvironment,
  mcpServerEnvironment,
  type TaskSideConfig,
  workerEnvironment,
} from './runtime-environment.ts'
import { QUEUE_METRIC, TaskWorkers } from './task-workers.ts'
import type { LongTermStrategy, StackParameters } from './stack-parameters.ts'

/** The repository root: the Docker build context of every image. */
export const BUILD_CONTEXT = fileURLToPath(new URL('..', import.meta.url))

/** The Dockerfile targets: the two runtimes' images and the workers'. */
export const IMAGE_TARGETS = { agent: 'agent', mcpServer: 'mcp-server', worker: 'worker' } as const

/**
 * What each runtime's code sends to AgentCore Memory. The agent writes its turns (CreateEvent) and
 * restores sessions (ListEvents); the entrypoint configures no long-term retrieval and never deletes
 * a session, so RetrieveMemoryRecords and DeleteEvent stay out. The MCP server writes task results.
 */
export const AGENT_MEMORY_ACTIONS = ['bedrock-agentcore:CreateEvent', 'bedrock-agentcore:ListEvents']
export const MCP_SERVER_MEMORY_ACTIONS = ['bedrock-agentcore:CreateEvent']
/** What the MCP server's wakes call: the agent runtime alone, found by its name. */
export const MCP_SERVER_WAKE_ACTIONS = ['bedrock-agentcore:InvokeAgentRuntime']
export const MCP_SERVER_LOOKUP_ACTIONS = ['bedrock-agentcore:ListAgentRuntimes']
/** What the MCP server does with the secrets it is given by ARN: reads each once at start. */
export const MCP_SERVER_SECRET_ACTIONS = ['secretsmanager:GetSecretValue']

export interface LongrunStackProps extends StackProps {
  readonly parameters: StackParameters
}

export class LongrunStack extends Stack {
  readonly memory: CfnMemory
  readonly agentRuntime: CfnRuntime
  readonly mcpRuntime: CfnRuntime
  readonly callerAuth: CallerAuth
  /** Present with the redis task backend. */
  readonly taskStore: RedisTaskStore | undefined
  /** The ECS service of `longrun worker`s (workers=fargate). */
  readonly workers: TaskWorkers | undefined

  constructor(scope: Construct, id: string, props: LongrunStackProps) {
    const { parameters, ...stackProps } = props
    super(scope, id, {
      description:
        'longrun: an agent and its long-running MCP server on Amazon Bedrock AgentCore Runtime, with AgentCore Memory',
      ...stackProps,
    })
    const { name } = parameters

    this.memory = new CfnMemory(this, 'Memory', {
      name: `${name}_memory`,
      description: 'Conversations of the longrun agent, and the results of its long-running tasks',
      eventExpiryDuration: parameters.eventExpiryDays,
      ...(parameters.longTermMemory.length > 0 && {
        memoryStrategies: parameters.longTermMemory.map(longTermStrategy),
      }),
    })

    this.callerAuth = new CallerAuth(this, 'Callers', { parameters: parameters.auth, name })
    const callers = this.callerAuth

    this.taskStore =
      parameters.taskBackend === 'redis'
        ? new RedisTaskStore(this, 'TaskStore', {
            nodeType: parameters.redisNodeType,
            replicas: parameters.redisReplicas,
            availabilityZoneIds: parameters.availabilityZoneIds,
            extraEgressPorts: otlpPort(parameters.otlpEndpoint),
          })
        : undefined

    // The MCP server first: the agent's environment names its invocation URL. The MCP server names
    // the agent it wakes by the agent's name (known before either exists), not by its ARN.
    const mcpRuntimeName = `${name}_mcp_server`
    const agentRuntimeName = `${name}_agent`
    const wake = callers.wakeIdentity
    const wakeClient =
      wake === undefined
        ? undefined
        : {
            clientId: wake.clientId,
            tokenUrl: wake.tokenUrl,
            scope: wake.scope,
            secretArn: wake.secret.secretArn,
          }
    // The worker image only when there are workers: each image is a build at every deploy.
    const { worker: workerTarget, ...runtimeTargets } = IMAGE_TARGETS
    const images = runtimeImages(this, {
      directory: BUILD_CONTEXT,
      targets: {
        ...runtimeTargets,
        ...(parameters.workers === 'fargate' && { worker: workerTarget }),
      },
      build: parameters.imageBuild,
    })
    const mcpImage = images.mcpServer
    const mcpRole = new RuntimeExecutionRole(this, 'McpServerRole', {
      runtimeName: mcpRuntimeName,
      repository: mcpImage.repository,
      description: 'longrun MCP server runtime: writes task results into the memory',
    })
    const taskSideSecrets = [wake?.secret, this.taskStore?.authSecret].filter(
      (secret) => secret !== undefined,
    )
    const taskSide = taskSideAccess({
      memoryArn: this.memory.attrMemoryArn,
      agentRuntimeName,
      queueMetric: parameters.workers === 'fargate',
      secretArns: taskSideSecrets.map((secret) => secret.secretArn),
    })
    mcpRole.allow(...taskSide)
    const taskSideConfig: TaskSideConfig = {
      taskBackend: parameters.taskBackend,
      redis:
        this.taskStore === undefined
          ? undefined
          : { url: this.taskStore.url, passwordSecretArn: this.taskStore.authSecret.secretArn },
      otlpEndpoint: parameters.otlpEndpoint,
      wakeRuntimeName: agentRuntimeName,
      wakeClient,
      queueMetricDeployment: parameters.workers === 'fargate' ? name : undefined,
    }
    this.mcpRuntime = new CfnRuntime(this, 'McpServerRuntime', {
      agentRuntimeName: mcpRuntimeName,
      description: 'longrun long-running MCP server (Streamable HTTP on 8000 at /mcp)',
      roleArn: mcpRole.role.roleArn,
      agentRuntimeArtifact: { containerConfiguration: { containerUri: mcpImage.imageUri } },
      protocolConfiguration: 'MCP',
      networkConfiguration:
        this.taskStore === undefined
          ? { networkMode: 'PUBLIC' }
          : {
              networkMode: 'VPC',
              networkModeConfig: {
                subnets: this.taskStore.runtimeSubnetIds,
                securityGroups: [this.taskStore.runtimeSecurityGroup.securityGroupId],
              },
            },
      authorizerConfiguration: callers.authorizer(),
      // The server checks the caller's token again, so the authorizer must pass it on.
      requestHeaderConfiguration: { requestHeaderAllowlist: ['Authorization'] },
      // A microVM running a task (mcpRunsTasks, sqlite) reports HealthyBusy: let it live the longest, 8 h.
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28_800 },
      environmentVariables: mcpServerEnvironment({
        ...taskSideConfig,
        callers,
        runsTasks: parameters.mcpRunsTasks,
      }),
    })
    // The role's policy, and the image in the runtime's repository, must exist before the runtime
    // starts pulling it.
    this.mcpRuntime.node.addDependency(mcpRole.policy, mcpImage.ready)
    // The runtime's subnets reach AWS through the NAT gateway: their routes must be there first.
    if (this.taskStore !== undefined) this.mcpRuntime.node.addDependency(this.taskStore.internetReady)
    const mcpServerUrl = invocationUrl(this.mcpRuntime)

    const agentImage = images.agent
    const agentRole = new RuntimeExecutionRole(this, 'AgentRole', {
      runtimeName: agentRuntimeName,
      repository: agentImage.repository,
      description: 'longrun agent runtime: its conversations in the memory, its model',
    })
    agentRole.allow(
      new PolicyStatement({
        sid: 'Conversations',
        actions: AGENT_MEMORY_ACTIONS,
        resources: [this.memory.attrMemoryArn],
      }),
      ...modelInvokeStatements(parameters.model),
      ...(parameters.modelMarketplaceAccess ? marketplaceStatements() : []),
    )
    this.agentRuntime = new CfnRuntime(this, 'AgentRuntime', {
      agentRuntimeName,
      description: 'longrun agent (POST /invocations, GET /ping on 8080)',
      roleArn: agentRole.role.roleArn,
      agentRuntimeArtifact: { containerConfiguration: { containerUri: agentImage.imageUri } },
      protocolConfiguration: 'HTTP',
      networkConfiguration: { networkMode: 'PUBLIC' },
      authorizerConfiguration: callers.authorizer(),
      requestHeaderConfiguration: { requestHeaderAllowlist: ['Authorization'] },
      environmentVariables: agentEnvironment({
        memoryId: this.memory.attrMemoryId,
        modelId: parameters.model.id,
        mcpServerUrl,
        callers,
        otlpEndpoint: parameters.otlpEndpoint,
        wakeClient,
      }),
    })
    this.agentRuntime.node.addDependency(agentRole.policy, agentImage.ready)

    // Workers that no Runtime session bounds, scaled on the queue's depth (deploy/task-workers.ts).
    this.workers =
      this.taskStore !== undefined && images.worker !== undefined
        ? new TaskWorkers(this, 'Workers', {
            vpc: this.taskStore.vpc,
            subnets: this.taskStore.privateSubnets,
            securityGroup: this.taskStore.runtimeSecurityGroup,
            image: images.worker,
            environment: workerEnvironment(taskSideConfig),
            statements: taskSide,
            count: parameters.workerCount,
            deployment: name,
          })
        : undefined
    if (this.workers !== undefined)
      new CfnOutput(this, 'WorkerService', { value: this.workers.service.serviceName })

    new CfnOutput(this, 'AgentRuntimeArn', { value: this.agentRuntime.attrAgentRuntimeArn })
    new CfnOutput(this, 'AgentInvocationUrl', {
      value: invocationUrl(this.agentRuntime),
      description: 'POST a payload here with Authorization: Bearer <token>',
    })
    new CfnOutput(this, 'McpRuntimeArn', { value: this.mcpRuntime.attrAgentRuntimeArn })
    new CfnOutput(this, 'McpServerUrl', { value: mcpServerUrl })
    new CfnOutput(this, 'MemoryId', { value: this.memory.attrMemoryId })
    new CfnOutput(this, 'Region', { value: Aws.REGION })
    new CfnOutput(this, 'TaskBackend', { value: parameters.taskBackend })
  }
}

/**
 * `https://bedrock-agentcore.<region>.amazonaws.com/runtimes/<runtime ARN, URL-encoded>/invocations?qualifier=DEFAULT`.
 * The ARN is `arn:<partition>:bedrock-agentcore:<region>:<account>:runtime/<runtime id>`, unknown
 * until deploy, so its encoded form is joined from the pieces rather than encoded here.
 */
export function invocationUrl(runtime: CfnRuntime): string {
  const encodedArn = Fn.join('', [
    'arn%3A',
    Aws.PARTITION,
    '%3Abedrock-agentcore%3A',
    Aws.REGION,
    '%3A',
    Aws.ACCOUNT_ID,
    '%3Aruntime%2F',
    runtime.attrAgentRuntimeId,
  ])
  return Fn.join('', [
    'https://bedrock-agentcore.',
    Aws.REGION,
    '.',
    Aws.URL_SUFFIX,
    '/runtimes/',
    encodedArn,
    '/invocations?qualifier=DEFAULT',
  ])
}

/** Built-in long-term strategies, each with its own namespace per actor. */
function longTermStrategy(strategy: LongTermStrategy): CfnMemory.MemoryStrategyProperty {
  switch (strategy) {
    case 'semantic':
      return {
        semanticMemoryStrategy: {
          name: 'facts',
          description: 'Facts from the conversations, per actor',
          namespaces: ['/facts/{actorId}'],
        },
      }
    case 'summary':
      return {
        summaryMemoryStrategy: {
          name: 'summaries',
          description: 'A summary of each session',
          namespaces: ['/summaries/{actorId}/{sessionId}'],
        },
      }
    case 'userPreference':
      return {
        userPreferenceMemoryStrategy: {
          name: 'preferences',
          description: 'Preferences of each actor',
          namespaces: ['/preferences/{actorId}'],
        },
      }
  }
}

/** The OTLP endpoint's port when it is not 443 (the MCP server's security group opens it). */
function otlpPort(endpoint: string | undefined): number[] {
  if (endpoint === undefined) return []
  const url = new URL(endpoint)
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  return port === 443 ? [] : [port]
}

/**
 * What the code that runs tasks and delivers their results calls, in the MCP runtime and in the
 * workers alike: result events into the memory; continuations, which invoke the agent runtime and
 * no other (its id is its name and a suffix AgentCore picks, hence the wildcard after the name),
 * found by its name with a listing that takes no resource but `*`; the queue depth the workers
 * are scaled on, in its own metric namespace only; and the values of its secrets (no more).
 */
function taskSideAccess(config: {
  memoryArn: string
  agentRuntimeName: string
  queueMetric: boolean
  /** The secrets read once at start: the wake client's, Redis's AUTH password. */
  secretArns: readonly string[]
}): PolicyStatement[] {
  const runtime = `arn:${Aws.PARTITION}:bedrock-agentcore:${Aws.REGION}:${Aws.ACCOUNT_ID}:runtime/${config.agentRuntimeName}-*`
  return [
    new PolicyStatement({
      sid: 'DeliverTaskResults',
      actions: MCP_SERVER_MEMORY_ACTIONS,
      resources: [config.memoryArn],
    }),
    new PolicyStatement({
      sid: 'WakeTheAgent',
      actions: MCP_SERVER_WAKE_ACTIONS,
      resources: [runtime, `${runtime}/runtime-endpoint/DEFAULT`],
    }),
    new PolicyStatement({ sid: 'FindTheAgent', actions: MCP_SERVER_LOOKUP_ACTIONS, resources: ['*'] }),
    ...(config.queueMetric
      ? [
          new PolicyStatement({
            sid: 'QueueDepth',
            actions: ['cloudwatch:PutMetricData'],
            resources: ['*'],
            conditions: { StringEquals: { 'cloudwatch:namespace': QUEUE_METRIC.namespace } },
          }),
        ]
      : []),
    ...(config.secretArns.length > 0
      ? [
          new PolicyStatement({
            sid: 'StartSecrets',
            actions: MCP_SERVER_SECRET_ACTIONS,
            resources: [...config.secretArns],
          }),
        ]
      : []),
  ]
}
