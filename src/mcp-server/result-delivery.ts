/**
 * A task's result in its caller's memory, as an after-end job: a background task whose caller named
 * a session owes one USER event there (an inline call answers in its response instead), written by
 * {@link MemoryEventWriter}, whose outcome says whether to try again, with what, and when.
 */
import type { AfterEndKind, Attempted } from './after-end-jobs.ts'
import { memoryEntry } from './memory-event.ts'
import type { MemoryEventWriter } from './memory-event-writer.ts'
import { MEMORY_JOB, type OutboxEntry } from './task-record.ts'

/** The memory event kind, written with `writer`. */
export function memoryDelivery(writer: MemoryEventWriter): AfterEndKind {
  return {
    kind: MEMORY_JOB,
    owed: (task, end) => (task.mode === 'inline' ? undefined : memoryEntry(task, end)),
    attempt: async (job): Promise<Attempted> => {
      const entry = job.payload as OutboxEntry
      const outcome = await writer.write({ ...entry, attempts: job.attempts })
      switch (outcome.kind) {
        case 'delivered':
          return { settled: 'delivered' }
        case 'failed':
          return { settled: 'failed', error: outcome.error }
        case 'retry':
          return { retryInMs: outcome.delayMs, error: outcome.error }
        case 'fallback':
          // The service refused the body: the short summary goes next, at once.
          return { retryInMs: 0, error: outcome.error, payload: { ...entry, text: outcome.text } }
      }
    },
  }
}
