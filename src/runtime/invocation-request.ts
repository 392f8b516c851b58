/**
 * What an invocation asks for, checked before anything is built or written: the JSON payload
 * `{ prompt, actor_id?, memory_id? }` (or, to resume a paused turn, `interrupt_responses` instead of
 * `prompt`) and the runtime session id header. Every problem is an `INVALID_REQUEST` naming the
 * field, so a bad request never reaches memory.
 */
import {
  ACTOR_ID_RULE,
  explainIdViolation,
  MAX_CONTINUATION_DEPTH,
  MEMORY_ID_RULE,
} from '../contract/index.ts'
import { isRecord } from '../shared/is-record.ts'
import { RuntimeError } from './errors.ts'

/** The header AgentCore Runtime puts the session id in. */
export const SESSION_ID_HEADER = 'x-amzn-bedrock-agentcore-runtime-session-id'
/** Runtime session ids are at most this long (AgentCore's limit). */
const MAX_RUNTIME_SESSION_ID_LENGTH = 256
const PAYLOAD_FIELDS = ['prompt', 'interrupt_responses', 'wake', 'actor_id', 'memory_id'] as const
const WAKE_FIELDS = ['task_id', 'depth'] as const
/** Task ids as the MCP server makes them (base64url), or a custom one of the same letters. */
const TASK_ID = /^[A-Za-z0-9_-]{1,256}$/
const ANSWER_FIELDS = ['interrupt_id', 'response'] as const
/** Answers one payload may carry: more than a turn can have asked is a mistake, not a use. */
const MAX_INTERRUPT_RESPONSES = 100

/** The caller's answer to one question a paused turn asked (an `interrupt` event). */
export interface InterruptAnswer {
  readonly interruptId: string
  /** Any JSON but null (which Strands, in Python, reads as "not answered"). */
  readonly response: unknown
}

/**
 * A wake from the MCP server: the task whose result is in the session's memory, and the depth of
 * the continuation it would run (1 for a task a user's turn started).
 */
export interface WakeRequest {
  readonly taskId: string
  readonly depth: number
}

/**
 * A valid invocation payload: a prompt, the answers that resume a paused turn, or a wake (exactly
 * one of the three).
 */
export interface InvocationPayload {
  readonly prompt: string | undefined
  readonly interruptResponses: readonly InterruptAnswer[] | undefined
  readonly wake?: WakeRequest | undefined
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
  const interruptResponses =
    value.interrupt_responses === undefined ? undefined : parseAnswers(value.interrupt_responses)
  if (interruptResponses !== undefined && prompt !== undefined)
    throw invalid('interrupt_responses', 'give prompt or interrupt_responses, not both')
  const wake = value.wake === undefined ? undefined : parseWake(value.wake)
  if (wake !== undefined && (prompt !== undefined || interruptResponses !== undefined))
    throw invalid('wake', 'a wake carries no prompt and no interrupt_responses')
  if (interruptResponses === undefined && wake === undefined) {
    if (prompt === undefined) throw invalid('prompt', 'prompt is required')
    if (typeof prompt !== 'string') throw invalid('prompt', 'prompt must be a string')
    if (prompt.trim() === '') throw invalid('prompt', 'prompt must not be empty')
    if (prompt.length > maxPromptChars) {
      throw invalid('prompt', `prompt must be at most ${maxPromptChars} characters (got ${prompt.length})`)
    }
  }
  return {
    prompt: prompt as string | undefined,
    interruptResponses,
    ...(wake !== undefined && { wake }),
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

/** `[{ "interrupt_id": "...", "response": <JSON> }, ...]`: one answer per id, at least one. */
function parseAnswers(value: unknown): InterruptAnswer[] {
  const field = 'interrupt_responses'
  const shape = `${field} must be a list of {"interrupt_id": "...", "response": ...}`
  if (!Array.isArray(value) || value.length === 0) throw invalid(field, `${shape}, not empty`)
  if (value.length > MAX_INTERRUPT_RESPONSES)
    throw invalid(field, `${field} holds at most ${MAX_INTERRUPT_RESPONSES} answers`)
  const seen = new Set<string>()
  return value.map((answer) => {
    if (!isRecord(answer)) throw invalid(field, shape)
    const extra = Object.keys(answer).find((key) => !(ANSWER_FIELDS as readonly string[]).includes(key))
    if (extra !== undefined) throw invalid(field, `${shape}; ${extra} is not one of its fields`)
    const id = answer.interrupt_id
    if (typeof id !== 'string' || id === '') throw invalid(field, `${shape}; interrupt_id must be a string`)
    if (seen.has(id)) throw invalid(field, `${field} answers ${id} twice`)
    seen.add(id)
    if (answer.response === undefined || answer.response === null)
      throw invalid(field, `${shape}; the answer to ${id} has no response (null is not one)`)
    return { interruptId: id, response: answer.response }
  })
}

/** `{"task_id": "...", "depth": n}`: nothing else, since a wake may carry no instructions. */
function parseWake(value: unknown): WakeRequest {
  const shape = 'wake must be {"task_id": "...", "depth": <whole number from 1>}'
  if (!isRecord(value)) throw invalid('wake', shape)
  const extra = Object.keys(value).find((key) => !(WAKE_FIELDS as readonly string[]).includes(key))
  if (extra !== undefined) throw invalid(`wake.${extra}`, `${shape}; ${extra} is not one of its fields`)
  const { task_id: taskId, depth } = value
  if (typeof taskId !== 'string' || !TASK_ID.test(taskId))
    throw invalid('wake.task_id', 'wake.task_id must be a task id: 1-256 letters, digits, - or _')
  if (typeof depth !== 'number' || !Number.isInteger(depth) || depth < 1 || depth > MAX_CONTINUATION_DEPTH)
    throw invalid('wake.depth', `wake.depth must be a whole number from 1 to ${MAX_CONTINUATION_DEPTH}`)
  return { taskId, depth }
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
