/**
 * Bearer-token checks shared by the servers that accept work (the agent runtime and the MCP
 * server): the token out of an `Authorization` header, and JWTs verified against an issuer, an
 * audience and a JWKS, naming the caller by one claim.
 */
import { createLocalJWKSet, createRemoteJWKSet, type JSONWebKeySet, jwtVerify } from 'jose'

/** A missing, malformed, expired or otherwise unacceptable token (HTTP 401). */
export class TokenRejectedError extends Error {
  readonly code = 'UNAUTHENTICATED'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'TokenRejectedError'
  }
}

/** Where JWTs come from and what they must say. */
export interface JwtVerifierConfig {
  readonly issuer: string
  readonly audience: string | readonly string[]
  /** The provider's JWKS URL, or the key set itself (tests, air-gapped setups). */
  readonly jwks: string | URL | JSONWebKeySet
  /** The claim naming the caller (default `sub`); a token without it is refused. */
  readonly subjectClaim?: string
}

/** Verifies an `Authorization` header's JWT and answers the caller it names. */
export type JwtVerifier = (authorization: string | undefined) => Promise<{ readonly subject: string }>

/** The token of an `Authorization: Bearer <token>` header; throws {@link TokenRejectedError} otherwise. */
export function bearerToken(authorization: string | undefined): string {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization ?? '')
  if (match?.[1] === undefined) throw new TokenRejectedError('missing Bearer token')
  return match[1]
}

/** Builds a verifier; a remote key set is fetched once and cached by jose. */
export function createJwtVerifier(config: JwtVerifierConfig): JwtVerifier {
  const keys =
    typeof config.jwks === 'string' || config.jwks instanceof URL
      ? createRemoteJWKSet(new URL(config.jwks))
      : createLocalJWKSet(config.jwks)
  const audience = typeof config.audience === 'string' ? config.audience : [...config.audience]
  const subjectClaim = config.subjectClaim ?? 'sub'
  return async (authorization) => {
    const token = bearerToken(authorization)
    let claims: Record<string, unknown>
    try {
      claims = (await jwtVerify(token, keys, { issuer: config.issuer, audience })).payload
    } catch (error) {
      throw new TokenRejectedError('invalid or expired token', { cause: error })
    }
    const subject = claims[subjectClaim]
    if (typeof subject !== 'string' || subject.length === 0) {
      throw new TokenRejectedError(`the token has no ${subjectClaim} claim naming the caller`)
    }
    // Control characters separate the parts of a task owner; a subject never needs one.
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f]/.test(subject))
      throw new TokenRejectedError(`the token's ${subjectClaim} claim is malformed`)
    return { subject }
  }
}
