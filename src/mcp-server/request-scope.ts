/**
 * Who asks, for one request: the authenticated principal and the composite `mcp-session-id`
 * header decide the owner of every task the request creates or sees.
 */
import type { IncomingMessage } from 'node:http'
import {
  type CompositeSessionParts,
  CONTINUATION_HEADERS,
  isCompositeSessionHeader,
  MAX_CONTINUATION_DEPTH,
  MEMORY_HEADER,
  MEMORY_META_KEY,
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
  /** Who authenticated: a request's `_meta` may still name the memory ({@link withMemoryMeta}). */
  readonly principal: Principal
  /** The continuation headers of the request, for a memory named in `_meta`. */
  readonly continuation: Partial<TaskCaller>
}

/**
 * Authenticates the request and reads the memory it names: the composite `Mcp-Session-Id` (the
 * seed's way, spec 2025-11-25) and longrun's own `x-longrun-memory` header (which the 2026-07-28
 * revision, without protocol sessions, keeps), with the same value and the same checks; both given
 * must agree. A malformed value is refused.
 */
export async function scopeOf(req: IncomingMessage, authenticate: Authenticator): Promise<RequestScope> {
  const principal = await authenticate(req.headers.authorization)
  const header = req.headers['mcp-session-id']
  const value = Array.isArray(header) ? header.join(', ') : header
  const continuation = continuationOf(req.headers)
  const fromSession =
    value !== undefined && isCompositeSessionHeader(value) ? memoryOf(value, 'Mcp-Session-Id') : null
  const own = single(req.headers, MEMORY_HEADER)
  const fromHeader = own === undefined ? null : memoryOf(own, MEMORY_HEADER)
  if (fromSession !== null && fromHeader !== null && !sameMemory(fromSession, fromHeader))
    throw new McpServerError(
      'INVALID_REQUEST',
      `${MEMORY_HEADER} and Mcp-Session-Id name different memories`,
      {
        field: MEMORY_HEADER,
      },
    )
  const named = fromHeader ?? fromSession
  const base = {
    owner: ownerOf(principal, undefined),
    caller: null,
    sessionKey: value ?? '',
    traceCarrier: traceCarrierOf(req.headers),
    principal,
    continuation,
  }
  return named === null ? base : scopeNaming(base, named)
}

/**
 * The scope of one JSON-RPC request: the request's `_meta` may name the memory (`io.longrun/memory`,
 * the composite value) when no header did; both given must agree.
 */
export function withMemoryMeta(scope: RequestScope, meta: unknown): RequestScope {
  const value =
    typeof meta === 'object' && meta !== null ? (meta as Record<string, unknown>)[MEMORY_META_KEY] : undefined
  if (value === undefined) return scope
  const field = `_meta.${MEMORY_META_KEY}`
  if (typeof value !== 'string')
    throw new McpServerError('INVALID_REQUEST', `${field} must be "<sessionId>@@@<memoryId>@@@<actorId>"`, {
      field,
    })
  const named = memoryOf(value, field)
  if (scope.caller !== null) {
    if (!sameMemory(scope.caller, named))
      throw new McpServerError(
        'INVALID_REQUEST',
        `${field} and the request's headers name different memories`,
        {
          field,
        },
      )
    return scope
  }
  return scopeNaming(scope, named)
}

/** `scope` with the memory `named`: its owner is then the actor's (see {@link ownerOf}). */
function scopeNaming(scope: RequestScope, named: CompositeSessionParts): RequestScope {
  const { principal } = scope
  if (
    principal.requireSubjectMatchesActor &&
    principal.actsForActor !== true &&
    principal.subject !== named.actorId
  ) {
    throw new McpServerError('FORBIDDEN', 'the token subject does not match the actor the request names')
  }
  return { ...scope, owner: ownerOf(principal, named.actorId), caller: { ...named, ...scope.continuation } }
}

/** The memory a composite value names; INVALID_REQUEST naming `field` when it is malformed. */
function memoryOf(value: string, field: string): CompositeSessionParts {
  try {
    return parseCompositeSessionHeader(value)
  } catch (error) {
    throw new McpServerError('INVALID_REQUEST', `${field}: ${(error as Error).message}`, {
      field,
      cause: error,
    })
  }
}

function sameMemory(a: CompositeSessionParts, b: CompositeSessionParts): boolean {
  return a.sessionId === b.sessionId && a.memoryId === b.memoryId && a.actorId === b.actorId
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
