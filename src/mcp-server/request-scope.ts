/**
 * Who asks, for one request: the authenticated principal and the composite `mcp-session-id`
 * header decide the owner of every task the request creates or sees.
 */
import type { IncomingMessage } from 'node:http'
import {
  type CompositeSessionParts,
  isCompositeSessionHeader,
  parseCompositeSessionHeader,
} from '../contract/index.ts'
import { type TraceCarrier, traceCarrierOf } from '../telemetry/index.ts'
import type { Authenticator, Principal } from './auth.ts'
import { McpServerError } from './errors.ts'

/** Who is asking, for one request. */
export interface RequestScope {
  /** The owner of tasks this request creates and the only owner whose tasks it sees. */
  readonly owner: string
  /** Where results go in memory; null without a composite header. */
  readonly caller: CompositeSessionParts | null
  /** The raw `mcp-session-id` ('' when none): with owner and request id it names an inline call. */
  readonly sessionKey: string
  /** The caller's trace context from the `traceparent` header, when it sent a valid one. */
  readonly traceCarrier: TraceCarrier | undefined
}

/** Authenticates the request and reads its composite header; refuses a malformed one. */
export async function scopeOf(req: IncomingMessage, authenticate: Authenticator): Promise<RequestScope> {
  const principal = await authenticate(req.headers.authorization)
  const header = req.headers['mcp-session-id']
  const value = Array.isArray(header) ? header.join(', ') : header
  let caller: CompositeSessionParts | null = null
  if (value !== undefined && isCompositeSessionHeader(value)) {
    try {
      caller = parseCompositeSessionHeader(value)
    } catch (error) {
      throw new McpServerError('INVALID_REQUEST', `Mcp-Session-Id: ${(error as Error).message}`, {
        field: 'Mcp-Session-Id',
        cause: error,
      })
    }
  }
  if (principal.requireSubjectMatchesActor && caller !== null && principal.subject !== caller.actorId) {
    throw new McpServerError('FORBIDDEN', 'the token subject does not match the actor in Mcp-Session-Id')
  }
  return {
    owner: ownerOf(principal, caller?.actorId),
    caller,
    sessionKey: value ?? '',
    traceCarrier: traceCarrierOf(req.headers),
  }
}

/** U+001F (unit separator): never in an actor id, and, unlike NUL, kept intact by SQLite and Redis. */
const OWNER_SEPARATOR = '\u001f'

/**
 * Who owns a task. With a JWT, the subject (plus the header's actor when the deployment lets a
 * subject name another actor), so a token holder never reads another subject's tasks. With a shared
 * secret, the actor the header names (self-declared by design). A caller without a composite header
 * is scoped by its authenticated principal (JWT subject, or the static token: one bucket per token),
 * prefixed with a control character no actor id can contain, so no actor collides with it.
 */
export function ownerOf(principal: Principal, actorId: string | undefined): string {
  const subject = principal.subject
  if (subject !== undefined) {
    if (actorId === undefined || actorId === subject) return subject
    return `${subject}${OWNER_SEPARATOR}${actorId}`
  }
  if (actorId !== undefined) return actorId
  return `${OWNER_SEPARATOR}${principal.principalId ?? 'unauthenticated'}`
}
