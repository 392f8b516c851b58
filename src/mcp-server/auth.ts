/**
 * Authentication of every MCP request: a Bearer token that is either a static secret (compared in
 * constant time) or a JWT checked against issuer, audience and a JWKS.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'
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
      /** When true, a composite header's actor must equal the token's subject (403 otherwise). */
      readonly requireSubjectMatchesActor?: boolean
    }
  /** No check at all: only behind a gateway that already authenticates (say so explicitly). */
  | { readonly kind: 'none' }

/** Who the request comes from. */
export interface Principal {
  /** The JWT subject; undefined for the static secret and for `none`. */
  readonly subject: string | undefined
  readonly requireSubjectMatchesActor: boolean
}

/** Checks an `Authorization` header value; throws UNAUTHENTICATED (HTTP 401) when missing or bad. */
export type Authenticator = (authorization: string | undefined) => Promise<Principal>

/** Builds the authenticator for `config`. */
export function createAuthenticator(config: AuthConfig): Authenticator {
  if (config.kind === 'none') {
    return async () => ({ subject: undefined, requireSubjectMatchesActor: false })
  }
  if (config.kind === 'bearer') {
    if (config.token.length === 0)
      throw new McpServerError('INVALID_CONFIG', 'bearer token must not be empty')
    const expected = digest(config.token)
    return async (authorization) => {
      const token = bearerToken(authorization)
      // Digests have equal length, so timingSafeEqual compares without leaking the secret's length.
      if (!timingSafeEqual(digest(token), expected)) throw unauthenticated('invalid bearer token')
      return { subject: undefined, requireSubjectMatchesActor: false }
    }
  }
  const keys =
    typeof config.jwks === 'string' || config.jwks instanceof URL
      ? createRemoteJWKSet(new URL(config.jwks))
      : createLocalJWKSet(config.jwks)
  const audience = typeof config.audience === 'string' ? config.audience : [...config.audience]
  return async (authorization) => {
    const token = bearerToken(authorization)
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: config.issuer, audience })
      return { subject: payload.sub, requireSubjectMatchesActor: config.requireSubjectMatchesActor ?? false }
    } catch (error) {
      throw unauthenticated('invalid or expired token', error)
    }
  }
}

function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '')
  if (match?.[1] === undefined) throw unauthenticated('missing Bearer token')
  return match[1]
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

function unauthenticated(message: string, cause?: unknown): McpServerError {
  return new McpServerError('UNAUTHENTICATED', message, { cause })
}
