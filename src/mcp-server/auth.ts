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
      readonly audience: string | readonly string[]
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
  const verify = createJwtVerifier(config)
  const requireSubjectMatchesActor = config.requireSubjectMatchesActor ?? true
  return async (authorization) => {
    try {
      const { subject } = await verify(authorization)
      return { subject, principalId: `jwt:${subject}`, requireSubjectMatchesActor }
    } catch (error) {
      if (error instanceof TokenRejectedError) throw unauthenticated(error.message, error.cause)
      if (error instanceof KeySetUnavailableError)
        throw new McpServerError('AUTH_UNAVAILABLE', error.message, { cause: error.cause })
      throw error
    }
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function unauthenticated(message: string, cause?: unknown): McpServerError {
  return new McpServerError('UNAUTHENTICATED', message, { cause })
}
