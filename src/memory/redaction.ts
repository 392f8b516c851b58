/**
 * A guardrail redacted the user's prompt: the stored event holding it must hold the redacted text
 * instead. Events cannot be edited, so the prompt is replaced while still buffered, or else written
 * again as a new event (same timestamp) and the original deleted; if that delete fails, the
 * replacement is taken back, as the Python manager does, so exactly one copy stays stored.
 */
import type { Message } from '@strands-agents/sdk'
import { errorName, MemorySessionError, rootCause } from './errors.ts'
import { encodeMessagePayload } from './event-codec.ts'
import type { EventWriter } from './event-writer.ts'

/** What the redaction needs of the manager. */
export interface RedactionContext {
  readonly writer: EventWriter
  /** Writes everything buffered (the message may be in a batch already sent, unacknowledged). */
  readonly flush: () => Promise<void>
  readonly now: () => Date
  readonly log: (line: string) => void
}

/**
 * Stores `message`, as redacted, in place of its stored original. Throws `WRITE_FAILED` when the
 * original could not be replaced; the original then stays stored once.
 */
export async function storeRedactedMessage(message: Message, context: RedactionContext): Promise<void> {
  const { writer } = context
  const payload = encodeMessagePayload(message, { now: context.now() })
  if (!payload) return
  const outcome = writer.replacePending(message.trackingId, payload)
  if (outcome === 'replaced') return
  if (outcome === 'sent') await context.flush()
  const written = writer.writtenMessage(message.trackingId)
  if (!written) {
    context.log(
      `tracking_id=${message.trackingId} | redacted message was not written by this manager; nothing replaced`,
    )
    return
  }
  const replacement = written.payload.map((item, index) =>
    written.trackingIds[index] === message.trackingId ? payload : item,
  )
  let replacementId: string
  try {
    replacementId = await writer.writeReplacement(written, replacement)
  } catch (error) {
    const cause = rootCause(error)
    throw new MemorySessionError(
      'WRITE_FAILED',
      `redaction not stored: the replacement of event ${written.eventId} could not be written (${errorName(cause)}); the original is kept, and the replacement may be stored beside it`,
      { cause },
    )
  }
  try {
    await writer.deleteEvent(written.eventId)
  } catch (error) {
    // Keep exactly one stored copy: take the replacement back, and report.
    let rollback = 'the replacement was deleted again, the original is kept'
    try {
      await writer.deleteEvent(replacementId)
      writer.restoreWritten(written)
    } catch (rollbackError) {
      rollback = `deleting the replacement ${replacementId} failed too (${errorName(rollbackError)}); both are stored`
    }
    context.log(`event_id=${written.eventId} error=${errorName(error)} | redaction not stored: ${rollback}`)
    throw new MemorySessionError(
      'WRITE_FAILED',
      `redaction not stored: event ${written.eventId} holding the original could not be deleted (${errorName(error)}); ${rollback}`,
      { cause: error },
    )
  }
}
