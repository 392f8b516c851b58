import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { WAKE_SCOPE } from '../../deploy/caller-auth.ts'
import { MARKETPLACE_ACTIONS } from '../../deploy/model-access.ts'
import { parseStackParameters, StackParameterError } from '../../deploy/stack-parameters.ts'
import {
  actionsOf,
  environmentOf,
  flatten,
  onlyResourceOf,
  resourcesOf,
  roleIdOf,
  runtimeOf,
  statementsOfRole,
  type SynthesizedStack,
  synthesize,
  withSynthesized,
  workerEnvironmentOf,
} from '../helpers/deploy-stack.ts'

type Json = SynthesizedStack['json']

function clients(json: Json): Record<string, unknown>[] {
  return resourcesOf(json, 'AWS::Cognito::UserPoolClient').map(([, client]) => client.Properties ?? {})
}

/** The logical id of the client-credentials (wake) client. */
function wakeClientId(json: Json): string {
  const [id] =
    resourcesOf(json, 'AWS::Cognito::UserPoolClient').find(([, client]) =>
      (client.Properties?.AllowedOAuthFlows as string[] | undefined)?.includes('client_credentials'),
    ) ?? []
  assert.ok(id, 'a client-credentials client')
  return id
}

describe('continuations on the default (Cognito) deploy: the MCP server wakes the agent with a token', () => {
  let synthesized: SynthesizedStack
  before(() => {
    synthesized = synthesize()
  })
  after(() => synthesized.remove())

  test('a confidential client-credentials client with the wake scope of a resource server of the pool', () => {
    const { json } = synthesized
    const wakeId = wakeClientId(json)
    const wake = json.Resources[wakeId]?.Properties ?? {}
    assert.equal(wake.GenerateSecret, true)
    assert.equal(wake.AllowedOAuthFlowsUserPoolClient, true)
    const [serverId, server] = onlyResourceOf(json, 'AWS::Cognito::UserPoolResourceServer')
    // The resource server's Ref is its identifier: the scope reads `longrun/wake`.
    assert.deepEqual((wake.AllowedOAuthScopes as unknown[]).map(flatten), [
      `\${${serverId}}/${WAKE_SCOPE.scope}`,
    ])
    // It signs in as no user: no password or SRP flow of its own beyond refreshing.
    assert.deepEqual(
      ((wake.ExplicitAuthFlows as string[] | undefined) ?? []).filter(
        (flow) => flow !== 'ALLOW_REFRESH_TOKEN_AUTH',
      ),
      [],
    )
    assert.equal(server.Properties?.Identifier, WAKE_SCOPE.resourceServer)
    assert.deepEqual(
      (server.Properties?.Scopes as { ScopeName: string }[]).map((scope) => scope.ScopeName),
      [WAKE_SCOPE.scope],
    )
    // A domain serves the token endpoint; its prefix carries the account, unique in the Region.
    const [, domain] = onlyResourceOf(json, 'AWS::Cognito::UserPoolDomain')
    assert.equal(flatten(domain.Properties?.Domain), 'longrun-${AWS::AccountId}')
  })

  test('the client secret goes from the client into Secrets Manager, never into the template or an environment', () => {
    const { json } = synthesized
    const wakeId = wakeClientId(json)
    const secrets = resourcesOf(json, 'AWS::SecretsManager::Secret').filter(
      ([, secret]) => flatten(secret.Properties?.SecretString) === `\${${wakeId}.ClientSecret}`,
    )
    assert.equal(secrets.length, 1)
    const [[secretId]] = secrets as [[string, unknown]]
    const mcp = environmentOf(runtimeOf(json, 'MCP')[1])
    assert.equal(flatten(mcp.MCP_WAKE_CLIENT_SECRET_ARN), `\${${secretId}}`)
    assert.equal(mcp.MCP_WAKE_CLIENT_SECRET, undefined)
    // No process's environment holds the value: the runtimes' nor the workers' containers.
    const environments = [
      ...resourcesOf(json, 'AWS::BedrockAgentCore::Runtime').map(([, runtime]) => environmentOf(runtime)),
      workerEnvironmentOf(json),
    ]
    assert.equal(flatten(workerEnvironmentOf(json).MCP_WAKE_CLIENT_SECRET_ARN), `\${${secretId}}`)
    for (const environment of environments)
      assert.ok(!JSON.stringify(environment).includes('"ClientSecret"]'))
    // Only the MCP runtime's role (and the workers', which wake too) may read it.
    const readers = resourcesOf(json, 'AWS::IAM::Policy').filter(([, policy]) =>
      JSON.stringify(policy.Properties?.PolicyDocument).includes(`"Ref":"${secretId}"`),
    )
    const mcpRole = roleIdOf(runtimeOf(json, 'MCP')[1])
    const agentRole = roleIdOf(runtimeOf(json, 'HTTP')[1])
    assert.ok(readers.some(([, policy]) => JSON.stringify(policy.Properties?.Roles).includes(mcpRole)))
    assert.ok(!readers.some(([, policy]) => JSON.stringify(policy.Properties?.Roles).includes(agentRole)))
  })

  test('the MCP server fetches tokens from the domain; both runtimes accept the client, for wakes and its actor only', () => {
    const { json } = synthesized
    const wakeId = wakeClientId(json)
    const clientRef = `\${${wakeId}}`
    const mcp = environmentOf(runtimeOf(json, 'MCP')[1])
    const agent = environmentOf(runtimeOf(json, 'HTTP')[1])
    const [domainId] = onlyResourceOf(json, 'AWS::Cognito::UserPoolDomain')
    assert.equal(
      flatten(mcp.MCP_WAKE_TOKEN_URL),
      `https://\${${domainId}}.auth.\${AWS::Region}.amazoncognito.com/oauth2/token`,
    )
    assert.equal(flatten(mcp.MCP_WAKE_CLIENT_ID), clientRef)
    assert.equal(mcp.MCP_WAKE_SCOPE, `${WAKE_SCOPE.resourceServer}/${WAKE_SCOPE.scope}`)
    // The agent lets this subject name a wake's actor; the MCP server lets it act for that actor.
    assert.equal(flatten(agent.RUNTIME_JWT_WAKE_SUBJECTS), clientRef)
    assert.equal(flatten(mcp.MCP_JWT_SERVICE_SUBJECTS), clientRef)
    assert.ok(flatten(agent.RUNTIME_JWT_CLIENT_IDS).split(',').includes(clientRef))
    assert.ok(flatten(mcp.MCP_JWT_CLIENT_IDS).split(',').includes(clientRef))
    // And both inbound authorizers let its tokens through.
    for (const protocol of ['HTTP', 'MCP'] as const) {
      const [, runtime] = runtimeOf(json, protocol)
      const authorizer = (
        runtime.Properties?.AuthorizerConfiguration as { CustomJWTAuthorizer: { AllowedClients: unknown[] } }
      ).CustomJWTAuthorizer
      assert.ok(authorizer.AllowedClients.map(flatten).includes(clientRef), protocol)
    }
  })
})

describe('the user pool: MFA and the password flow are settings', () => {
  const callers = (json: Json) =>
    clients(json).find(
      (client) => !(client.AllowedOAuthFlows as string[] | undefined)?.includes('client_credentials'),
    )

  test('by default: SRP and the administrator sign-in, no USER_PASSWORD_AUTH, MFA off', () => {
    withSynthesized({}, ({ json }) => {
      assert.deepEqual([...(callers(json)?.ExplicitAuthFlows as string[])].sort(), [
        'ALLOW_ADMIN_USER_PASSWORD_AUTH',
        'ALLOW_REFRESH_TOKEN_AUTH',
        'ALLOW_USER_SRP_AUTH',
      ])
      const [, pool] = onlyResourceOf(json, 'AWS::Cognito::UserPool')
      assert.equal(pool.Properties?.MfaConfiguration, 'OFF')
    })
  })

  test('cognitoPasswordAuth=true adds USER_PASSWORD_AUTH; cognitoMfa=required asks for an authenticator app', () => {
    withSynthesized({ cognitoPasswordAuth: 'true', cognitoMfa: 'required' }, ({ json }) => {
      assert.ok((callers(json)?.ExplicitAuthFlows as string[]).includes('ALLOW_USER_PASSWORD_AUTH'))
      const [, pool] = onlyResourceOf(json, 'AWS::Cognito::UserPool')
      assert.equal(pool.Properties?.MfaConfiguration, 'ON')
      assert.deepEqual(pool.Properties?.EnabledMfas, ['SOFTWARE_TOKEN_MFA'])
    })
    withSynthesized({ cognitoMfa: 'optional' }, ({ json }) => {
      const [, pool] = onlyResourceOf(json, 'AWS::Cognito::UserPool')
      assert.equal(pool.Properties?.MfaConfiguration, 'OPTIONAL')
    })
  })

  test('bad or misplaced settings are refused by name', () => {
    const oidc = {
      oidcIssuer: 'https://issuer.example.com',
      oidcJwksUrl: 'https://issuer.example.com/jwks',
      oidcAudiences: 'longrun',
    }
    for (const [context, parameter] of [
      [{ cognitoMfa: 'sms' }, 'cognitoMfa'],
      [{ cognitoPasswordAuth: 'yes' }, 'cognitoPasswordAuth'],
      [{ ...oidc, cognitoMfa: 'required' }, 'cognitoMfa'],
      [{ ...oidc, cognitoPasswordAuth: 'true' }, 'cognitoPasswordAuth'],
      // The name prefixes the Cognito domain, where these words are reserved.
      [{ name: 'my_aws_agent' }, 'name'],
      [{ modelMarketplaceAccess: '1' }, 'modelMarketplaceAccess'],
    ] as const) {
      assert.throws(
        () => parseStackParameters(context),
        (error: unknown) => error instanceof StackParameterError && error.parameter === parameter,
        JSON.stringify(context),
      )
    }
  })

  test('with a provider of yours there is no wake client: the environments name none', () => {
    withSynthesized(
      {
        oidcIssuer: 'https://issuer.example.com',
        oidcJwksUrl: 'https://issuer.example.com/jwks',
        oidcAudiences: 'longrun',
      },
      ({ json }) => {
        assert.equal(resourcesOf(json, 'AWS::Cognito::UserPoolClient').length, 0)
        assert.equal(environmentOf(runtimeOf(json, 'MCP')[1]).MCP_WAKE_TOKEN_URL, undefined)
        assert.equal(environmentOf(runtimeOf(json, 'HTTP')[1]).RUNTIME_JWT_WAKE_SUBJECTS, undefined)
      },
    )
  })
})

describe('model access through AWS Marketplace is opt-in', () => {
  const marketplaceActionsOf = (json: Json) =>
    statementsOfRole(json, roleIdOf(runtimeOf(json, 'HTTP')[1]))
      .flatMap(actionsOf)
      .filter((action) => action.startsWith('aws-marketplace:'))

  test("off by default: the agent's role cannot subscribe to anything", () => {
    withSynthesized({}, ({ json }) => assert.deepEqual(marketplaceActionsOf(json), []))
  })

  test("modelMarketplaceAccess=true: the agent's role may subscribe on the model's first call", () => {
    withSynthesized({ modelMarketplaceAccess: 'true' }, ({ json }) => {
      assert.deepEqual(marketplaceActionsOf(json).sort(), [...MARKETPLACE_ACTIONS].sort())
      const mcpActions = JSON.stringify(statementsOfRole(json, roleIdOf(runtimeOf(json, 'MCP')[1])))
      assert.ok(!mcpActions.includes('aws-marketplace'))
    })
  })
})
