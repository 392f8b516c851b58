/**
 * Calls that run inside their request: progress to the caller's progress token, heartbeats (a log
 * message, and a progress step when there is a token) while the tool is silent, and cancellation by
 * the client. The server is stateless, so a client's `notifications/cancelled` arrives on a POST of
 * its own: it is routed here by owner, session header and request id.
 */
import type { CallToolResult, RequestId, ServerNotification } from '@modelcontextprotocol/sdk/types.js'
import type { RequestScope } from './request-scope.ts'
import type { StartTask, TaskEvent, TaskRunner } from './task-runner.ts'
import type { TaskRecord } from './task-record.ts'

/** What the SDK hands a request handler, as inline calls use it. */
export interface CallExtra {
  readonly signal: AbortSignal
  readonly requestId: RequestId
  readonly _meta?: { progressToken?: string | number } & Record<string, unknown>
  sendNotification(notification: ServerNotification): Promise<void>
}

interface RunningCall {
  /** Cancels the task. */
  readonly abort: () => void
  /** Ends the request's response without an answer (the client cancelled it and expects none). */
  readonly abandon: () => void
}

/** The inline calls running in this process. */
export class InlineCalls {
  readonly #runner: TaskRunner
  /** By owner + session header + request id: where a cancel notification goes. */
  readonly #running = new Map<string, Set<RunningCall>>()

  constructor(runner: TaskRunner) {
    this.#runner = runner
  }

  /**
   * A client's `notifications/cancelled`: the named call is cancelled, and, as the spec asks of a
   * cancelled request, no response follows; its stream is closed instead.
   */
  cancel(scope: RequestScope, requestId: RequestId): void {
    for (const call of [...(this.#running.get(keyOf(scope, requestId)) ?? [])]) {
      call.abort()
      call.abandon()
    }
  }

  /** Runs the task inside the request and answers its result. */
  async run(
    start: Omit<StartTask, 'watch' | 'mode'>,
    extra: CallExtra,
    scope: RequestScope,
    abandon: () => void,
  ): Promise<CallToolResult> {
    const runner = this.#runner
    const token = extra._meta?.progressToken
    const send = (notification: ServerNotification) => {
      extra.sendNotification(notification).catch(() => {})
    }
    let lastProgress = Number.NEGATIVE_INFINITY
    let lastTotal: number | undefined
    let resolveEnd: (task: TaskRecord) => void = () => {}
    const ended = new Promise<TaskRecord>((resolve) => {
      resolveEnd = resolve
    })
    // Set once start() returns; events come only later (the tool runs on a later turn of the loop).
    let taskId = ''
    const log = (data: Record<string, unknown>) => {
      send({ method: 'notifications/message', params: { level: 'info', logger: start.tool.name, data } })
    }
    const progress = (value: number, total: number | undefined, message: string | undefined) => {
      send({
        method: 'notifications/progress',
        params: {
          progressToken: token as string | number,
          progress: value,
          ...(total !== undefined && { total }),
          ...(message !== undefined && { message }),
        },
      })
    }
    // The watcher goes in with the start itself: no end can happen before it is attached.
    const watch = (event: TaskEvent) => {
      switch (event.type) {
        case 'progress':
          if (token !== undefined && event.progress > lastProgress) {
            lastProgress = event.progress
            if (event.total !== undefined) lastTotal = event.total
            progress(event.progress, event.total, event.message)
          }
          break
        case 'heartbeat':
          if (token !== undefined) {
            // Progress must increase: a heartbeat reports the last progress plus a tiny step.
            lastProgress = heartbeatProgress(lastProgress)
            const total = lastTotal !== undefined && lastProgress <= lastTotal ? lastTotal : undefined
            progress(lastProgress, total, event.message)
          }
          log({ taskId, status: event.status, elapsedSeconds: Math.round(event.elapsedMs / 1000) })
          break
        case 'log':
          log({ taskId, message: event.message })
          break
        case 'end':
          resolveEnd(event.task)
          break
      }
    }
    const task = await runner.start({ ...start, mode: 'inline', watch })
    taskId = task.taskId
    const onAbort = () => {
      // A shutdown closes connections too; the runner then decides (keep a result or recover later).
      if (runner.closing) return
      runner.cancel(task.taskId, undefined, 'taskId', 'the client cancelled the request').catch(() => {})
    }
    extra.signal.addEventListener('abort', onAbort, { once: true })
    const key = keyOf(scope, extra.requestId)
    const calls = this.#running.get(key) ?? new Set<RunningCall>()
    const call: RunningCall = { abort: onAbort, abandon }
    calls.add(call)
    this.#running.set(key, calls)
    try {
      const end = await ended
      return (
        end.result ?? {
          content: [{ type: 'text', text: `Task ${task.taskId} ${end.status}` }],
          isError: true,
        }
      )
    } finally {
      extra.signal.removeEventListener('abort', onAbort)
      calls.delete(call)
      if (calls.size === 0 && this.#running.get(key) === calls) this.#running.delete(key)
    }
  }
}

/** The key of one inline call: a cancel from the same owner and session naming the same request id finds it. */
function keyOf(scope: RequestScope, requestId: RequestId): string {
  return `${scope.owner}\u0000${scope.sessionKey}\u0000${typeof requestId}:${String(requestId)}`
}

/**
 * The progress value of a heartbeat: a step above the last value sent (0 when none was), the
 * smallest that still makes a strictly greater number, so a later real progress value stays ahead.
 */
export function heartbeatProgress(last: number): number {
  if (!Number.isFinite(last)) return 0
  let step = Math.max(1e-6, Math.abs(last) * 1e-9)
  while (last + step <= last) step *= 2
  return last + step
}
