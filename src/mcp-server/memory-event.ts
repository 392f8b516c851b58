/**
 * The memory event of an ended task: the text an agent reads in its conversation (sized the way
 * the service measures it) and the idempotency token that makes every retry the same write.
 */
import { createHash } from 'node:crypto'
import { MEMORY_LIMITS, userTextEventPayload } from '../contract/index.ts'
import type { OutboxEntry, TaskEnd, TaskRecord } from './task-record.ts'

/**
 * Longest conversational text of one memory event, measured as the service measures it: AFTER the
 * text is wrapped in the SessionMessage JSON (which escapes quotes, newlines and backslashes). The
 * service's limit less a margin.
 */
export const MAX_EVENT_PAYLOAD_CHARS = MEMORY_LIMITS.conversationalText - 1_000

/** The idempotency token of a task's memory event. */
export function clientTokenFor(taskId: string): string {
  return createHash('sha256').update(`longrun-task-result:${taskId}`).digest('hex')
}

/** The event owed for `task`'s end, or undefined when its caller named no session. */
export function memoryEntry(task: TaskRecord, end: TaskEnd): OutboxEntry | undefined {
  if (task.caller === null) return undefined
  return {
    taskId: task.taskId,
    memoryId: task.caller.memoryId,
    actorId: task.caller.actorId,
    sessionId: task.caller.sessionId,
    eventTimestampMs: end.endedAt,
    text: memoryEventText(task, end),
    ...(task.traceContext !== undefined && { traceContext: task.traceContext }),
  }
}

/** The text of the memory event: task id, tool, outcome and result, in words an agent reads. */
export function memoryEventText(
  task: Pick<TaskRecord, 'taskId' | 'tool'>,
  end: Pick<TaskEnd, 'status' | 'result'>,
  maxPayloadChars = MAX_EVENT_PAYLOAD_CHARS,
): string {
  const resultText = end.result.content
    .map((block) => (block.type === 'text' ? block.text : `[${block.type}]`))
    .join('\n')
  const head = `Long-running task ${task.taskId} (tool ${task.tool}) ${end.status}.\nResult:\n`
  const full = head + resultText
  if (encodedLength(full) <= maxPayloadChars) return full
  const marker = (shown: number) =>
    `\n[result truncated: ${shown} of ${resultText.length} characters shown; the full result is available from get_task_results with task_id ${task.taskId}]`
  // The escaped length grows with the cut, so search the longest cut whose encoding still fits.
  let low = 0
  let high = resultText.length
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (encodedLength(head + cut(resultText, middle) + marker(middle)) <= maxPayloadChars) low = middle
    else high = middle - 1
  }
  const shown = cut(resultText, low)
  return head + shown + marker(shown.length)
}

/** The length the service checks: the conversational text after the SessionMessage JSON encoding. */
export function encodedLength(text: string): number {
  return userTextEventPayload(text).conversational.content.text.length
}

/** The first `length` characters, never splitting a surrogate pair. */
function cut(text: string, length: number): string {
  const code = text.charCodeAt(length - 1)
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length)
}
