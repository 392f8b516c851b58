/**
 * Bearer-token checks shared by the servers that accept work (the agent runtime and the MCP
 * server): the token out of an `Authorization` header, and JWTs verified against an issuer, an
 * audience or allowed client ids, and a JWKS, naming the caller by one claim.
 */
import type * as JoseModule from 'jose'
import type { JSONWebKeySet } from 'jose'

type Jose = typeof JoseModule
/** jose, loaded by the first verifier made: a server whose callers are trusted never loads it. */
let jose: Promise<Jose> | undefined
const loadJose = (): Promise<Jose> => (jose ??= import('jose'))

/** A missing, malformed, expired or otherwise unacceptable token (HTTP 401). */
export class TokenRejectedError extends Error {
  readonly code = 'UNAUTHENTICATED'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'TokenRejectedError'
  }
}

/** The key set could not be fetched: no token can be checked now, through no fault of the caller's (HTTP 503). */
export class KeySetUnavailableError extends Error {
  readonly code = 'AUTH_UNAVAILABLE'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'KeySetUnavailableError'
  }
}

/** jose's errors that judge the token itself (anything else means the key set could not be used). */
const tokenVerdicts = ({ errors }: Jose) => [
  errors.JWTExpired,
  errors.JWTClaimValidationFailed,
  errors.JWTInvalid,
  errors.JWSInvalid,
  errors.JWSSignatureVerificationFailed,
  errors.JWKSNoMatchingKey,
  errors.JWKSMultipleMatchingKeys,
  errors.JOSEAlgNotAllowed,
  errors.JOSENotSupported,
]

/** Where JWTs come from and what they must say. */
export interface JwtVerifierConfig {
  readonly issuer: string
  /** Accepted `aud` values (ID tokens, most providers' access tokens). */
  readonly audience?: string | readonly string[] | undefined
  /**
   * Accepted `client_id` (or `azp`) values: Cognito access tokens carry no `aud`, and AgentCore's
   * JWT authorizer checks them as "allowed clients". At least one of `audience` and `clientIds`.
   */
  readonly clientIds?: readonly string[] | undefined
  /** The provider's JWKS URL, or the key set itself (tests, air-gapped setups). */
  readonly jwks: string | URL | JSONWebKeySet
  /** The claim naming the caller (default `sub`); a token without it is refused. */
  readonly subjectClaim?: string | undefined
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
  if (config.audience === undefined && (config.clientIds === undefined || config.clientIds.length === 0)) {
    throw new TypeError('a JWT verifier needs an audience or allowed client ids')
  }
  const jwksUrl =
    typeof config.jwks === 'string' || config.jwks instanceof URL ? new URL(config.jwks) : undefined
  const localKeys = jwksUrl === undefined ? (config.jwks as JSONWebKeySet) : undefined
  // Loading starts now, so the first request does not wait for it.
  const verifying = loadJose().then((loaded) => ({
    jwtVerify: loaded.jwtVerify,
    keys:
      jwksUrl !== undefined
        ? loaded.createRemoteJWKSet(jwksUrl)
        : loaded.createLocalJWKSet(localKeys as JSONWebKeySet),
    verdicts: tokenVerdicts(loaded),
  }))
  // A failure is reported by the first request that needs jose, not as an unhandled rejection now.
  verifying.catch(() => {})
  const audience =
    config.audience === undefined
      ? undefined
      : typeof config.audience === 'string'
        ? config.audience
        : [...config.audience]
  const clientIds = config.clientIds === undefined ? undefined : new Set(config.clientIds)
  const subjectClaim = config.subjectClaim ?? 'sub'
  return async (authorization) => {
    const token = bearerToken(authorization)
    let verifier: Awaited<typeof verifying>
    try {
      verifier = await verifying
    } catch (error) {
      throw new KeySetUnavailableError('the key set to check tokens against cannot be used', { cause: error })
    }
    const { jwtVerify, keys, verdicts } = verifier
    let claims: Record<string, unknown>
    try {
      claims = (
        await jwtVerify(token, keys, {
          issuer: config.issuer,
          ...(audience !== undefined && { audience }),
          // A token that never expires is not accepted.
          requiredClaims: ['exp'],
        })
      ).payload
    } catch (error) {
      // Only jose's verdicts on the token are the caller's fault; a key set out of reach is ours.
      if (verdicts.some((verdict) => error instanceof verdict))
        throw new TokenRejectedError('invalid or expired token', { cause: error })
      throw new KeySetUnavailableError('the key set to check tokens against could not be fetched', {
        cause: error,
      })
    }
    if (clientIds !== undefined) {
      const client = claims.client_id ?? claims.azp
      if (typeof client !== 'string' || !clientIds.has(client))
        throw new TokenRejectedError('the token was issued to a client that is not allowed')
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
