import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  AGENT_MEMORY_ACTIONS,
  MCP_SERVER_LOOKUP_ACTIONS,
  MCP_SERVER_MEMORY_ACTIONS,
  MCP_SERVER_WAKE_ACTIONS,
} from '../../deploy/longrun-stack.ts'
import {
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
 * anywhere fails here until it is scoped (or this file says why it cannot be).
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
  'xray:PutTraceSegments': undefined,
  'xray:PutTelemetryRecords': undefined,
  'xray:GetSamplingRules': undefined,
  'xray:GetSamplingTargets': undefined,
  // The MCP server finds the agent runtime it wakes by name (ListAgentRuntimes has no resource type).
  'bedrock-agentcore:ListAgentRuntimes': undefined,
  // Only into AgentCore's own metrics namespace.
  'cloudwatch:PutMetricData': (statement) =>
    statement.Condition?.StringEquals?.['cloudwatch:namespace'] === 'bedrock-agentcore',
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
]

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

const actionsOf = (statement: Statement) => [statement.Action ?? []].flat()
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

/** What the platform needs of every runtime's role: pull its image, write its logs, traces, metrics. */
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
  'xray:GetSamplingRules',
  'xray:GetSamplingTargets',
  'xray:PutTelemetryRecords',
  'xray:PutTraceSegments',
]

function assertLeastPrivilege(
  synthesized: SynthesizedStack,
  model: { id: string; foundationModel: string },
): void {
  const { json } = synthesized
  const statements = statementsOf(json)
  assert.ok(statements.length > 0)
  for (const { holder, statement } of statements) {
    const where = `${holder} ${statement.Sid ?? JSON.stringify(actionsOf(statement))}`
    assert.equal(statement.Effect, 'Allow', where)
    assert.equal(statement.NotAction, undefined, `${where}: NotAction`)
    assert.equal(statement.NotResource, undefined, `${where}: NotResource`)
    assert.equal(statement.Principal, undefined, `${where}: a principal in an identity policy`)
    const actions = actionsOf(statement)
    assert.ok(actions.length > 0, where)
    for (const action of actions) assert.ok(!action.includes('*'), `${where}: wildcard action ${action}`)
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
    ]
    for (const { context, foundationModel } of variants)
      withSynthesized(context, (synthesized) =>
        assertLeastPrivilege(synthesized, { id: context.modelId, foundationModel }),
      )
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
      assert.deepEqual(
        roleActions(json, 'MCP'),
        [
          ...PLATFORM_ACTIONS,
          ...MCP_SERVER_MEMORY_ACTIONS,
          ...MCP_SERVER_WAKE_ACTIONS,
          ...MCP_SERVER_LOOKUP_ACTIONS,
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
      const wakes = statementsOf(json).filter(({ statement }) =>
        actionsOf(statement).includes('bedrock-agentcore:InvokeAgentRuntime'),
      )
      assert.equal(wakes.length, 1)
      const resources = resourcesOfStatement(wakes[0]!.statement).map(flatten)
      assert.deepEqual(
        resources.map((arn) => arn.replace(/^.*:runtime\//, 'runtime/')),
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
