/**
 * Who asks, for one request: the authenticated principal and the composite `mcp-session-id`
 * header decide the owner of every task the request creates or sees.
 */
import type { IncomingMessage } from 'node:http'
import {
  CONTINUATION_HEADERS,
  isCompositeSessionHeader,
  MAX_CONTINUATION_DEPTH,
  parseCompositeSessionHeader,
  RUNTIME_SESSION_ID,
} from '../contract/index.ts'
import { type TraceCarrier, traceCarrierOf } from '../telemetry/index.ts'
import type { Authenticator, Principal } from './auth.ts'
import { McpServerError } from './errors.ts'
import type { TaskCaller } from './task-record.ts'

/** Who is asking, for one request. */
export interface RequestScope {
  /** The owner of tasks this request creates and the only owner whose tasks it sees. */
  readonly owner: string
  /** Where results go in memory (and whom a task's end may wake); null without a composite header. */
  readonly caller: TaskCaller | null
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
  let caller: TaskCaller | null = null
  if (value !== undefined && isCompositeSessionHeader(value)) {
    try {
      caller = { ...parseCompositeSessionHeader(value), ...continuationOf(req.headers) }
    } catch (error) {
      if (error instanceof McpServerError) throw error
      throw new McpServerError('INVALID_REQUEST', `Mcp-Session-Id: ${(error as Error).message}`, {
        field: 'Mcp-Session-Id',
        cause: error,
      })
    }
  }
  if (
    principal.requireSubjectMatchesActor &&
    principal.actsForActor !== true &&
    caller !== null &&
    principal.subject !== caller.actorId
  ) {
    throw new McpServerError('FORBIDDEN', 'the token subject does not match the actor in Mcp-Session-Id')
  }
  return {
    owner: ownerOf(principal, caller?.actorId),
    caller,
    sessionKey: value ?? '',
    traceCarrier: traceCarrierOf(req.headers),
  }
}

/**
 * The runtime session a task's end may wake and the depth of the turn that starts it, from the
 * headers an agent runtime's connection sends; checked here, where they cross into the server.
 */
function continuationOf(headers: IncomingMessage['headers']): Partial<TaskCaller> {
  const session = single(headers, CONTINUATION_HEADERS.runtimeSession)
  const depthText = single(headers, CONTINUATION_HEADERS.depth)
  if (session !== undefined && !RUNTIME_SESSION_ID.test(session))
    throw new McpServerError(
      'INVALID_REQUEST',
      `${CONTINUATION_HEADERS.runtimeSession} must be 33 to 256 printable characters (a runtime session id)`,
      { field: CONTINUATION_HEADERS.runtimeSession },
    )
  let depth: number | undefined
  if (depthText !== undefined) {
    depth = /^\d{1,4}$/.test(depthText) ? Number(depthText) : Number.NaN
    if (!(depth <= MAX_CONTINUATION_DEPTH))
      throw new McpServerError(
        'INVALID_REQUEST',
        `${CONTINUATION_HEADERS.depth} must be a whole number from 0 to ${MAX_CONTINUATION_DEPTH}`,
        { field: CONTINUATION_HEADERS.depth },
      )
  }
  return {
    ...(session !== undefined && { runtimeSessionId: session }),
    ...(depth !== undefined && depth > 0 && { continuationDepth: depth }),
  }
}

function single(headers: IncomingMessage['headers'], name: string): string | undefined {
  const value = headers[name]
  if (value === undefined || value === '') return undefined
  if (Array.isArray(value))
    throw new McpServerError('INVALID_REQUEST', `${name} must be given once`, { field: name })
  return value
}

/** U+001F (unit separator): never in an actor id, and, unlike NUL, kept intact by SQLite and Redis. */
const OWNER_SEPARATOR = '\u001f'

/**
 * Who owns a task. A machine identity acting for the header's actor: that actor. With a JWT, the subject (plus the header's actor when the deployment lets a
 * subject name another actor), so a token holder never reads another subject's tasks. With a shared
 * secret, the actor the header names (self-declared by design). A caller without a composite header
 * is scoped by its authenticated principal (JWT subject, or the static token: one bucket per token),
 * prefixed with a control character no actor id can contain, so no actor collides with it.
 */
export function ownerOf(principal: Principal, actorId: string | undefined): string {
  // A machine identity acting for an actor: the actor's own tasks, as if the actor had called.
  if (principal.actsForActor === true && actorId !== undefined) return actorId
  const subject = principal.subject
  if (subject !== undefined) {
    if (actorId === undefined || actorId === subject) return subject
    return `${subject}${OWNER_SEPARATOR}${actorId}`
  }
  if (actorId !== undefined) return actorId
  return `${OWNER_SEPARATOR}${principal.principalId ?? 'unauthenticated'}`
}
