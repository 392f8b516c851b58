/**
 * The composite MCP session header `<sessionId>@@@<memoryId>@@@<actorId>`: how an agent tells a
 * long-running MCP server where a task's result belongs in AgentCore Memory. The client writes it
 * into `mcp-session-id`; the server reads it back. Both sides validate every part with the
 * service's own id rules, so a bad id is refused before any work starts.
 */
import { ACTOR_ID_RULE, explainIdViolation, type IdRule, MEMORY_ID_RULE, SESSION_ID_RULE } from './ids.ts'

/**
 * longrun's own header naming the caller's memory, with the composite value: the way that survives
 * the MCP spec revision 2026-07-28, which removed `Mcp-Session-Id`. A client sends both.
 */
export const MEMORY_HEADER = 'x-longrun-memory'
/** The same value as a request's `_meta` entry, for a client that cannot set headers. */
export const MEMORY_META_KEY = 'io.longrun/memory'

/** Separator between the three parts; none of the three id rules allows `@`, so it cannot be ambiguous. */
export const COMPOSITE_SESSION_SEPARATOR = '@@@'

/** The memory coordinates a caller names for its task results. */
export interface CompositeSessionParts {
  readonly sessionId: string
  readonly memoryId: string
  readonly actorId: string
}

/** Which part of the header is wrong. */
export type CompositeSessionField = 'header' | 'sessionId' | 'memoryId' | 'actorId'

/** A composite header that cannot be parsed or carries an invalid id. */
export class CompositeSessionHeaderError extends Error {
  readonly code = 'INVALID_COMPOSITE_SESSION_HEADER'
  readonly field: CompositeSessionField

  constructor(field: CompositeSessionField, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'CompositeSessionHeaderError'
    this.field = field
  }
}

const PART_RULES: ReadonlyArray<readonly ['sessionId' | 'memoryId' | 'actorId', IdRule]> = [
  ['sessionId', SESSION_ID_RULE],
  ['memoryId', MEMORY_ID_RULE],
  ['actorId', ACTOR_ID_RULE],
]

/**
 * True when `value` claims to be composite. Any `@@` counts, so a near miss such as `s@@m@@a` is
 * refused as malformed instead of silently naming no memory; none of the id rules allows `@`, and a
 * plain session id issued elsewhere (AgentCore Runtime's) has none.
 */
export function isCompositeSessionHeader(value: string): boolean {
  return value.includes('@@')
}

/** Parses and validates a composite header; throws {@link CompositeSessionHeaderError} naming the bad part. */
export function parseCompositeSessionHeader(value: string): CompositeSessionParts {
  const parts = value.split(COMPOSITE_SESSION_SEPARATOR)
  if (parts.length !== 3) {
    throw new CompositeSessionHeaderError(
      'header',
      `composite session header must be <sessionId>@@@<memoryId>@@@<actorId> (got ${parts.length} part(s))`,
    )
  }
  const [sessionId, memoryId, actorId] = parts as [string, string, string]
  const result = { sessionId, memoryId, actorId }
  checkParts(result)
  return result
}

/** Builds the header value from validated parts (the client side). */
export function formatCompositeSessionHeader(parts: CompositeSessionParts): string {
  checkParts(parts)
  return [parts.sessionId, parts.memoryId, parts.actorId].join(COMPOSITE_SESSION_SEPARATOR)
}

function checkParts(parts: CompositeSessionParts): void {
  for (const [field, rule] of PART_RULES) {
    const problem = explainIdViolation(parts[field], rule)
    if (problem !== undefined) {
      throw new CompositeSessionHeaderError(field, `composite session header: ${field} ${problem}`)
    }
  }
}
