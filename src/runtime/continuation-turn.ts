/**
 * A continuation turn: what the runtime does with a wake. The wake names a task and nothing else;
 * the runtime acts only on what memory holds.
 * - The task's result must be in this actor's session, or the wake is refused (WAKE_TASK_NOT_FOUND).
 * - A continuation that ran to its end is not run again: a duplicate wake answers what it said.
 * - One a crash cut short is carried on from what was stored (its tool calls with no stored result
 *   are answered "interrupted" by the restore), not started over, unless a later turn (the user's
 *   answer to the question it paused on, say) has since ended the conversation: then it is done.
 * - A session paused on a question stays paused: the wake answers the questions it waits on; a
 *   continuation that pauses on one (an approval) answers the same way (`paused`).
 * - Past the chain's depth limit or the session's hourly budget the agent does not act: it runs a
 *   turn without tools whose only job is to tell the user the result and that it stopped.
 * Every event of the turn carries the task's id and the continuation's depth as metadata, so the
 * timeline, the CLI and the console show it as "while you were away", and a later wake finds it.
 * A wake waits its turn like any invocation: a session with a turn under way answers SESSION_BUSY,
 * and the MCP server tries again later.
 */
import type { InterruptResponseContent } from '@strands-agents/sdk'
import { type InvocationAgent, pendingInterruptsOf } from '../agent/index.ts'
import {
  CONTINUATION_METADATA_KEY,
  CONTINUATION_STOPPED,
  continuationPrompt,
  stoppedContinuationPrompt,
  TASK_ID_METADATA_KEY,
} from '../contract/index.ts'
import type { MemoryDataClient } from '../memory/index.ts'
import { RuntimeError } from './errors.ts'
import type { ResolvedInvocation, TurnState } from './invocation-handler.ts'
import type { WakeRequest } from './invocation-request.ts'
import { type ContinuationOutcome, type InvocationAnswer, runtimeInterruptOf } from './stream-events.ts'
import { readTaskEvents } from './task-events.ts'

/** What the agent is given: a prompt, answers to its questions, or nothing (carry on). */
export type TurnInput = string | InterruptResponseContent[]

/** How a turn's agent is built. */
export interface BuildOptions {
  /** Offer the MCP server's tools (a stopped continuation has none). */
  readonly tools: boolean
  /** Metadata of every event the turn writes. */
  readonly metadata?: Readonly<Record<string, string>> | undefined
}

/** The handler's way of building, running and closing a turn's agent. */
export interface TurnRunner {
  open(invocation: ResolvedInvocation, turn: TurnState, options: BuildOptions): Promise<InvocationAgent>
  run(
    built: InvocationAgent,
    invocation: ResolvedInvocation,
    turn: TurnState,
    input: TurnInput,
  ): Promise<InvocationAnswer>
  close(built: InvocationAgent): Promise<void>
}

/** How far the agent may act on its own. */
export interface ContinuationLimits {
  /** Continuations in one chain (a task a continuation started waking again counts one deeper). */
  readonly depth: number
  /** Continuations one session may run in an hour (0: none). */
  readonly perHour: number
}

/** The agent state key of the session's continuation start times (the last hour's). */
const STARTED_KEY = 'longrun_continuations'
const HOUR_MS = 3_600_000

/** Runs the continuation a wake asks for, or answers why it need not run. */
export async function runContinuation(
  invocation: ResolvedInvocation,
  wake: WakeRequest,
  turn: TurnState,
  parts: {
    readonly turns: TurnRunner
    readonly limits: ContinuationLimits
    readonly memoryClient: MemoryDataClient
    readonly clock?: () => number
  },
): Promise<InvocationAnswer> {
  const now = parts.clock ?? Date.now
  const session = {
    memoryId: invocation.memoryId,
    actorId: invocation.actorId,
    sessionId: invocation.memorySessionId,
  }
  const stored = await readTaskEvents(parts.memoryClient, session, wake.taskId)
  if (!stored.resultStored)
    throw new RuntimeError(
      'WAKE_TASK_NOT_FOUND',
      `no result of task ${wake.taskId} is in this actor's session: a wake acts only on what memory holds`,
      { field: 'wake.task_id' },
    )
  const outcome = (value: ContinuationOutcome['outcome'], reason?: ContinuationOutcome['reason']) => ({
    task_id: wake.taskId,
    depth: wake.depth,
    outcome: value,
    ...(reason !== undefined && { reason }),
  })
  if (stored.continuationAnswer !== undefined)
    return {
      response: stored.continuationAnswer,
      session_id: invocation.runtimeSessionId,
      tasks: [],
      continuation: outcome('ran_before'),
    }
  const marks = { [TASK_ID_METADATA_KEY]: wake.taskId, [CONTINUATION_METADATA_KEY]: String(wake.depth) }
  const stopped = { tools: false, metadata: { ...marks, [CONTINUATION_METADATA_KEY]: CONTINUATION_STOPPED } }
  // Past the chain's depth the agent will not act: it is built without tools at once (the hour's
  // budget is read from the agent state, so only that limit needs the agent built first).
  const tooDeep = !stored.continuationStarted && wake.depth > parts.limits.depth
  let built = await parts.turns.open(invocation, turn, tooDeep ? stopped : { tools: true, metadata: marks })
  try {
    const questions = pendingInterruptsOf(built.agent).map(runtimeInterruptOf)
    if (questions.length > 0)
      return {
        response: '',
        session_id: invocation.runtimeSessionId,
        tasks: [],
        interrupts: questions,
        continuation: outcome('paused'),
      }
    // Cut short, then carried on by someone else: a later turn (the user's, or the answer to its
    // question) ended the conversation with an answer, so there is nothing left to carry on.
    const settled = stored.continuationStarted ? answerAtRest(built) : undefined
    if (settled !== undefined)
      return {
        response: settled,
        session_id: invocation.runtimeSessionId,
        tasks: [],
        continuation: outcome('ran_before'),
      }
    // A continuation cut short is carried on whatever the limits say now: it passed them when it began.
    const stop = tooDeep
      ? 'depth'
      : stored.continuationStarted
        ? undefined
        : overBudget(built, parts.limits, now())
    if (stop !== undefined) {
      // Past the depth it was built without tools already; the budget is read from the agent's state.
      if (stop === 'budget') {
        await parts.turns.close(built)
        built = await parts.turns.open(invocation, turn, stopped)
      }
      const limit = stop === 'depth' ? parts.limits.depth : parts.limits.perHour
      const answer = await parts.turns.run(
        built,
        invocation,
        turn,
        stoppedContinuationPrompt(wake.taskId, stop, limit),
      )
      return { ...answer, continuation: outcome('stopped', stop) }
    }
    // Counted in the budget with the turn's end (when agent state is saved): a continuation a crash
    // cut short was never counted, so the one that carries it on counts it.
    recordStart(built, now())
    const input = stored.continuationStarted ? [] : continuationPrompt(wake.taskId)
    const answer = await parts.turns.run(built, invocation, turn, input)
    // A turn that ends asking the user (an approval) waits on them, as a session paused before it does.
    const ran = stored.continuationStarted ? 'resumed' : 'ran'
    return { ...answer, continuation: outcome(answer.interrupts === undefined ? ran : 'paused') }
  } finally {
    await parts.turns.close(built)
  }
}

/** Whether a new continuation would pass the session's budget for this hour. */
function overBudget(built: InvocationAgent, limits: ContinuationLimits, now: number): 'budget' | undefined {
  return startsWithinHour(built, now).length >= limits.perHour ? 'budget' : undefined
}

/** The session's continuation start times of the last hour, from its agent state. */
function startsWithinHour(built: InvocationAgent, now: number): number[] {
  const value: unknown = built.agent.appState.get(STARTED_KEY)
  const times = Array.isArray(value) ? value.filter((time): time is number => typeof time === 'number') : []
  return times.filter((time) => time > now - HOUR_MS && time <= now)
}

/**
 * The last answer of a conversation at rest (its last message is the agent's, with text and no tool
 * call), or undefined while a turn is unfinished (a tool call or a prompt awaits an answer).
 */
function answerAtRest(built: InvocationAgent): string | undefined {
  const last = built.agent.messages.at(-1)
  if (last?.role !== 'assistant' || last.content.some((block) => block.type === 'toolUseBlock'))
    return undefined
  const text = last.content.flatMap((block) => (block.type === 'textBlock' ? [block.text] : [])).join('\n')
  return text === '' ? undefined : text
}

/** Counts this continuation in the session's budget (saved with the turn's end, as agent state is). */
function recordStart(built: InvocationAgent, now: number): void {
  built.agent.appState.set(STARTED_KEY, [...startsWithinHour(built, now), now])
}
