import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  AGENT_MEMORY_ACTIONS,
  MCP_SERVER_LOOKUP_ACTIONS,
  MCP_SERVER_MEMORY_ACTIONS,
  MCP_SERVER_SECRET_ACTIONS,
  MCP_SERVER_WAKE_ACTIONS,
} from '../../deploy/longrun-stack.ts'
import { RUNTIME_METRICS_NAMESPACE } from '../../deploy/execution-role.ts'
import { MARKETPLACE_ACTIONS } from '../../deploy/model-access.ts'
import { QUEUE_METRIC } from '../../deploy/task-workers.ts'
import {
  actionsOf,
  type CfnResource,
  flatten,
  runtimeOf,
  type SynthesizedStack,
  withSynthesized,
} from '../helpers/deploy-stack.ts'

/**
 * Every IAM statement of the template, walked whatever resource holds it: no wildcard action, no
 * `*` resource but for the actions AWS authorizes on `*` only, no wildcard in an ARN but where the
 * table below says why, and each role granted exactly what its code calls. A statement added
 * anywhere fails here until it is scoped (or this file says why it cannot be). The images'
 * deploy-time machinery (deploy/container-images.ts: CodeBuild's project role, the custom resources'
 * Lambda roles) is walked too; it runs only while CloudFormation deploys, and what CDK grants it in
 * a fixed form (its build logs and reports, a read of the uploaded build context, Lambda's logging)
 * is listed below with its reason.
 */

interface Statement {
  readonly Sid?: string
  readonly Effect: string
  readonly Action?: string | string[]
  readonly NotAction?: unknown
  readonly Resource?: unknown
  readonly NotResource?: unknown
  readonly Principal?: unknown
  readonly Condition?: Record<string, Record<string, unknown>>
}

/** Actions AWS grants on `*` only (no resource-level permissions), with the condition each needs here. */
const STAR_ONLY_ACTIONS: Record<string, ((statement: Statement) => boolean) | undefined> = {
  'ecr:GetAuthorizationToken': undefined,
  // The MCP server finds the agent runtime it wakes by name (ListAgentRuntimes has no resource type).
  'bedrock-agentcore:ListAgentRuntimes': undefined,
  // Only into AgentCore's own metrics namespace, or the queue depth's the workers scale on.
  'cloudwatch:PutMetricData': (statement) =>
    [RUNTIME_METRICS_NAMESPACE, QUEUE_METRIC.namespace].includes(
      String(statement.Condition?.StringEquals?.['cloudwatch:namespace']),
    ),
  // Opt-in (modelMarketplaceAccess): Bedrock subscribes to a model's offer as its first caller.
  ...Object.fromEntries(MARKETPLACE_ACTIONS.map((action) => [action, undefined])),
}

const ARN = (service: string) =>
  `arn:\\$\\{AWS::Partition\\}:${service}:\\$\\{AWS::Region\\}:\\$\\{AWS::AccountId\\}:`

/**
 * Wildcards inside ARNs, each scoped as far as AWS allows: a runtime's log groups are named after
 * its id, which is its name plus a suffix AgentCore picks; DescribeLogGroups takes only the
 * account's whole set; a cross-Region inference profile runs its model in Regions it picks, and
 * that statement also carries the profile condition.
 */
const WILDCARD_ARNS: readonly { actions: readonly string[]; pattern: RegExp; condition?: string }[] = [
  {
    actions: ['logs:CreateLogGroup', 'logs:DescribeLogStreams'],
    pattern: new RegExp(
      `^${ARN('logs')}log-group:/aws/bedrock-agentcore/runtimes/longrun_(agent|mcp_server)-\\*$`,
    ),
  },
  {
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    pattern: new RegExp(
      `^${ARN('logs')}log-group:/aws/bedrock-agentcore/runtimes/longrun_(agent|mcp_server)-\\*:log-stream:\\*$`,
    ),
  },
  { actions: ['logs:DescribeLogGroups'], pattern: new RegExp(`^${ARN('logs')}log-group:\\*$`) },
  // The one agent runtime the MCP server wakes: its id is its name and a suffix AgentCore picks.
  {
    actions: ['bedrock-agentcore:InvokeAgentRuntime'],
    pattern: new RegExp(`^${ARN('bedrock-agentcore')}runtime/longrun_agent-\\*(/runtime-endpoint/DEFAULT)?$`),
  },
  {
    actions: ['bedrock:InvokeModel', 'bedrock:InvokeModelWithResponseStream'],
    pattern: /^arn:\$\{AWS::Partition\}:bedrock:\*::foundation-model\/[a-z0-9.:-]+$/,
    condition: 'bedrock:InferenceProfileArn',
  },
  // Deploy-time machinery, CodeBuild's project role (imageBuild=codebuild): the streams of the
  // project's own log group (one per build) and the project's report groups (its name and a
  // suffix), which CDK grants every project; the objects of the CDK bootstrap's asset bucket, where
  // the build context is uploaded under a content hash (BOOTSTRAP_BUCKET_READ below).
  {
    actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
    pattern: new RegExp(`^${ARN('logs')}log-group:/aws/codebuild/\\$\\{[A-Za-z0-9]+\\}:\\*$`),
  },
  {
    actions: [
      'codebuild:CreateReportGroup',
      'codebuild:CreateReport',
      'codebuild:UpdateReport',
      'codebuild:BatchPutTestCases',
      'codebuild:BatchPutCodeCoverages',
    ],
    pattern: new RegExp(`^${ARN('codebuild')}report-group/\\$\\{[A-Za-z0-9]+\\}-\\*$`),
  },
  {
    actions: ['s3:GetObject*', 's3:GetBucket*', 's3:List*'],
    pattern:
      /^arn:\$\{AWS::Partition\}:s3:::cdk-hnb659fds-assets-\$\{AWS::AccountId\}-\$\{AWS::Region\}\/\*$/,
  },
]

/**
 * Wildcard actions, in one statement only: CDK's read grant on a file asset, which lets CodeBuild's
 * project role fetch the uploaded build context. Read-only, on the CDK bootstrap's asset bucket
 * alone (the deploy's own staging bucket), held by the CodeBuild project's role and no other.
 */
const BOOTSTRAP_BUCKET_READ = ['s3:GetObject*', 's3:GetBucket*', 's3:List*']
const BOOTSTRAP_BUCKET = 'arn:${AWS::Partition}:s3:::cdk-hnb659fds-assets-${AWS::AccountId}-${AWS::Region}'

/**
 * AWS managed policies a role may have, each with its reason (the walk sees inline policies only):
 * none on a runtime's role, only on the images' deploy-time machinery.
 */
const MANAGED_POLICIES: Record<string, string> = {
  'service-role/AWSLambdaBasicExecutionRole':
    "the custom resources' handlers (CodeBuild's trigger, the image copy) write their own logs",
  AmazonElasticContainerRegistryPublicReadOnly:
    'CodeBuild pulls the base image from ECR Public (read only; it has no private repositories)',
}

/** The policies of the CodeBuild projects' roles (deploy-time machinery, never a runtime's). */
function codeBuildPolicies(json: SynthesizedStack['json']): string[] {
  const roles = Object.values(json.Resources)
    .filter((resource) => resource.Type === 'AWS::CodeBuild::Project')
    .map(
      (project) => (project.Properties?.ServiceRole as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0],
    )
  return Object.entries(json.Resources)
    .filter(
      ([, resource]) =>
        resource.Type === 'AWS::IAM::Policy' &&
        (resource.Properties?.Roles as { Ref: string }[]).some((role) => roles.includes(role.Ref)),
    )
    .map(([id]) => id)
}

/** The roles the runtimes run as. */
function runtimeRoles(json: SynthesizedStack['json']): string[] {
  return Object.values(json.Resources)
    .filter((resource) => resource.Type === 'AWS::BedrockAgentCore::Runtime')
    .map((runtime) => (runtime.Properties?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0])
}

/** Every statement of every IAM policy in the template, with the resource that holds it. */
function statementsOf(json: SynthesizedStack['json']): { holder: string; statement: Statement }[] {
  const found: { holder: string; statement: Statement }[] = []
  const collect = (holder: string, document: unknown) => {
    for (const statement of [(document as { Statement: Statement | Statement[] }).Statement].flat())
      found.push({ holder, statement })
  }
  for (const [id, resource] of Object.entries(json.Resources)) {
    const properties = resource.Properties ?? {}
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy')
      collect(id, properties.PolicyDocument)
    if (resource.Type === 'AWS::IAM::Role')
      for (const policy of (properties.Policies ?? []) as { PolicyDocument: unknown }[])
        collect(id, policy.PolicyDocument)
    if (resource.Type === 'AWS::IAM::User' || resource.Type === 'AWS::IAM::Group')
      assert.fail(`${id}: the stack creates no IAM users or groups`)
  }
  return found
}

const resourcesOfStatement = (statement: Statement) => [statement.Resource ?? []].flat()

/** The role a runtime runs as, and every action its policies allow. */
function roleActions(json: SynthesizedStack['json'], protocol: 'HTTP' | 'MCP'): string[] {
  const [, runtime] = runtimeOf(json, protocol)
  const roleId = (runtime.Properties?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
  const holders = Object.entries(json.Resources)
    .filter(
      ([id, resource]: [string, CfnResource]) =>
        id === roleId ||
        (resource.Type === 'AWS::IAM::Policy' &&
          (resource.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref === roleId)),
    )
    .map(([id]) => id)
  return [
    ...new Set(
      statementsOf(json)
        .filter(({ holder }) => holders.includes(holder))
        .flatMap(({ statement }) => actionsOf(statement)),
    ),
  ].sort()
}

/**
 * What the platform needs of every runtime's role: pull its image, write its logs and metrics. No
 * X-Ray: the images run no ADOT, and traces go over OTLP to the collector `otlpEndpoint` names.
 */
const PLATFORM_ACTIONS = [
  'cloudwatch:PutMetricData',
  'ecr:BatchCheckLayerAvailability',
  'ecr:BatchGetImage',
  'ecr:GetAuthorizationToken',
  'ecr:GetDownloadUrlForLayer',
  'logs:CreateLogGroup',
  'logs:CreateLogStream',
  'logs:DescribeLogGroups',
  'logs:DescribeLogStreams',
  'logs:PutLogEvents',
]

function assertLeastPrivilege(
  synthesized: SynthesizedStack,
  model: { id: string; foundationModel: string },
): void {
  const { json } = synthesized
  const statements = statementsOf(json)
  assert.ok(statements.length > 0)
  for (const [id, resource] of Object.entries(json.Resources)) {
    if (resource.Type !== 'AWS::IAM::Role') continue
    for (const policy of (resource.Properties?.ManagedPolicyArns ?? []) as unknown[]) {
      const name = flatten(policy).replace(/^arn:\$\{AWS::Partition\}:iam::aws:policy\//, '')
      assert.ok(name in MANAGED_POLICIES, `${id}: managed policy ${flatten(policy)}`)
      assert.ok(!runtimeRoles(json).includes(id), `${id}: a runtime's role with ${name}`)
    }
  }
  for (const { holder, statement } of statements) {
    const where = `${holder} ${statement.Sid ?? JSON.stringify(actionsOf(statement))}`
    assert.equal(statement.Effect, 'Allow', where)
    assert.equal(statement.NotAction, undefined, `${where}: NotAction`)
    assert.equal(statement.NotResource, undefined, `${where}: NotResource`)
    assert.equal(statement.Principal, undefined, `${where}: a principal in an identity policy`)
    const actions = actionsOf(statement)
    assert.ok(actions.length > 0, where)
    for (const action of actions) {
      if (!action.includes('*')) continue
      assert.ok(BOOTSTRAP_BUCKET_READ.includes(action), `${where}: wildcard action ${action}`)
      assert.ok(codeBuildPolicies(json).includes(holder), `${where}: ${action} outside CodeBuild's role`)
      for (const resource of resourcesOfStatement(statement))
        assert.ok([BOOTSTRAP_BUCKET, `${BOOTSTRAP_BUCKET}/*`].includes(flatten(resource)), where)
    }
    for (const resource of resourcesOfStatement(statement)) {
      const arn = flatten(resource)
      if (arn === '*') {
        for (const action of actions) {
          assert.ok(action in STAR_ONLY_ACTIONS, `${where}: ${action} on *`)
          const condition = STAR_ONLY_ACTIONS[action]
          assert.ok(
            condition === undefined || condition(statement),
            `${where}: ${action} on * without its condition`,
          )
        }
        continue
      }
      if (
        actions.some((action) => [...AGENT_MEMORY_ACTIONS, ...MCP_SERVER_MEMORY_ACTIONS].includes(action))
      ) {
        // Memory actions name this stack's memory and nothing else.
        assert.deepEqual(resource, { 'Fn::GetAtt': ['Memory', 'MemoryArn'] }, where)
        continue
      }
      if (actions.some((action) => action.startsWith('secretsmanager:'))) {
        // Reading a secret's value: a secret this stack made (its ARN is its Ref), never a pattern.
        const secretId = (resource as { Ref?: string }).Ref
        assert.equal(json.Resources[secretId ?? '']?.Type, 'AWS::SecretsManager::Secret', `${where}: ${arn}`)
        for (const action of actions)
          assert.ok(
            ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'].includes(action),
            where,
          )
        continue
      }
      if (actions.some((action) => action.startsWith('bedrock:'))) {
        const names = [`foundation-model/${model.foundationModel}`, `inference-profile/${model.id}`]
        assert.ok(
          names.some((name) => arn.endsWith(`:${name}`)),
          `${where}: ${arn} is not the chosen model`,
        )
        if (!arn.includes('${AWS::AccountId}') && !arn.includes(':${AWS::Region}::'))
          assert.ok(statement.Condition?.StringEquals?.['bedrock:InferenceProfileArn'], `${where}: ${arn}`)
      }
      if (arn.includes('*')) {
        const allowed = WILDCARD_ARNS.find(
          ({ actions: scoped, pattern }) =>
            actions.every((action) => scoped.includes(action)) && pattern.test(arn),
        )
        assert.ok(allowed, `${where}: wildcard resource ${arn}`)
        if (allowed.condition !== undefined)
          assert.ok(
            statement.Condition?.StringEquals?.[allowed.condition],
            `${where}: ${arn} needs ${allowed.condition}`,
          )
        continue
      }
      // A resource of this stack by its ARN attribute (an image repository, the CodeBuild project):
      // in this account, and exactly that resource.
      const attribute = /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(arn)?.[1]
      if (attribute !== undefined) {
        assert.ok(json.Resources[attribute] !== undefined, `${where}: ${arn}`)
        continue
      }
      // Anything else names a resource of this account (the model's ARN has no account).
      assert.ok(
        arn.includes('${AWS::AccountId}') ||
          /^arn:\$\{AWS::Partition\}:bedrock:(\$\{AWS::Region\})?::foundation-model\//.test(arn),
        `${where}: ${arn} is not scoped to this account`,
      )
    }
  }
}

describe('IAM: least privilege', () => {
  test('every statement of the default stack is scoped (global inference profile)', () => {
    withSynthesized({}, (synthesized) =>
      assertLeastPrivilege(synthesized, {
        id: 'global.anthropic.claude-sonnet-4-6',
        foundationModel: 'anthropic.claude-sonnet-4-6',
      }),
    )
  })

  test('and with a foundation model id, a geographic profile, the sqlite backend and an OIDC provider', () => {
    const variants = [
      {
        context: { modelId: 'amazon.nova-pro-v1:0', taskBackend: 'sqlite' },
        foundationModel: 'amazon.nova-pro-v1:0',
      },
      {
        context: {
          modelId: 'eu.anthropic.claude-sonnet-4-6',
          oidcIssuer: 'https://login.example.com',
          oidcJwksUrl: 'https://login.example.com/keys',
          oidcAudiences: 'longrun',
          longTermMemory: 'semantic,summary,userPreference',
        },
        foundationModel: 'anthropic.claude-sonnet-4-6',
      },
      {
        context: {
          modelId: 'global.anthropic.claude-sonnet-4-6',
          modelMarketplaceAccess: 'true',
          workers: 'none',
          cognitoMfa: 'required',
        },
        foundationModel: 'anthropic.claude-sonnet-4-6',
      },
    ]
    for (const { context, foundationModel } of variants)
      withSynthesized(context, (synthesized) =>
        assertLeastPrivilege(synthesized, { id: context.modelId, foundationModel }),
      )
  })

  test('and with imageBuild=docker (the image copy in place of CodeBuild)', () => {
    withSynthesized({ imageBuild: 'docker' }, (synthesized) =>
      assertLeastPrivilege(synthesized, {
        id: 'global.anthropic.claude-sonnet-4-6',
        foundationModel: 'anthropic.claude-sonnet-4-6',
      }),
    )
  })

  test("the images' deploy-time machinery: CodeBuild builds and pushes the stack's images, its trigger starts that project only", () => {
    withSynthesized({}, ({ json }) => {
      const repositories = Object.entries(json.Resources)
        .filter(([, resource]) => resource.Type === 'AWS::ECR::Repository')
        .map(([id]) => `\${${id}.Arn}`)
      const projects = Object.entries(json.Resources)
        .filter(([, resource]) => resource.Type === 'AWS::CodeBuild::Project')
        .map(([id]) => id)
      assert.equal(projects.length, 1)
      const codeBuild = statementsOf(json).filter(({ holder }) => codeBuildPolicies(json).includes(holder))
      for (const { statement } of codeBuild)
        if (actionsOf(statement).some((action) => action.startsWith('ecr:')))
          for (const resource of resourcesOfStatement(statement).map(flatten))
            assert.ok(resource === '*' || repositories.includes(resource), resource)
      const starts = statementsOf(json).filter(({ statement }) =>
        actionsOf(statement).includes('codebuild:StartBuild'),
      )
      assert.equal(starts.length, 1)
      assert.deepEqual(actionsOf(starts[0]!.statement), ['codebuild:StartBuild'])
      assert.deepEqual(resourcesOfStatement(starts[0]!.statement).map(flatten), [`\${${projects[0]}.Arn}`])
      // None of it is a runtime's.
      for (const role of runtimeRoles(json)) {
        const policies = Object.entries(json.Resources)
          .filter(
            ([, resource]) =>
              resource.Type === 'AWS::IAM::Policy' &&
              (resource.Properties?.Roles as { Ref: string }[]).some((each) => each.Ref === role),
          )
          .map(([id]) => id)
        const held = statementsOf(json).filter(({ holder }) => policies.includes(holder))
        for (const action of held.flatMap(({ statement }) => actionsOf(statement)))
          assert.ok(!/^(s3|codebuild):|^ecr:(PutImage|InitiateLayerUpload)$/.test(action), role)
      }
    })
  })

  test('the agent may do what the platform needs, converse in its memory and invoke its model', () => {
    withSynthesized({}, ({ json }) => {
      assert.deepEqual(AGENT_MEMORY_ACTIONS, [
        'bedrock-agentcore:CreateEvent',
        'bedrock-agentcore:ListEvents',
      ])
      assert.deepEqual(
        roleActions(json, 'HTTP'),
        [
          ...PLATFORM_ACTIONS,
          ...AGENT_MEMORY_ACTIONS,
          'bedrock:InvokeModel',
          'bedrock:InvokeModelWithResponseStream',
        ].sort(),
      )
    })
  })

  test('the MCP server may do what the platform needs, write task results into the memory and wake the agent, no more', () => {
    withSynthesized({}, ({ json }) => {
      assert.deepEqual(MCP_SERVER_MEMORY_ACTIONS, ['bedrock-agentcore:CreateEvent'])
      assert.deepEqual(MCP_SERVER_SECRET_ACTIONS, ['secretsmanager:GetSecretValue'])
      assert.deepEqual(
        roleActions(json, 'MCP'),
        [
          ...PLATFORM_ACTIONS,
          ...MCP_SERVER_MEMORY_ACTIONS,
          ...MCP_SERVER_WAKE_ACTIONS,
          ...MCP_SERVER_LOOKUP_ACTIONS,
          // The task store's AUTH token, read at start (REDIS_PASSWORD_SECRET_ARN).
          ...MCP_SERVER_SECRET_ACTIONS,
        ].sort(),
      )
    })
  })

  test('the MCP server wakes exactly the agent runtime, named by name: no reference from one runtime to the other and back', () => {
    withSynthesized({}, ({ json }) => {
      const [agentId, agent] = runtimeOf(json, 'HTTP')
      const [mcpId, mcp] = runtimeOf(json, 'MCP')
      const agentName = agent.Properties?.AgentRuntimeName
      const mcpEnvironment = mcp.Properties?.EnvironmentVariables as Record<string, unknown>
      assert.equal(mcpEnvironment.MCP_WAKE_RUNTIME, agentName)
      // The agent names the MCP runtime (its URL); the MCP runtime must not name the agent's resource.
      assert.ok(JSON.stringify(agent.Properties).includes(JSON.stringify(mcpId)))
      assert.ok(!JSON.stringify(mcp.Properties).includes(JSON.stringify(agentId)))
      assert.ok(!JSON.stringify(mcp.DependsOn ?? []).includes(JSON.stringify(agentId)))
      // Held by the MCP server's role and the workers' task role (a worker delivers results and
      // wakes too), and by nothing else.
      const wakes = statementsOf(json).filter(({ statement }) =>
        actionsOf(statement).includes('bedrock-agentcore:InvokeAgentRuntime'),
      )
      const mcpRole = (mcp.Properties?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
      const [, definition] =
        Object.entries(json.Resources).find(([, resource]) => resource.Type === 'AWS::ECS::TaskDefinition') ??
        []
      const taskRole = (definition?.Properties?.TaskRoleArn as { 'Fn::GetAtt': [string, string] })[
        'Fn::GetAtt'
      ][0]
      assert.deepEqual(
        wakes
          .map(({ holder }) => (json.Resources[holder]?.Properties?.Roles as { Ref: string }[])[0]?.Ref)
          .sort(),
        [mcpRole, taskRole].sort(),
      )
      for (const { statement } of wakes)
        assert.deepEqual(
          resourcesOfStatement(statement)
            .map(flatten)
            .map((arn) => arn.replace(/^.*:runtime\//, 'runtime/')),
          [`runtime/${String(agentName)}-*`, `runtime/${String(agentName)}-*/runtime-endpoint/DEFAULT`],
        )
    })
  })

  test('a foundation model id is invoked in the stack Region only; a profile reaches its model only through itself', () => {
    withSynthesized({ modelId: 'amazon.nova-pro-v1:0' }, ({ json }) => {
      const model = statementsOf(json).filter(({ statement }) =>
        actionsOf(statement).includes('bedrock:InvokeModel'),
      )
      assert.deepEqual(
        model.flatMap(({ statement }) => resourcesOfStatement(statement).map(flatten)),
        ['arn:${AWS::Partition}:bedrock:${AWS::Region}::foundation-model/amazon.nova-pro-v1:0'],
      )
    })
    withSynthesized({ modelId: 'us.anthropic.claude-sonnet-4-6' }, ({ json }) => {
      const model = statementsOf(json).filter(({ statement }) =>
        actionsOf(statement).includes('bedrock:InvokeModel'),
      )
      const profile =
        'arn:${AWS::Partition}:bedrock:${AWS::Region}:${AWS::AccountId}:inference-profile/us.anthropic.claude-sonnet-4-6'
      assert.deepEqual(
        model.map(({ statement }) => ({
          resources: resourcesOfStatement(statement).map(flatten),
          profile: flatten(statement.Condition?.StringEquals?.['bedrock:InferenceProfileArn'] ?? ''),
        })),
        [
          { resources: [profile], profile: '' },
          {
            resources: ['arn:${AWS::Partition}:bedrock:*::foundation-model/anthropic.claude-sonnet-4-6'],
            profile,
          },
        ],
      )
    })
  })

  test('only AgentCore assumes the roles, for this account and Region, in the documented form', () => {
    withSynthesized({}, ({ json }) => {
      for (const protocol of ['HTTP', 'MCP'] as const) {
        const [, runtime] = runtimeOf(json, protocol)
        const roleId = (runtime.Properties?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
        const trust = json.Resources[roleId]?.Properties?.AssumeRolePolicyDocument as {
          Statement: Statement[]
        }
        assert.equal(trust.Statement.length, 1)
        const [statement] = trust.Statement
        assert.deepEqual(statement?.Principal, { Service: 'bedrock-agentcore.amazonaws.com' })
        assert.equal(statement?.Action, 'sts:AssumeRole')
        assert.deepEqual(statement?.Condition?.StringEquals, {
          'aws:SourceAccount': { Ref: 'AWS::AccountId' },
        })
        assert.equal(
          flatten(statement?.Condition?.ArnLike?.['aws:SourceArn']),
          `arn:\${AWS::Partition}:bedrock-agentcore:\${AWS::Region}:\${AWS::AccountId}:*`,
        )
      }
    })
  })
})
