/**
 * Whose conversation an invocation touches. Without caller authentication the payload names the
 * actor (`default` when it does not, as the seed's agent does): the runtime trusts whoever can
 * reach it, which on AgentCore is the platform after it authenticated the caller with IAM. With
 * JWT authentication (the Runtime's inbound JWT authorizer passes the token on in `Authorization`)
 * the actor is the token's subject, and a payload naming any other actor is refused.
 */
import { ACTOR_ID_RULE, explainIdViolation } from '../contract/index.ts'
import {
  bearerToken,
  createJwtVerifier,
  type JwtVerifierConfig,
  KeySetUnavailableError,
  TokenRejectedError,
} from '../shared/bearer-token.ts'
import { RuntimeError } from './errors.ts'

/** The actor used when neither a token nor the payload names one. */
export const DEFAULT_ACTOR_ID = 'default'

/** Who is calling: the actor whose memory is used, and the caller's token to pass on (if any). */
export interface Caller {
  readonly actorId: string
  /** The verified bearer token, for a downstream server that checks the same tokens; undefined when callers are trusted. */
  readonly token: string | undefined
}

/** What an invocation asks for: a turn of the caller's own, or a wake the MCP server sends. */
export type InvocationKind = 'turn' | 'wake'

/** Resolves the caller of one request. */
export type CallerResolver = (
  authorization: string | undefined,
  payloadActorId: string | undefined,
  kind?: InvocationKind,
) => Promise<Caller>

/**
 * Trusts the payload (or `default`); `jwt` makes the token's subject the actor. `wakeSubjects` are
 * the subjects of machine identities (the MCP server's client-credentials client) whose WAKES name
 * the actor in `actor_id`: a wake acts only on a task result in that actor's memory, and such a
 * subject asking for anything but a wake is an actor of its own like any other.
 */
export function createCallerResolver(
  jwt: JwtVerifierConfig | undefined,
  options: { readonly wakeSubjects?: readonly string[] | undefined } = {},
): CallerResolver {
  const wakers = new Set(options.wakeSubjects ?? [])
  if (jwt === undefined) {
    return async (_authorization, payloadActorId) => ({
      actorId: payloadActorId ?? DEFAULT_ACTOR_ID,
      token: undefined,
    })
  }
  const verify = createJwtVerifier(jwt)
  return async (authorization, payloadActorId, kind = 'turn') => {
    let subject: string
    try {
      subject = (await verify(authorization)).subject
    } catch (error) {
      if (error instanceof TokenRejectedError)
        throw new RuntimeError('UNAUTHENTICATED', error.message, { cause: error })
      if (error instanceof KeySetUnavailableError)
        throw new RuntimeError('AUTH_UNAVAILABLE', 'tokens cannot be checked right now; try again', {
          cause: error,
        })
      throw error
    }
    if (kind === 'wake' && wakers.has(subject)) {
      if (payloadActorId === undefined)
        throw new RuntimeError('INVALID_REQUEST', 'a wake names the actor whose session it wakes', {
          field: 'actor_id',
        })
      return { actorId: payloadActorId, token: bearerToken(authorization) }
    }
    if (explainIdViolation(subject, ACTOR_ID_RULE) !== undefined) {
      throw new RuntimeError('FORBIDDEN', "the token's subject is not a valid AgentCore Memory actor id", {
        field: 'Authorization',
      })
    }
    if (payloadActorId !== undefined && payloadActorId !== subject) {
      throw new RuntimeError(
        'FORBIDDEN',
        'actor_id differs from the subject of the token: a caller acts only as itself',
        {
          field: 'actor_id',
        },
      )
    }
    return { actorId: subject, token: bearerToken(authorization) }
  }
}
