/**
 * Authentication of every MCP request: a Bearer token that is either a static secret (compared in
 * constant time) or a JWT checked against issuer, audience and a JWKS.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { JSONWebKeySet } from 'jose'
import {
  bearerToken,
  createJwtVerifier,
  KeySetUnavailableError,
  TokenRejectedError,
} from '../shared/bearer-token.ts'
import { McpServerError } from './errors.ts'

/** How callers prove who they are. */
export type AuthConfig =
  /** A shared secret (MCP_BEARER_TOKEN). */
  | { readonly kind: 'bearer'; readonly token: string }
  /** JWTs from an identity provider (Cognito, Entra, Okta, ...). */
  | {
      readonly kind: 'jwt'
      readonly issuer: string
      /** Accepted `aud` values. At least one of `audience` and `clientIds`. */
      readonly audience?: string | readonly string[] | undefined
      /**
       * Accepted `client_id` (or `azp`) values: Cognito access tokens carry no `aud`, and AgentCore
       * Runtime's inbound JWT authorizer checks them as "allowed clients".
       */
      readonly clientIds?: readonly string[] | undefined
      /** The provider's JWKS URL, or the key set itself (tests, air-gapped setups). */
      readonly jwks: string | URL | JSONWebKeySet
      /**
       * Default true: a composite header's actor must equal the token's subject (403 otherwise), so a
       * token can never write into another actor's memory. Set false only when subjects and actor
       * ids differ by design and every token holder may name any actor: tasks are then owned by
       * subject + actor, and results go to the actor named in the header.
       */
      readonly requireSubjectMatchesActor?: boolean
      /**
       * The claim that names the caller (default `sub`). A token without it (as a non-empty string)
       * is refused with 401: an anonymous token would otherwise be scoped by the header alone.
       */
      readonly subjectClaim?: string
      /**
       * Subjects of machine identities that act for the actor a request's composite header names
       * (the MCP server's own client-credentials client, whose token a continuation turn of the
       * agent passes on): their tasks are that actor's, as if the actor had called.
       */
      readonly serviceSubjects?: readonly string[] | undefined
    }
  /** No check at all: only behind a gateway that already authenticates (say so explicitly). */
  | { readonly kind: 'none' }

/** Who the request comes from. */
export interface Principal {
  /** The JWT subject; undefined for the static secret and for `none`. */
  readonly subject: string | undefined
  /**
   * A stable name of the authenticated caller, scoping callers that send no composite header:
   * `jwt:<subject>`, `bearer:<digest prefix>` (a static token is ONE principal: everyone holding it
   * shares one bucket), or undefined for `none`.
   */
  readonly principalId: string | undefined
  readonly requireSubjectMatchesActor: boolean
  /** A machine identity acting for the actor the header names (see `serviceSubjects`). */
  readonly actsForActor?: boolean
}

/** Checks an `Authorization` header value; throws UNAUTHENTICATED (HTTP 401) when missing or bad. */
export type Authenticator = (authorization: string | undefined) => Promise<Principal>

/** Builds the authenticator for `config`. */
export function createAuthenticator(config: AuthConfig): Authenticator {
  if (config.kind === 'none') {
    return async () => ({ subject: undefined, principalId: undefined, requireSubjectMatchesActor: false })
  }
  if (config.kind === 'bearer') {
    if (config.token.length === 0)
      throw new McpServerError('INVALID_CONFIG', 'bearer token must not be empty')
    const expected = digest(config.token)
    const principalId = `bearer:${createHash('sha256').update(`longrun-principal:${config.token}`).digest('hex').slice(0, 16)}`
    return async (authorization) => {
      let token: string
      try {
        token = bearerToken(authorization)
      } catch (error) {
        throw unauthenticated((error as Error).message)
      }
      // Digests have equal length, so timingSafeEqual compares without leaking the secret's length.
      if (!timingSafeEqual(digest(token), expected)) throw unauthenticated('invalid bearer token')
      return { subject: undefined, principalId, requireSubjectMatchesActor: false }
    }
  }
  if (config.audience === undefined && (config.clientIds === undefined || config.clientIds.length === 0))
    throw new McpServerError('INVALID_CONFIG', 'JWT authentication needs an audience or allowed client ids')
  const verify = createJwtVerifier(config)
  const requireSubjectMatchesActor = config.requireSubjectMatchesActor ?? true
  const services = new Set(config.serviceSubjects ?? [])
  return async (authorization) => {
    try {
      const { subject } = await verify(authorization)
      return {
        subject,
        principalId: `jwt:${subject}`,
        requireSubjectMatchesActor,
        ...(services.has(subject) && { actsForActor: true }),
      }
    } catch (error) {
      if (error instanceof TokenRejectedError) throw unauthenticated(error.message, error.cause)
      if (error instanceof KeySetUnavailableError)
        throw new McpServerError('AUTH_UNAVAILABLE', error.message, { cause: error.cause })
      throw error
    }
  }
}

/**
 * The `WWW-Authenticate` challenge of a 401 (RFC 6750 section 3): bare when no token was sent,
 * `error="invalid_token"` with the reason when one was refused. With JWTs from an issuer it also
 * names the protected-resource metadata (RFC 9728), whose `authorization_servers` lists that issuer,
 * so an OAuth client goes to the real authorization server; a static token has none to point at,
 * so no metadata is offered and the message says which token to send.
 */
export function authChallenge(
  config: AuthConfig,
  refusal: { readonly tokenSent: boolean; readonly reason: string },
  metadataUrl: string | undefined,
): string {
  const parts = ['realm="longrun-mcp"']
  if (refusal.tokenSent) {
    parts.push('error="invalid_token"', `error_description="${quotable(refusal.reason)}"`)
  }
  if (config.kind === 'jwt' && metadataUrl !== undefined) parts.push(`resource_metadata="${metadataUrl}"`)
  return `Bearer ${parts.join(', ')}`
}

/** What a caller without a usable token is told to send. */
export function missingTokenHint(config: AuthConfig): string {
  if (config.kind === 'jwt') return `send Authorization: Bearer <a JWT issued by ${config.issuer}>`
  return "send Authorization: Bearer <the server's MCP_BEARER_TOKEN>; this server takes a static token and runs no OAuth authorization server"
}

/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728) of the MCP endpoint `resource`: only with JWTs,
 * whose issuer is the authorization server; undefined for a static token (there is none to name,
 * and MCP requires at least one in this document).
 */
export function protectedResourceMetadata(
  config: AuthConfig,
  resource: string,
): Record<string, unknown> | undefined {
  if (config.kind !== 'jwt') return undefined
  return {
    resource,
    authorization_servers: [config.issuer],
    bearer_methods_supported: ['header'],
  }
}

/** A quoted-string value: printable ASCII without quotes or backslashes, at most 200 characters. */
function quotable(text: string): string {
  return text.replace(/[^\x20-\x7e]|["\\]/g, ' ').slice(0, 200)
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function unauthenticated(message: string, cause?: unknown): McpServerError {
  return new McpServerError('UNAUTHENTICATED', message, { cause })
}
