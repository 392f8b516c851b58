/**
 * The whole deployment: AgentCore Memory, the long-running MCP server and the agent as two
 * AgentCore Runtimes built from this repository's Dockerfile, the callers' JWT issuer, and (with the
 * redis task backend) the VPC and ElastiCache group where tasks outlive a Runtime session. The stack
 * is environment-agnostic: it names its Region and account only through pseudo parameters, so it
 * synthesises offline and deploys to whichever account and Region the credentials point at.
 */
import { fileURLToPath } from 'node:url'
import { Aws, CfnOutput, Fn, IgnoreMode, Stack, type StackProps } from 'aws-cdk-lib'
import { CfnMemory, CfnRuntime } from 'aws-cdk-lib/aws-bedrockagentcore'
import { DockerImageAsset, Platform } from 'aws-cdk-lib/aws-ecr-assets'
import { PolicyStatement } from 'aws-cdk-lib/aws-iam'
import type { Construct } from 'constructs'
import { CallerAuth } from './caller-auth.ts'
import { RuntimeExecutionRole } from './execution-role.ts'
import { modelInvokeStatements } from './model-access.ts'
import { RedisTaskStore } from './redis-task-store.ts'
import { agentEnvironment, mcpServerEnvironment } from './runtime-environment.ts'
import type { LongTermStrategy, StackParameters } from './stack-parameters.ts'

/** The repository root: the Docker build context of both images. */
export const BUILD_CONTEXT = fileURLToPath(new URL('..', import.meta.url))

/** The Dockerfile targets of the two images. */
export const IMAGE_TARGETS = { agent: 'agent', mcpServer: 'mcp-server' } as const

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
            availabilityZones: parameters.availabilityZones,
            extraEgressPorts: otlpPort(parameters.otlpEndpoint),
          })
        : undefined

    // The MCP server first: the agent's environment names its invocation URL. The MCP server names
    // the agent it wakes by the agent's name (known before either exists), not by its ARN.
    const mcpRuntimeName = `${name}_mcp_server`
    const agentRuntimeName = `${name}_agent`
    const mcpImage = image(this, 'McpServerImage', IMAGE_TARGETS.mcpServer)
    const mcpRole = new RuntimeExecutionRole(this, 'McpServerRole', {
      runtimeName: mcpRuntimeName,
      image: mcpImage,
      description: 'longrun MCP server runtime: writes task results into the memory',
    })
    mcpRole.allow(
      new PolicyStatement({
        sid: 'DeliverTaskResults',
        actions: MCP_SERVER_MEMORY_ACTIONS,
        resources: [this.memory.attrMemoryArn],
      }),
      // Continuations: a task's end invokes the agent runtime, and no other (its id is its name and
      // a suffix AgentCore picks, hence the wildcard after the name).
      new PolicyStatement({
        sid: 'WakeTheAgent',
        actions: MCP_SERVER_WAKE_ACTIONS,
        resources: [
          `arn:${Aws.PARTITION}:bedrock-agentcore:${Aws.REGION}:${Aws.ACCOUNT_ID}:runtime/${agentRuntimeName}-*`,
          `arn:${Aws.PARTITION}:bedrock-agentcore:${Aws.REGION}:${Aws.ACCOUNT_ID}:runtime/${agentRuntimeName}-*/runtime-endpoint/DEFAULT`,
        ],
      }),
      // The name becomes the ARN at the first wake; listing takes no resource but `*`.
      new PolicyStatement({ sid: 'FindTheAgent', actions: MCP_SERVER_LOOKUP_ACTIONS, resources: ['*'] }),
    )
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
      // A session with a running task reports HealthyBusy; it may live the Runtime's longest, 8 h.
      lifecycleConfiguration: { idleRuntimeSessionTimeout: 900, maxLifetime: 28_800 },
      environmentVariables: mcpServerEnvironment({
        taskBackend: parameters.taskBackend,
        redisUrl: this.taskStore?.url,
        callers,
        otlpEndpoint: parameters.otlpEndpoint,
        wakeRuntimeName: agentRuntimeName,
      }),
    })
    // The role's policy must exist before the runtime starts pulling its image.
    this.mcpRuntime.node.addDependency(mcpRole)
    if (this.taskStore !== undefined) this.mcpRuntime.node.addDependency(this.taskStore)
    const mcpServerUrl = invocationUrl(this.mcpRuntime)

    const agentImage = image(this, 'AgentImage', IMAGE_TARGETS.agent)
    const agentRole = new RuntimeExecutionRole(this, 'AgentRole', {
      runtimeName: agentRuntimeName,
      image: agentImage,
      description: 'longrun agent runtime: its conversations in the memory, its model',
    })
    agentRole.allow(
      new PolicyStatement({
        sid: 'Conversations',
        actions: AGENT_MEMORY_ACTIONS,
        resources: [this.memory.attrMemoryArn],
      }),
      ...modelInvokeStatements(parameters.model),
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
      }),
    })
    this.agentRuntime.node.addDependency(agentRole)

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

/** A container image of this repository, staged at synth and built for arm64 (the Runtime's CPU) at deploy. */
function image(scope: Construct, id: string, target: string): DockerImageAsset {
  return new DockerImageAsset(scope, id, {
    directory: BUILD_CONTEXT,
    target,
    platform: Platform.LINUX_ARM64,
    ignoreMode: IgnoreMode.DOCKER,
  })
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
