/**
 * Buffers the payloads of a session and writes them in as few CreateEvent calls as the service
 * allows. A batch is sealed once (its body and clientToken fixed) and kept until the service
 * acknowledges it, so a retry, even one after a lost response or in a later flush, can never
 * write it twice, and a failure never drops it.
 */
import { randomUUID } from 'node:crypto'
import {
  CreateEventCommand,
  type CreateEventCommandOutput,
  DeleteEventCommand,
} from '@aws-sdk/client-bedrock-agentcore'
import { errorMessage, errorName, MemorySessionError, rootCause } from './errors.ts'
import type { EventPayloadItem } from './event-codec.ts'
import { isPermanentError, type RetryPolicy, withRetry } from '../contract/index.ts'

/** The one method of `BedrockAgentCoreClient` the manager needs; tests may wrap it to count or delay calls. */
export interface MemoryDataClient {
  send(command: object, options?: object): Promise<unknown>
}

/** Event metadata in the wire form. */
export type EventMetadata = Record<string, { stringValue: string }>

/** An event about to be written, sealed: its body and token never change once it was sent. */
interface SealedEvent {
  readonly payload: EventPayloadItem[]
  readonly trackingIds: (string | undefined)[]
  readonly metadata: EventMetadata | undefined
  /** The state blob leading the payload, if any, with its own metadata (to re-queue it if refused). */
  readonly state: { item: EventPayloadItem; metadata: EventMetadata } | undefined
  readonly timestampMs: number
  clientToken: string
  attempts: number
  /**
   * The payload as sent, serialised once when a read first compares a listed event with it (the
   * payload never changes once the event was sent).
   */
  body?: string
}

/** A batch the service refused for good (ValidationException): kept aside, never retried, never dropped. */
export interface RejectedWrite {
  /** The message payloads of the batch, in order (a state blob it carried was written with a later batch). */
  readonly payload: readonly EventPayloadItem[]
  /** The service's reason. */
  readonly reason: string
}

/** Where a message's payload was written. */
export interface WrittenMessage {
  readonly eventId: string
  readonly timestampMs: number
  readonly payload: readonly EventPayloadItem[]
  readonly trackingIds: readonly (string | undefined)[]
  readonly metadata: EventMetadata | undefined
}

/** Collaborators and limits of {@link EventWriter}. */
export interface EventWriterConfig {
  readonly client: MemoryDataClient
  readonly memoryId: string
  readonly actorId: string
  readonly sessionId: string
  /** Payload items per CreateEvent (1..100). */
  readonly batchSize: number
  /** Metadata put on every message event. */
  readonly messageMetadata: EventMetadata | undefined
  /** More metadata for the events sealed by one flush, asked for then; may throw to refuse the flush. */
  readonly eventMetadata?: (() => EventMetadata | undefined) | undefined
  readonly retry: RetryPolicy
  /** Next event timestamp in ms; strictly increasing. */
  readonly nextTimestampMs: () => number
  /** Told of every event the service acknowledged, with the timestamp it was written with (to recognise own events when reading). */
  readonly onWritten: (eventId: string, timestampMs: number) => void
  readonly log: (line: string) => void
}

/**
 * The service refused the request itself: repeating it can never succeed, and the event is set
 * aside. Any other failure (a missing memory, a denied write) keeps it for the next flush.
 */
const PERMANENT_REJECTIONS = ['ValidationException']
/** DeleteEvent answers: the event is gone already, which is what the delete was for. */
const ALREADY_DELETED = ['ResourceNotFoundException']

/** Batching, retrying CreateEvent writer of one session. */
export class EventWriter {
  private readonly config: EventWriterConfig
  private open: { payload: EventPayloadItem; trackingId: string | undefined }[] = []
  private sealed: SealedEvent[] = []
  /** State blobs waiting to ride at the head of the next message event. */
  private states: { item: EventPayloadItem; metadata: EventMetadata }[] = []
  private running: Promise<void> = Promise.resolve()
  /** Where the messages written since the current prompt went (what a redaction replaces). */
  private readonly written = new Map<string, WrittenMessage>()
  private readonly rejectedWrites: RejectedWrite[] = []
  /**
   * Events sent but not acknowledged (possibly stored, id unknown), by timestamp: pending events
   * and replacements whose response was lost. Timestamps are unique per sealed event; a
   * replacement reuses its original's, hence the list.
   */
  private readonly unacknowledged = new Map<number, SealedEvent[]>()

  constructor(config: EventWriterConfig) {
    this.config = config
  }

  /** Payloads not yet acknowledged by the service. */
  get pendingCount(): number {
    return (
      this.open.length +
      this.states.length +
      this.sealed.reduce((sum, event) => sum + event.payload.length, 0)
    )
  }

  /** Batches the service refused for good, oldest first. */
  get rejected(): readonly RejectedWrite[] {
    return this.rejectedWrites
  }

  /** The open buffer holds a full batch: time to flush. */
  get isFull(): boolean {
    return this.open.length >= this.config.batchSize
  }

  /** Adds a message payload to the open buffer. */
  append(payload: EventPayloadItem, trackingId: string | undefined): void {
    this.open.push({ payload, trackingId })
  }

  /**
   * Puts a state blob (SESSION or AGENT) at the head of the next message event, with its metadata,
   * instead of an event of its own. A Python reader still finds it (its filtered reads take
   * `payload[0]` of the newest matching event, its message listing skips dict blobs), and the
   * write costs no extra call.
   */
  attachState(item: EventPayloadItem, metadata: EventMetadata): void {
    this.states.push({ item, metadata })
  }

  /** Queues a standalone event (state), after everything buffered so far. */
  enqueueEvent(payload: EventPayloadItem[], metadata: EventMetadata): void {
    this.sealOpen()
    this.sealed.push({
      payload,
      trackingIds: payload.map(() => undefined),
      metadata,
      state: undefined,
      timestampMs: this.config.nextTimestampMs(),
      clientToken: randomUUID(),
      attempts: 0,
    })
  }

  /** Drops everything not yet written, once a flush under way has ended (the session is being deleted). */
  async discard(): Promise<void> {
    await this.running
    this.open = []
    this.sealed = []
    this.states = []
  }

  /** Seals what is buffered and writes every pending event in order; throws `WRITE_FAILED` and keeps the rest. */
  flush(): Promise<void> {
    const run = this.running.then(() => this.writePending())
    this.running = run.catch(() => {})
    return run
  }

  /**
   * Where the payload of the message with `trackingId` was written, if it was written since the
   * last {@link forgetWritten}.
   */
  writtenMessage(trackingId: string): WrittenMessage | undefined {
    return this.written.get(trackingId)
  }

  /**
   * Forgets where earlier messages were written (a new prompt arrived: only its own event can
   * still be redacted), so a long-lived session does not keep every payload it ever wrote.
   */
  forgetWritten(): void {
    this.written.clear()
  }

  /**
   * Replaces the payload of a message not yet sent: `replaced`. `sent` when its event went out at
   * least once (the service may hold it, so only a replacement event can change it); `absent`
   * when it is not pending (acknowledged already, or never given to this writer).
   */
  replacePending(trackingId: string, payload: EventPayloadItem): 'replaced' | 'sent' | 'absent' {
    const buffered = this.open.find((entry) => entry.trackingId === trackingId)
    if (buffered) {
      buffered.payload = payload
      return 'replaced'
    }
    for (const event of this.sealed) {
      const index = event.trackingIds.indexOf(trackingId)
      if (index === -1) continue
      if (event.attempts > 0) return 'sent'
      event.payload[index] = payload
      event.clientToken = randomUUID()
      return 'replaced'
    }
    return 'absent'
  }

  /**
   * True when `payload` is that of an event sent but not acknowledged (its response was lost):
   * a reader must not take it for someone else's event.
   */
  isUnacknowledgedOwn(timestampMs: number | undefined, payload: readonly unknown[]): boolean {
    const candidates = timestampMs === undefined ? undefined : this.unacknowledged.get(timestampMs)
    if (!candidates) return false
    const body = JSON.stringify(payload)
    return candidates.some((event) => (event.body ??= JSON.stringify(event.payload)) === body)
  }

  /**
   * Drops unacknowledged events stamped before `floorMs`: a reader that never looks below that
   * timestamp again can no longer meet them (a pending one is still written by a later flush).
   */
  settleUnacknowledged(floorMs: number): void {
    for (const timestampMs of this.unacknowledged.keys()) {
      if (timestampMs < floorMs) this.unacknowledged.delete(timestampMs)
    }
  }

  /** DeleteEvent with retries; an event already gone counts as deleted. */
  async deleteEvent(eventId: string): Promise<void> {
    const { client, memoryId, actorId, sessionId, retry, log } = this.config
    const input = { memoryId, actorId, sessionId, eventId }
    try {
      await withRetry(retry, () => client.send(new DeleteEventCommand(input)), {
        operation: 'DeleteEvent',
        what: 'delete',
        log,
      })
    } catch (error) {
      if (!isPermanentError(error, ALREADY_DELETED)) throw error
    }
  }

  /** Writes `payload` as a new event at the same timestamp as `original`, which it is meant to replace. */
  async writeReplacement(original: WrittenMessage, payload: EventPayloadItem[]): Promise<string> {
    const event: SealedEvent = {
      payload,
      trackingIds: [...original.trackingIds],
      metadata: original.metadata,
      state: undefined,
      timestampMs: original.timestampMs,
      clientToken: randomUUID(),
      attempts: 0,
    }
    // When it fails the service may still hold it (a lost response): it stays among the
    // unacknowledged events, so a later read does not take it for someone else's.
    return this.send(event)
  }

  /** Points the messages of `original` back at it (a replacement of it was taken back). */
  restoreWritten(original: WrittenMessage): void {
    for (const trackingId of original.trackingIds) if (trackingId) this.written.set(trackingId, original)
  }

  private sealOpen(): void {
    const { batchSize } = this.config
    if (this.open.length === 0 && this.states.length === 0) return
    // Asked once per flush, before anything is sealed: a provider that throws leaves the buffer as it was.
    const extra = this.config.eventMetadata?.()
    const messageMetadata =
      extra === undefined ? this.config.messageMetadata : { ...this.config.messageMetadata, ...extra }
    while (this.open.length > 0 || this.states.length > 0) {
      const state = this.states.shift()
      const chunk = this.open.splice(0, state ? batchSize - 1 : batchSize)
      this.sealed.push({
        payload: [...(state ? [state.item] : []), ...chunk.map((entry) => entry.payload)],
        trackingIds: [...(state ? [undefined] : []), ...chunk.map((entry) => entry.trackingId)],
        metadata: state ? { ...messageMetadata, ...state.metadata } : messageMetadata,
        state,
        timestampMs: this.config.nextTimestampMs(),
        clientToken: randomUUID(),
        attempts: 0,
      })
    }
  }

  /**
   * Writes the sealed events in order. One that keeps failing for a transient reason stays first
   * (order matters, and a later flush retries it with the same token). One the service refuses for
   * good (ValidationException) would block the session forever: it is set aside in `rejected`, the
   * later events are still written, and the flush then throws `WRITE_FAILED` naming the reason.
   */
  private async writePending(): Promise<void> {
    this.sealOpen()
    const rejections: string[] = []
    while (this.sealed.length > 0) {
      const event = this.sealed[0] as SealedEvent
      try {
        await this.send(event)
      } catch (error) {
        const cause = rootCause(error)
        if (!isPermanentError(cause, PERMANENT_REJECTIONS)) throw error
        this.sealed.shift()
        this.acknowledge(event)
        this.setAside(event, cause)
        rejections.push(errorMessage(cause))
        continue
      }
      this.sealed.shift()
    }
    if (rejections.length > 0) {
      throw new MemorySessionError(
        'WRITE_FAILED',
        `CreateEvent refused ${rejections.length} event(s) for good (${rejections.join('; ')}); their messages are kept aside (rejectedWrites), later messages were written`,
      )
    }
  }

  /** Keeps a refused event's messages aside; a state blob it carried rides on the next event instead. */
  private setAside(event: SealedEvent, cause: unknown): void {
    const messages = event.state ? event.payload.slice(1) : event.payload
    const reason = errorMessage(cause)
    // A state blob alone was what the service refused: keep it aside like a message batch.
    const requeueState = event.state !== undefined && messages.length > 0
    if (requeueState) this.states.unshift(event.state as { item: EventPayloadItem; metadata: EventMetadata })
    this.rejectedWrites.push({ payload: requeueState ? messages : event.payload, reason })
    this.config.log(
      `operation=CreateEvent payloads=${event.payload.length} reason=${JSON.stringify(reason)} | event refused for good; kept aside, later events are still written`,
    )
  }

  private async send(event: SealedEvent): Promise<string> {
    const { client, memoryId, actorId, sessionId } = this.config
    const input = {
      memoryId,
      actorId,
      sessionId,
      eventTimestamp: new Date(event.timestampMs),
      payload: event.payload,
      clientToken: event.clientToken,
      ...(event.metadata ? { metadata: event.metadata } : {}),
    }
    let output: CreateEventCommandOutput
    try {
      output = (await withRetry(
        this.config.retry,
        () => {
          if (event.attempts === 0) this.markSent(event)
          event.attempts += 1
          return client.send(
            new CreateEventCommand(input as ConstructorParameters<typeof CreateEventCommand>[0]),
          )
        },
        { operation: 'CreateEvent', what: 'write', log: this.config.log },
      )) as CreateEventCommandOutput
    } catch (error) {
      throw new MemorySessionError(
        'WRITE_FAILED',
        `CreateEvent failed after ${event.attempts} attempt(s) (${errorName(error)}); ${this.pendingCount} payload(s) kept for the next flush`,
        { cause: error },
      )
    }
    const eventId = output.event?.eventId
    if (!eventId) throw new MemorySessionError('WRITE_FAILED', 'CreateEvent answered without an eventId')
    this.acknowledge(event)
    this.config.onWritten(eventId, event.timestampMs)
    const record: WrittenMessage = {
      eventId,
      timestampMs: event.timestampMs,
      payload: event.payload,
      trackingIds: event.trackingIds,
      metadata: event.metadata,
    }
    for (const trackingId of event.trackingIds) if (trackingId) this.written.set(trackingId, record)
    return eventId
  }

  /** Counts an event about to go out for the first time as unacknowledged; its payload is fixed from now on. */
  private markSent(event: SealedEvent): void {
    const sameTime = this.unacknowledged.get(event.timestampMs)
    if (sameTime) sameTime.push(event)
    else this.unacknowledged.set(event.timestampMs, [event])
  }

  /** The event's fate is known (stored with an id, or refused): a reader can no longer mistake it. */
  private acknowledge(event: SealedEvent): void {
    const sameTime = this.unacknowledged.get(event.timestampMs)
    if (!sameTime) return
    const rest = sameTime.filter((entry) => entry !== event)
    if (rest.length > 0) this.unacknowledged.set(event.timestampMs, rest)
    else this.unacknowledged.delete(event.timestampMs)
  }
}
