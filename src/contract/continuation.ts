/**
 * Continuations: the agent acts on a finished task before the user comes back. The MCP server,
 * once a task's result is in memory, wakes the agent runtime of the task's session with a payload
 * that names the task and nothing else; the runtime reads the result from memory and runs a turn.
 * This file holds what both sides (and the tools that show a conversation) must agree on: the
 * headers the runtime's MCP connection sends so the server knows whom to wake, the wake payload,
 * the metadata that marks a task's events in memory, and the words of a continuation turn.
 */

/**
 * Headers of the runtime's MCP connection: the runtime session a task's wake goes to, and how deep
 * in a chain of continuations the turn that started the task is (absent: a turn the user started).
 */
export const CONTINUATION_HEADERS = {
  runtimeSession: 'x-longrun-runtime-session',
  depth: 'x-longrun-continuation-depth',
} as const

/** Metadata key on a task's result event and on every event of a continuation turn it caused. */
export const TASK_ID_METADATA_KEY = 'longrunTaskId'
/**
 * Metadata key on every event of a continuation turn: its depth in the chain (`1` for a task the
 * user started), or `stopped` on the note that says a limit stopped the agent from acting.
 */
export const CONTINUATION_METADATA_KEY = 'longrunContinuation'
/** The value of {@link CONTINUATION_METADATA_KEY} on a note that a limit stopped a continuation. */
export const CONTINUATION_STOPPED = 'stopped'

/** Runtime session ids: 33 to 256 printable characters (InvokeAgentRuntime's rule). */
export const RUNTIME_SESSION_ID = /^[\x21-\x7e]{33,256}$/
/** Deeper chains than this are refused as input (the runtime's limit is far lower). */
export const MAX_CONTINUATION_DEPTH = 1000

/**
 * The payload of a wake: the task, and the depth of the continuation it would run; no prompt. It
 * goes to the runtime session that started the task, whose Memory session holds the result.
 */
export interface WakePayload {
  readonly wake: { readonly task_id: string; readonly depth: number }
  readonly actor_id: string
  readonly memory_id: string
}

/** The first words of the user message that opens a continuation turn (written by the runtime). */
export const CONTINUATION_PROMPT_PREFIX = '[continuation]'

/**
 * The message the runtime opens a continuation turn with. It is written by the runtime from what
 * memory holds, never taken from the wake, so a wake can carry no instructions.
 */
export function continuationPrompt(taskId: string): string {
  return (
    `${CONTINUATION_PROMPT_PREFIX} Task ${taskId} ended while the user was away; its result is in ` +
    'the conversation above. Carry on with what the user asked for, if anything is left to do, and ' +
    'say what you did. Do not repeat work that is already done.'
  )
}

/** Words in the prompt of a continuation a limit stopped: the agent may only tell the user. */
export const CONTINUATION_STOPPED_MARK = 'You may not act on it on your own'

/**
 * The message of a continuation that a limit stopped: the agent, given no tools, tells the user the
 * result and that it stopped acting on its own (`depth`: the chain's limit; `budget`: the hour's).
 */
export function stoppedContinuationPrompt(taskId: string, reason: 'depth' | 'budget', limit: number): string {
  const why =
    reason === 'depth'
      ? `${limit} continuations in a row have run without the user (the limit of a chain)`
      : `this session has used its ${limit} continuations for this hour`
  return (
    `${CONTINUATION_PROMPT_PREFIX} Task ${taskId} ended while the user was away; its result is in ` +
    `the conversation above. ${CONTINUATION_STOPPED_MARK}: ${why}. Tell the user the result in a ` +
    'sentence or two, and that you stopped acting on finished tasks until they reply.'
  )
}

/** The task a continuation prompt names, or undefined for any other text. */
export function continuationTaskOf(text: string): string | undefined {
  if (!text.startsWith(CONTINUATION_PROMPT_PREFIX)) return undefined
  return /^\[continuation\] Task (\S+) ended while the user was away;/.exec(text)?.[1]
}
