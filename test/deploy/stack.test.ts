import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { Match } from 'aws-cdk-lib/assertions'
import { AGENT_PORT, MCP_DATA_DIR, MCP_PORT } from '../../deploy/runtime-environment.ts'
import {
  environmentOf,
  flatten,
  resourcesOf,
  runtimeOf,
  type SynthesizedStack,
  synthesize,
  withSynthesized,
} from '../helpers/deploy-stack.ts'

/** The invocation URL of a runtime: its ARN, URL-encoded, in the AgentCore data plane's path. */
function invocationUrlOf(runtimeId: string): string {
  return (
    'https://bedrock-agentcore.${AWS::Region}.${AWS::URLSuffix}/runtimes/' +
    'arn%3A${AWS::Partition}%3Abedrock-agentcore%3A${AWS::Region}%3A${AWS::AccountId}%3Aruntime%2F' +
    `\${${runtimeId}.AgentRuntimeId}/invocations?qualifier=DEFAULT`
  )
}

describe('the default stack: Cognito callers, the redis task backend', () => {
  let synthesized: SynthesizedStack
  before(() => {
    synthesized = synthesize()
  })
  after(() => synthesized.remove())

  test('two runtimes: the agent on HTTP, the MCP server on MCP, each from its own image target', () => {
    const { json, dockerImages } = synthesized
    assert.equal(resourcesOf(json, 'AWS::BedrockAgentCore::Runtime').length, 2)
    const images = Object.entries(dockerImages)
    assert.deepEqual(images.map(([, image]) => image.source.dockerBuildTarget).sort(), [
      'agent',
      'mcp-server',
    ])
    for (const [, image] of images) assert.equal(image.source.platform, 'linux/arm64')
    for (const [protocol, target] of [
      ['HTTP', 'agent'],
      ['MCP', 'mcp-server'],
    ] as const) {
      const [, runtime] = runtimeOf(json, protocol)
      const [hash, image] = images.find(([, each]) => each.source.dockerBuildTarget === target) ?? []
      const uri = flatten(
        (runtime.Properties?.AgentRuntimeArtifact as { ContainerConfiguration: { ContainerUri: unknown } })
          .ContainerConfiguration.ContainerUri,
      )
      const destination = Object.values(image?.destinations ?? {})[0]
      assert.equal(
        uri,
        `\${AWS::AccountId}.dkr.ecr.\${AWS::Region}.\${AWS::URLSuffix}/${destination?.repositoryName}:${hash}`,
      )
    }
  })

  test('the agent finds the memory, the model and the MCP server in its environment', () => {
    const [, agent] = runtimeOf(synthesized.json, 'HTTP')
    const [mcpId] = runtimeOf(synthesized.json, 'MCP')
    const env = environmentOf(agent)
    assert.deepEqual(env.MEMORY_ID, { 'Fn::GetAtt': ['Memory', 'MemoryId'] })
    assert.equal(env.MODEL_PROVIDER, 'bedrock')
    assert.equal(env.BEDROCK_MODEL_ID, 'global.anthropic.claude-sonnet-4-6')
    assert.equal(env.PORT, String(AGENT_PORT))
    assert.equal(env.RUNTIME_HOST, '0.0.0.0')
    assert.equal(flatten(env.MCP_SERVER_URL), invocationUrlOf(mcpId))
    assert.deepEqual(env.AWS_REGION, { Ref: 'AWS::Region' })
  })

  test('the MCP server listens on the MCP contract and keeps its tasks in Redis over TLS', () => {
    const [, mcp] = runtimeOf(synthesized.json, 'MCP')
    const env = environmentOf(mcp)
    assert.equal(env.MCP_PORT, String(MCP_PORT))
    assert.equal(env.MCP_HOST, '0.0.0.0')
    assert.equal(env.LONGRUN_DATA_DIR, MCP_DATA_DIR)
    assert.ok(MCP_DATA_DIR.startsWith('/tmp/'))
    assert.equal(env.MCP_TASK_BACKEND, 'redis')
    assert.equal(env.MCP_RUN_WORKER, 'true')
    const [groupId] = resourcesOf(synthesized.json, 'AWS::ElastiCache::ReplicationGroup')[0] ?? []
    assert.equal(flatten(env.REDIS_URL), `rediss://\${${groupId}.PrimaryEndPoint.Address}:6379`)
  })

  test('Redis is a replication group with cluster mode disabled, TLS required and no password', () => {
    const { template, json } = synthesized
    template.resourceCountIs('AWS::ElastiCache::ServerlessCache', 0)
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
      ClusterMode: 'disabled',
      Engine: 'valkey',
      TransitEncryptionEnabled: true,
      TransitEncryptionMode: 'required',
      AtRestEncryptionEnabled: true,
      NumCacheClusters: 2,
      AutomaticFailoverEnabled: true,
      MultiAZEnabled: true,
      Port: 6379,
      AuthToken: Match.absent(),
      NumNodeGroups: Match.absent(),
    })
    template.hasResourceProperties('AWS::ElastiCache::ParameterGroup', {
      Properties: { 'maxmemory-policy': 'noeviction' },
    })
    // The only way in: port 6379 from the MCP runtime's security group.
    const [mcpGroup] =
      (
        runtimeOf(json, 'MCP')[1].Properties?.NetworkConfiguration as {
          NetworkModeConfig: { SecurityGroups: unknown[] }
        }
      ).NetworkModeConfig.SecurityGroups ?? []
    const ingress = resourcesOf(json, 'AWS::EC2::SecurityGroupIngress')
    assert.equal(ingress.length, 1)
    assert.deepEqual(ingress[0]?.[1].Properties?.SourceSecurityGroupId, mcpGroup)
    assert.equal(ingress[0]?.[1].Properties?.FromPort, 6379)
    for (const [, group] of resourcesOf(json, 'AWS::EC2::SecurityGroup'))
      assert.equal(group.Properties?.SecurityGroupIngress, undefined)
  })

  test('the MCP runtime joins the VPC in its private subnets, which route out through a NAT gateway', () => {
    const { template, json } = synthesized
    const [, mcp] = runtimeOf(json, 'MCP')
    const network = mcp.Properties?.NetworkConfiguration as {
      NetworkMode: string
      NetworkModeConfig: { Subnets: { Ref: string }[] }
    }
    assert.equal(network.NetworkMode, 'VPC')
    assert.equal(network.NetworkModeConfig.Subnets.length, 2)
    template.resourceCountIs('AWS::EC2::NatGateway', 1)
    for (const subnet of network.NetworkModeConfig.Subnets) {
      const routeTable = resourcesOf(json, 'AWS::EC2::SubnetRouteTableAssociation').find(
        ([, association]) => (association.Properties?.SubnetId as { Ref: string }).Ref === subnet.Ref,
      )?.[1].Properties?.RouteTableId
      const route = resourcesOf(json, 'AWS::EC2::Route').find(
        ([, each]) => JSON.stringify(each.Properties?.RouteTableId) === JSON.stringify(routeTable),
      )?.[1]
      assert.ok(route?.Properties?.NatGatewayId, `subnet ${subnet.Ref} routes out through the NAT gateway`)
    }
    assert.equal(
      (runtimeOf(json, 'HTTP')[1].Properties?.NetworkConfiguration as { NetworkMode: string }).NetworkMode,
      'PUBLIC',
    )
  })

  test('both runtimes take access tokens of the same Cognito client, and pass them on to the code', () => {
    const { json, template } = synthesized
    const [clientId] = resourcesOf(json, 'AWS::Cognito::UserPoolClient')[0] ?? []
    const [poolId] = resourcesOf(json, 'AWS::Cognito::UserPool')[0] ?? []
    const issuer = `https://cognito-idp.\${AWS::Region}.\${AWS::URLSuffix}/\${${poolId}}`
    for (const protocol of ['HTTP', 'MCP'] as const) {
      const [, runtime] = runtimeOf(json, protocol)
      const authorizer = (
        runtime.Properties?.AuthorizerConfiguration as { CustomJWTAuthorizer: Record<string, unknown> }
      ).CustomJWTAuthorizer
      assert.equal(flatten(authorizer.DiscoveryUrl), `${issuer}/.well-known/openid-configuration`)
      // Cognito access tokens name their client in client_id and carry no aud.
      assert.deepEqual(authorizer.AllowedClients, [{ Ref: clientId }])
      assert.equal(authorizer.AllowedAudience, undefined)
      assert.deepEqual(runtime.Properties?.RequestHeaderConfiguration, {
        RequestHeaderAllowlist: ['Authorization'],
      })
    }
    const agent = environmentOf(runtimeOf(json, 'HTTP')[1])
    const mcp = environmentOf(runtimeOf(json, 'MCP')[1])
    assert.equal(flatten(agent.RUNTIME_JWT_ISSUER), issuer)
    assert.equal(flatten(mcp.MCP_JWT_ISSUER), issuer)
    assert.equal(flatten(agent.RUNTIME_JWKS_URL), `${issuer}/.well-known/jwks.json`)
    assert.equal(flatten(mcp.MCP_JWKS_URL), `${issuer}/.well-known/jwks.json`)
    assert.deepEqual(agent.RUNTIME_JWT_CLIENT_IDS, { Ref: clientId })
    assert.deepEqual(mcp.MCP_JWT_CLIENT_IDS, { Ref: clientId })
    assert.equal(agent.RUNTIME_JWT_AUDIENCE, undefined)
    assert.equal(mcp.MCP_JWT_AUDIENCE, undefined)
    assert.equal(mcp.MCP_JWT_SUBJECT_IS_ACTOR, 'true')
    // No static secret between them: the agent passes the caller's token on.
    assert.equal(agent.MCP_BEARER_TOKEN, undefined)
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    })
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_PASSWORD_AUTH']),
    })
  })

  test('the memory keeps events 30 days and has no long-term strategy unless asked', () => {
    synthesized.template.hasResourceProperties('AWS::BedrockAgentCore::Memory', {
      EventExpiryDuration: 30,
      MemoryStrategies: Match.absent(),
    })
  })

  test('each runtime waits for its role and the policy on it', () => {
    const { json } = synthesized
    for (const protocol of ['HTTP', 'MCP'] as const) {
      const [, runtime] = runtimeOf(json, protocol)
      const roleId = (runtime.Properties?.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]
      const policies = resourcesOf(json, 'AWS::IAM::Policy').filter(([, policy]) =>
        (policy.Properties?.Roles as { Ref: string }[]).some((role) => role.Ref === roleId),
      )
      assert.equal(policies.length, 1)
      assert.ok([runtime.DependsOn].flat().includes(policies[0]?.[0]))
    }
  })

  test('outputs: both runtime ARNs and URLs, the memory, the user pool and its client', () => {
    const outputs = synthesized.json.Outputs ?? {}
    const [agentId] = runtimeOf(synthesized.json, 'HTTP')
    const [mcpId] = runtimeOf(synthesized.json, 'MCP')
    assert.deepEqual(outputs.AgentRuntimeArn?.Value, { 'Fn::GetAtt': [agentId, 'AgentRuntimeArn'] })
    assert.deepEqual(outputs.McpRuntimeArn?.Value, { 'Fn::GetAtt': [mcpId, 'AgentRuntimeArn'] })
    assert.equal(flatten(outputs.AgentInvocationUrl?.Value), invocationUrlOf(agentId))
    assert.equal(flatten(outputs.McpServerUrl?.Value), invocationUrlOf(mcpId))
    assert.deepEqual(outputs.MemoryId?.Value, { 'Fn::GetAtt': ['Memory', 'MemoryId'] })
    assert.ok(outputs.UserPoolId && outputs.UserPoolClientId)
  })
})

describe('parameters that change the stack', () => {
  test('taskBackend=sqlite: no VPC and no Redis; the MCP runtime is public and keeps tasks in /tmp', () => {
    withSynthesized({ taskBackend: 'sqlite' }, ({ json, template }) => {
      for (const type of ['AWS::EC2::VPC', 'AWS::EC2::NatGateway', 'AWS::ElastiCache::ReplicationGroup'])
        template.resourceCountIs(type, 0)
      const [, mcp] = runtimeOf(json, 'MCP')
      assert.deepEqual(mcp.Properties?.NetworkConfiguration, { NetworkMode: 'PUBLIC' })
      const env = environmentOf(mcp)
      assert.equal(env.MCP_TASK_BACKEND, 'sqlite')
      assert.equal(env.REDIS_URL, undefined)
      assert.equal(env.LONGRUN_DATA_DIR, MCP_DATA_DIR)
    })
  })

  test('an OpenID Connect provider of yours replaces Cognito', () => {
    const context = {
      oidcIssuer: 'https://login.example.com/tenant/',
      oidcJwksUrl: 'https://login.example.com/tenant/keys',
      oidcAudiences: 'longrun-api',
      oidcClientIds: 'app-one,app-two',
    }
    withSynthesized(context, ({ json, template }) => {
      template.resourceCountIs('AWS::Cognito::UserPool', 0)
      for (const protocol of ['HTTP', 'MCP'] as const) {
        const [, runtime] = runtimeOf(json, protocol)
        assert.deepEqual(runtime.Properties?.AuthorizerConfiguration, {
          CustomJWTAuthorizer: {
            DiscoveryUrl: 'https://login.example.com/tenant/.well-known/openid-configuration',
            AllowedAudience: ['longrun-api'],
            AllowedClients: ['app-one', 'app-two'],
          },
        })
      }
      const agent = environmentOf(runtimeOf(json, 'HTTP')[1])
      assert.equal(agent.RUNTIME_JWT_ISSUER, context.oidcIssuer)
      assert.equal(agent.RUNTIME_JWKS_URL, context.oidcJwksUrl)
      assert.equal(agent.RUNTIME_JWT_AUDIENCE, 'longrun-api')
      assert.equal(agent.RUNTIME_JWT_CLIENT_IDS, 'app-one,app-two')
      const mcp = environmentOf(runtimeOf(json, 'MCP')[1])
      assert.equal(mcp.MCP_JWT_AUDIENCE, 'longrun-api')
      assert.equal(mcp.MCP_JWT_CLIENT_IDS, 'app-one,app-two')
      assert.ok(!('UserPoolId' in (json.Outputs ?? {})))
    })
  })

  test('long-term strategies, event expiry, the resource name prefix and the model', () => {
    const context = {
      longTermMemory: 'semantic,summary',
      eventExpiryDays: '90',
      name: 'team_a',
      modelId: 'anthropic.claude-3-5-haiku-20241022-v1:0',
      redisReplicas: 0,
    }
    withSynthesized(context, ({ json, template }) => {
      template.hasResourceProperties('AWS::BedrockAgentCore::Memory', {
        Name: 'team_a_memory',
        EventExpiryDuration: 90,
        MemoryStrategies: [
          { SemanticMemoryStrategy: Match.objectLike({ Namespaces: ['/facts/{actorId}'] }) },
          { SummaryMemoryStrategy: Match.objectLike({ Namespaces: ['/summaries/{actorId}/{sessionId}'] }) },
        ],
      })
      assert.equal(runtimeOf(json, 'HTTP')[1].Properties?.AgentRuntimeName, 'team_a_agent')
      assert.equal(runtimeOf(json, 'MCP')[1].Properties?.AgentRuntimeName, 'team_a_mcp_server')
      assert.equal(environmentOf(runtimeOf(json, 'HTTP')[1]).BEDROCK_MODEL_ID, context.modelId)
      template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', {
        NumCacheClusters: 1,
        AutomaticFailoverEnabled: false,
        MultiAZEnabled: false,
      })
    })
  })

  test('availabilityZones places the VPC in the zones named', () => {
    withSynthesized({ availabilityZones: 'us-east-1a,us-east-1b' }, ({ json }) => {
      const zones = resourcesOf(json, 'AWS::EC2::Subnet').map(
        ([, subnet]) => subnet.Properties?.AvailabilityZone,
      )
      assert.deepEqual([...new Set(zones)].sort(), ['us-east-1a', 'us-east-1b'])
    })
  })

  test('otlpEndpoint sends both runtimes traces there, and opens its port for the MCP runtime', () => {
    withSynthesized({ otlpEndpoint: 'http://collector.internal:4318' }, ({ json, template }) => {
      for (const protocol of ['HTTP', 'MCP'] as const)
        assert.equal(
          environmentOf(runtimeOf(json, protocol)[1]).OTEL_EXPORTER_OTLP_ENDPOINT,
          'http://collector.internal:4318',
        )
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupEgress: Match.arrayWith([Match.objectLike({ FromPort: 4318, ToPort: 4318 })]),
      })
    })
  })
})
