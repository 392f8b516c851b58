/**
 * A wake, as an after-end job: a background task whose tool declares `onEnd: 'wake'` and whose
 * caller was an agent runtime's session owes one InvokeAgentRuntime call to that session, made only
 * once the task's result is in memory (its memory job delivered, never before). The payload names
 * the task and nothing else; the runtime reads the result from memory and runs a continuation turn.
 * The runtime is the one this server is configured for, never one a caller names (no confused
 * deputy). Like every after-end job it is durable, retried with backoff and settled once; the
 * runtime makes a second wake for the same task a no-op, so a retry after a lost answer is safe.
 */
import { backoffDelayMs, RUNTIME_SESSION_ID } from '../contract/index.ts'
import { type RuntimeInvocation, readAnswer } from '../runtime-client/index.ts'
import { isRecord } from '../shared/is-record.ts'
import { type Logger, silentLogger } from '../shared/logger.ts'
import type { AfterEndKind, Attempted } from './after-end-jobs.ts'
import { MCP_SERVER_DEFAULTS } from './server-defaults.ts'
import { type AfterEndJob, MEMORY_JOB, type TaskEnd, type TaskRecord } from './task-record.ts'

/** The kind of a task's wake. */
export const WAKE_JOB = 'wake'

/** What a wake job holds: where to send it and what it names. */
export interface WakeEntry {
  readonly taskId: string
  readonly tool: string
  readonly status: TaskEnd['status']
  readonly runtimeSessionId: string
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  /** The depth of the continuation this wake would run (1 for a task the user's turn started). */
  readonly depth: number
}

/** What the runtime answered a wake (its JSON answer, the fields a notice needs). */
export interface WakeAnswer {
  readonly response: string
  readonly outcome: string
  /** Why a continuation stopped (`depth`, `budget`). */
  readonly reason?: string | undefined
  readonly interrupts: readonly unknown[]
}

/** Sends one wake; rejects with what the invoker failed with. */
export interface RuntimeWaker {
  wake(entry: WakeEntry, signal?: AbortSignal): Promise<WakeAnswer>
  /** The stable code of a failed wake (the runtime's own code where it gave one). */
  codeOf(error: unknown): string
}

/** Configuration of {@link wakeDelivery}. */
export interface WakeDeliveryConfig {
  readonly waker: RuntimeWaker
  /** Whether a tool's tasks wake their session when they end (the tool's `onEnd`). */
  readonly wakes: (tool: string) => boolean
  /** The job owed after a wake answered (the webhook notice), when one is configured. */
  readonly then?: ((entry: WakeEntry, answer: WakeAnswer) => AfterEndJob | undefined) | undefined
  readonly baseDelayMs?: number | undefined
  readonly maxDelayMs?: number | undefined
  readonly random?: (() => number) | undefined
  readonly logger?: Logger | undefined
}

/**
 * Codes a retry cannot change: the runtime refused the wake itself (the task's result is not in
 * that actor's session, the payload is wrong) or the runtime does not exist or will not be called.
 */
const PERMANENT = new Set([
  'WAKE_TASK_NOT_FOUND',
  'INVALID_REQUEST',
  'FORBIDDEN',
  'MEMORY_NOT_FOUND',
  'ValidationException',
  'ResourceNotFoundException',
  'AccessDeniedException',
  // A 2xx whose body is not the runtime's JSON answer: not our runtime (or not its contract).
  'UNEXPECTED_WAKE_ANSWER',
])

/** How often a wake looks again while the task's result is still on its way into memory. */
const WAITING_FOR_DELIVERY_MS = [10, 20, 50, 100, 200, 500, 1000, 2000] as const

/** The wake kind. */
export function wakeDelivery(config: WakeDeliveryConfig): AfterEndKind {
  const policy = {
    baseDelayMs: config.baseDelayMs ?? MCP_SERVER_DEFAULTS.deliveryBaseDelayMs,
    maxDelayMs: config.maxDelayMs ?? MCP_SERVER_DEFAULTS.deliveryMaxDelayMs,
  }
  const logger = config.logger ?? silentLogger
  return {
    kind: WAKE_JOB,
    owed: (task, end) => wakeEntry(task, end, config.wakes),
    attempt: async (job, sibling, signal): Promise<Attempted> => {
      const entry = job.payload as WakeEntry
      const delivery = await sibling(MEMORY_JOB)
      if (delivery?.state === 'pending') {
        const wait = WAITING_FOR_DELIVERY_MS[Math.min(job.attempts, WAITING_FOR_DELIVERY_MS.length - 1)]
        return { retryInMs: wait as number, error: 'waiting for the result to reach memory' }
      }
      if (delivery?.state !== 'delivered')
        return { settled: 'failed', error: 'the result did not reach memory, so nothing may act on it' }
      try {
        const answer = await config.waker.wake(entry, signal)
        logger.log('info', 'session woken', {
          taskId: entry.taskId,
          outcome: answer.outcome,
          ...(answer.reason !== undefined && { reason: answer.reason }),
        })
        const next = config.then?.(entry, answer)
        return { settled: 'delivered', ...(next !== undefined && { then: [next] }) }
      } catch (error) {
        const code = config.waker.codeOf(error)
        if (PERMANENT.has(code)) {
          logger.log('warn', 'the runtime refused a wake', { taskId: entry.taskId, code })
          return { settled: 'failed', error: code }
        }
        // SESSION_BUSY: a turn of the session is under way, and this one waits its turn.
        return { retryInMs: backoffDelayMs(policy, job.attempts + 1, config.random), error: code }
      }
    },
  }
}

/**
 * The wake `task`'s end owes: a background task that completed or failed (a cancel was the user's
 * own decision), whose tool wakes, whose caller named a session and a runtime session to wake.
 */
function wakeEntry(task: TaskRecord, end: TaskEnd, wakes: (tool: string) => boolean): WakeEntry | undefined {
  const caller = task.caller
  if (task.mode === 'inline' || caller === null || end.status === 'cancelled' || !wakes(task.tool))
    return undefined
  // A caller that sent no runtime session: its memory session id when that is one a runtime takes.
  const runtimeSessionId =
    caller.runtimeSessionId ?? (RUNTIME_SESSION_ID.test(caller.sessionId) ? caller.sessionId : undefined)
  if (runtimeSessionId === undefined) return undefined
  return {
    taskId: task.taskId,
    tool: task.tool,
    status: end.status,
    runtimeSessionId,
    memoryId: caller.memoryId,
    actorId: caller.actorId,
    sessionId: caller.sessionId,
    depth: (caller.continuationDepth ?? 0) + 1,
  }
}

/** A waker over a {@link RuntimeInvocation} sender (the SigV4 invoker in production). */
export function invokerWaker(config: {
  /** The ARN of the one runtime it wakes. */
  readonly runtimeArn: () => Promise<string>
  readonly open: (
    invocation: RuntimeInvocation,
    signal?: AbortSignal,
  ) => Promise<{ body: AsyncIterable<Uint8Array> }>
  readonly codeOf: (error: unknown) => string
}): RuntimeWaker {
  return {
    wake: async (entry, signal) => {
      const opened = await config.open(
        {
          runtimeArn: await config.runtimeArn(),
          sessionId: entry.runtimeSessionId,
          wake: { taskId: entry.taskId, depth: entry.depth },
          actorId: entry.actorId,
          memoryId: entry.memoryId,
          json: true,
        },
        signal,
      )
      return wakeAnswerOf(await readAnswer(opened.body))
    },
    codeOf: config.codeOf,
  }
}

/** The fields of the runtime's JSON answer a notice uses; anything else is not the runtime's answer. */
function wakeAnswerOf(text: string): WakeAnswer {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  const continuation = isRecord(value) && isRecord(value.continuation) ? value.continuation : undefined
  if (!isRecord(value) || typeof value.response !== 'string' || continuation === undefined)
    throw Object.assign(new Error('the runtime answered a wake with something other than its JSON answer'), {
      code: 'UNEXPECTED_WAKE_ANSWER',
    })
  return {
    response: value.response,
    outcome: String(continuation.outcome),
    ...(typeof continuation.reason === 'string' && { reason: continuation.reason }),
    interrupts: Array.isArray(value.interrupts) ? value.interrupts : [],
  }
}
