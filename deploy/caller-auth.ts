/**
 * Who may call the runtimes: JWTs from a Cognito user pool this stack creates, or from an OpenID
 * Connect provider of yours. Both runtimes use the Runtime's inbound JWT authorizer with the same
 * issuer and allowed clients (or audiences), and the servers in them check the same token again
 * (the agent takes the caller's subject as the actor, the MCP server the subject as the owner of
 * tasks), so no secret is shared between them and none is in the template.
 *
 * With Cognito, callers send their access token, which names the app client in `client_id` (and
 * carries no `aud`): the authorizers and both servers accept that client only.
 */
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy } from 'aws-cdk-lib'
import type { CfnRuntime } from 'aws-cdk-lib/aws-bedrockagentcore'
import { AccountRecovery, UserPool, type UserPoolClient } from 'aws-cdk-lib/aws-cognito'
import { Construct } from 'constructs'
import type { CallerAuthParameters } from './stack-parameters.ts'

export interface CallerAuthConfig {
  readonly parameters: CallerAuthParameters
  /** Prefix of the user pool's name. */
  readonly name: string
}

export class CallerAuth extends Construct {
  /** The tokens' `iss`. */
  readonly issuer: string
  /** The key set that signs them. */
  readonly jwksUrl: string
  /** The OpenID Connect discovery document the Runtime's authorizer reads. */
  readonly discoveryUrl: string
  /** Accepted `aud` values. */
  readonly audiences: readonly string[]
  /** Accepted `client_id` values (the app client, with Cognito). */
  readonly clientIds: readonly string[]
  readonly userPool: UserPool | undefined
  readonly userPoolClient: UserPoolClient | undefined

  constructor(scope: Construct, id: string, config: CallerAuthConfig) {
    super(scope, id)
    const { parameters } = config
    if (parameters.kind === 'oidc') {
      this.issuer = parameters.issuer
      this.jwksUrl = parameters.jwksUrl
      // OpenID Connect Discovery: the issuer without a trailing slash, then the well-known path.
      this.discoveryUrl = `${parameters.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`
      this.audiences = parameters.audiences
      this.clientIds = parameters.clientIds
      this.userPool = undefined
      this.userPoolClient = undefined
      return
    }
    // Users are created by an administrator (README: Deploy to AgentCore); nobody signs up alone.
    const userPool = new UserPool(this, 'Users', {
      userPoolName: `${config.name}-users`,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      deletionProtection: false,
      removalPolicy: RemovalPolicy.DESTROY,
    })
    // A public client (no secret to keep anywhere) for the username-password sign-in of the CLI.
    const userPoolClient = userPool.addClient('Callers', {
      userPoolClientName: `${config.name}-callers`,
      generateSecret: false,
      authFlows: { userPassword: true, userSrp: true },
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    })
    this.userPool = userPool
    this.userPoolClient = userPoolClient
    this.issuer = Fn.join('', [
      'https://cognito-idp.',
      Aws.REGION,
      '.',
      Aws.URL_SUFFIX,
      '/',
      userPool.userPoolId,
    ])
    this.jwksUrl = `${this.issuer}/.well-known/jwks.json`
    this.discoveryUrl = `${this.issuer}/.well-known/openid-configuration`
    this.audiences = []
    this.clientIds = [userPoolClient.userPoolClientId]
    new CfnOutput(this, 'UserPoolId', { key: 'UserPoolId', value: userPool.userPoolId })
    new CfnOutput(this, 'UserPoolClientId', {
      key: 'UserPoolClientId',
      value: userPoolClient.userPoolClientId,
      description:
        'Sign in with this client (USER_PASSWORD_AUTH) and send the AccessToken as the bearer token',
    })
  }

  /** The Runtime's inbound JWT authorizer for these callers. */
  authorizer(): CfnRuntime.AuthorizerConfigurationProperty {
    return {
      customJwtAuthorizer: {
        discoveryUrl: this.discoveryUrl,
        ...(this.audiences.length > 0 && { allowedAudience: [...this.audiences] }),
        ...(this.clientIds.length > 0 && { allowedClients: [...this.clientIds] }),
      },
    }
  }
}
