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
import { Aws, CfnOutput, Duration, Fn, RemovalPolicy, SecretValue } from 'aws-cdk-lib'
import type { CfnRuntime } from 'aws-cdk-lib/aws-bedrockagentcore'
import {
  AccountRecovery,
  type CfnUserPoolClient,
  Mfa,
  OAuthScope,
  ResourceServerScope,
  UserPool,
  type UserPoolClient,
} from 'aws-cdk-lib/aws-cognito'
import { Secret } from 'aws-cdk-lib/aws-secretsmanager'
import { Construct } from 'constructs'
import type { CallerAuthParameters, CognitoMfa } from './stack-parameters.ts'

/** The OAuth scope the MCP server's wake client asks for: `<resource server>/<scope>`. */
export const WAKE_SCOPE = { resourceServer: 'longrun', scope: 'wake' } as const

/**
 * The MCP server's machine identity (Cognito only): a confidential client-credentials client whose
 * access tokens (`sub` = `client_id` = the client's id) the MCP runtime wakes the agent runtime with,
 * since a runtime behind a JWT authorizer refuses SigV4. The agent lets this subject name a wake's
 * actor (RUNTIME_JWT_WAKE_SUBJECTS), and the MCP server lets it act for that actor
 * (MCP_JWT_SERVICE_SUBJECTS); it can sign in as no user.
 */
export interface WakeIdentity {
  readonly clientId: string
  /** `https://<domain>.auth.<region>.amazoncognito.com/oauth2/token`. */
  readonly tokenUrl: string
  readonly scope: string
  /** The client secret, kept in Secrets Manager (the runtime reads it at start). */
  readonly secret: Secret
}

const MFA: Record<CognitoMfa, Mfa> = { off: Mfa.OFF, optional: Mfa.OPTIONAL, required: Mfa.REQUIRED }

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
  /** Present with Cognito; with a provider of yours, wakes need a client of that provider. */
  readonly wakeIdentity: WakeIdentity | undefined

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
      this.wakeIdentity = undefined
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
      // An authenticator app (TOTP) when asked for; SMS would need an SNS role and a spend limit.
      mfa: MFA[parameters.mfa],
      ...(parameters.mfa !== 'off' && { mfaSecondFactor: { sms: false, otp: true } }),
    })
    // A public client (no secret to keep anywhere). Sign-in is SRP (the password never leaves the
    // client) or, for an administrator with AWS credentials, ADMIN_USER_PASSWORD_AUTH; sending the
    // password itself (USER_PASSWORD_AUTH) only when the deployment asks for it.
    const userPoolClient = userPool.addClient('Callers', {
      userPoolClientName: `${config.name}-callers`,
      generateSecret: false,
      authFlows: { userSrp: true, adminUserPassword: true, userPassword: parameters.passwordAuth },
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
    this.wakeIdentity = wakeIdentity(this, userPool, config.name)
    this.clientIds = [userPoolClient.userPoolClientId, this.wakeIdentity.clientId]
    new CfnOutput(this, 'UserPoolId', { key: 'UserPoolId', value: userPool.userPoolId })
    new CfnOutput(this, 'UserPoolClientId', {
      key: 'UserPoolClientId',
      value: userPoolClient.userPoolClientId,
      description: 'Sign in with this client and send the AccessToken as the bearer token',
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

/**
 * The wake client, its scope on a resource server of the pool, and the Cognito domain that serves
 * the token endpoint. The domain prefix must be unique in the Region across all accounts, hence the
 * account id in it. The client secret goes from the client (`ClientSecret`) straight into Secrets
 * Manager, so the template holds a reference and never the value.
 */
function wakeIdentity(scope: Construct, userPool: UserPool, name: string): WakeIdentity {
  const wake = new ResourceServerScope({
    scopeName: WAKE_SCOPE.scope,
    scopeDescription: 'wake the agent runtime when a task ends',
  })
  const server = userPool.addResourceServer('Machines', {
    identifier: WAKE_SCOPE.resourceServer,
    userPoolResourceServerName: `${name}-machines`,
    scopes: [wake],
  })
  const client = userPool.addClient('Wake', {
    userPoolClientName: `${name}-mcp-server-wake`,
    generateSecret: true,
    authFlows: {},
    oAuth: { flows: { clientCredentials: true }, scopes: [OAuthScope.resourceServer(server, wake)] },
    preventUserExistenceErrors: true,
    enableTokenRevocation: true,
    accessTokenValidity: Duration.hours(1),
  })
  const domain = userPool.addDomain('TokenDomain', {
    cognitoDomain: { domainPrefix: Fn.join('-', [domainPrefix(name), Aws.ACCOUNT_ID]) },
  })
  const secret = new Secret(scope, 'WakeClientSecret', {
    description: `${name}: the client secret the MCP server wakes the agent runtime with`,
    secretStringValue: SecretValue.resourceAttribute(
      (client.node.defaultChild as CfnUserPoolClient).attrClientSecret,
    ),
    removalPolicy: RemovalPolicy.DESTROY,
  })
  return {
    clientId: client.userPoolClientId,
    tokenUrl: `${domain.baseUrl()}/oauth2/token`,
    scope: `${WAKE_SCOPE.resourceServer}/${WAKE_SCOPE.scope}`,
    secret,
  }
}

/** A Cognito domain prefix from the stack's name: lower-case letters, digits and hyphens. */
function domainPrefix(name: string): string {
  return name
    .toLowerCase()
    .replaceAll('_', '-')
    .replace(/^-+|-+$/g, '')
}
