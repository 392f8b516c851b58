/**
 * What an invocation asks for, checked before anything is built or written: the JSON payload
 * `{ prompt, actor_id?, memory_id? }` and the runtime session id header. Every problem is an
 * `INVALID_REQUEST` naming the field, so a bad request never reaches memory.
 */
import { ACTOR_ID_RULE, explainIdViolation, MEMORY_ID_RULE } from '../contract/index.ts'
import { isRecord } from '../shared/is-record.ts'
import { RuntimeError } from './errors.ts'

/** The header AgentCore Runtime puts the session id in. */
export const SESSION_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id'
/** Runtime session ids are at most this long (AgentCore's limit). */
const MAX_RUNTIME_SESSION_ID_LENGTH = 256
const PAYLOAD_FIELDS = ['prompt', 'actor_id', 'memory_id'] as const

/** A valid invocation payload. */
export interface InvocationPayload {
  readonly prompt: string
  readonly actorId: string | undefined
  readonly memoryId: string | undefined
}

/** Parses and checks the payload bytes; throws {@link RuntimeError} `INVALID_REQUEST` naming the field. */
export function parseInvocationPayload(body: Buffer, maxPromptChars: number): InvocationPayload {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw invalid('payload', 'the payload must be a JSON object such as {"prompt": "..."}; it is not JSON')
  }
  if (!isRecord(value))
    throw invalid('payload', 'the payload must be a JSON object such as {"prompt": "..."}')
  const unknown = Object.keys(value).filter((key) => !(PAYLOAD_FIELDS as readonly string[]).includes(key))
  if (unknown.length > 0) {
    throw invalid(
      unknown[0] as string,
      `unknown field(s) ${unknown.join(', ')}: the payload takes ${PAYLOAD_FIELDS.join(', ')}`,
    )
  }
  const { prompt } = value
  if (prompt === undefined) throw invalid('prompt', 'prompt is required')
  if (typeof prompt !== 'string') throw invalid('prompt', 'prompt must be a string')
  if (prompt.trim() === '') throw invalid('prompt', 'prompt must not be empty')
  if (prompt.length > maxPromptChars) {
    throw invalid('prompt', `prompt must be at most ${maxPromptChars} characters (got ${prompt.length})`)
  }
  return {
    prompt,
    actorId: optionalId(value.actor_id, 'actor_id', ACTOR_ID_RULE),
    memoryId: optionalId(value.memory_id, 'memory_id', MEMORY_ID_RULE),
  }
}

/**
 * The runtime session id of the request: the header's value, or undefined when there is none (the
 * runtime then makes one). Anything printable up to 256 characters is accepted; an id that is not
 * a valid Memory session id is mapped to one later (`memorySessionIdFor`).
 */
export function runtimeSessionIdOf(header: string | string[] | undefined): string | undefined {
  if (header === undefined || header === '') return undefined
  if (Array.isArray(header)) throw invalid(SESSION_ID_HEADER, 'the session id header must be given once')
  if (header.length > MAX_RUNTIME_SESSION_ID_LENGTH)
    throw invalid(
      SESSION_ID_HEADER,
      `the session id must be at most ${MAX_RUNTIME_SESSION_ID_LENGTH} characters`,
    )
  if (!/^[\x21-\x7e]+$/.test(header))
    throw invalid(SESSION_ID_HEADER, 'the session id must be printable ASCII without spaces')
  return header
}

function optionalId(
  value: unknown,
  field: string,
  rule: Parameters<typeof explainIdViolation>[1],
): string | undefined {
  if (value === undefined) return undefined
  const problem = explainIdViolation(value, rule)
  if (problem !== undefined) throw invalid(field, `${field} ${problem}`)
  return value as string
}

function invalid(field: string, message: string): RuntimeError {
  return new RuntimeError('INVALID_REQUEST', message, { field })
}
