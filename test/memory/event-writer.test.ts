import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type EventPayloadItem, MemorySessionError, userTextEventPayload } from '../../src/memory/index.ts'
import { EventWriter } from '../../src/memory/event-writer.ts'
import { captureLogger, listAllEvents, useMemoryTestBed } from '../helpers/memory-session.ts'

const ACTOR = 'writer-user'
const bed = useMemoryTestBed('event_writer_tests')
let counter = 0

function newWriter(retry = { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 }) {
  const sessionId = `writer-${process.pid}-${++counter}`
  let clock = Date.now()
  const acknowledged: string[] = []
  const writer = new EventWriter({
    client: bed.client,
    memoryId: bed.memoryId,
    actorId: ACTOR,
    sessionId,
    batchSize: 2,
    messageMetadata: undefined,
    retry,
    nextTimestampMs: () => (clock += 1),
    onWritten: (eventId) => acknowledged.push(eventId),
    log: captureLogger().warn,
  })
  return { writer, sessionId, acknowledged }
}

const text = (value: string) => userTextEventPayload(value) as EventPayloadItem

describe('EventWriter', () => {
  it('is full once the open buffer holds a batch', () => {
    const { writer } = newWriter()
    writer.append(text('one'), 'm1')
    assert.equal(writer.isFull, false)
    writer.append(text('two'), 'm2')
    assert.equal(writer.isFull, true)
  })

  it('remembers where messages were written only until forgetWritten (a new prompt)', async () => {
    const { writer, acknowledged } = newWriter()
    writer.append(text('old prompt'), 'm1')
    await writer.flush()
    const first = writer.writtenMessage('m1')
    assert.equal(first?.eventId, acknowledged[0])
    assert.deepEqual(first?.trackingIds, ['m1'])
    writer.forgetWritten()
    assert.equal(writer.writtenMessage('m1'), undefined)
    writer.append(text('new prompt'), 'm2')
    await writer.flush()
    assert.equal(writer.writtenMessage('m2')?.eventId, acknowledged[1])
    assert.equal(writer.writtenMessage('m1'), undefined)
  })

  it('recognises its own committed but unacknowledged event by timestamp and body, until it is acknowledged', async () => {
    const { writer, sessionId, acknowledged } = newWriter()
    writer.append(text('lost answer'), 'm1')
    // Both attempts commit the write (same clientToken: one event) and lose the response.
    bed.env.service.faults.set({ CreateEvent: { loseResponseNext: 2 } })
    try {
      await assert.rejects(
        writer.flush(),
        (error: unknown) => error instanceof MemorySessionError && error.code === 'WRITE_FAILED',
      )
    } finally {
      bed.env.service.faults.set({})
    }
    const [stored] = await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)
    assert.ok(stored?.eventTimestamp)
    const timestampMs = stored.eventTimestamp.getTime()
    const payload = stored.payload ?? []
    assert.equal(writer.isUnacknowledgedOwn(timestampMs, payload), true)
    assert.equal(writer.isUnacknowledgedOwn(timestampMs + 1, payload), false, 'another timestamp')
    assert.equal(writer.isUnacknowledgedOwn(timestampMs, [text('someone else')]), false, 'another body')
    assert.equal(writer.isUnacknowledgedOwn(undefined, payload), false, 'no timestamp')
    // The retry with the same token is acknowledged with the stored event's id: no longer unacknowledged.
    await writer.flush()
    assert.deepEqual(acknowledged, [stored.eventId])
    assert.equal(writer.isUnacknowledgedOwn(timestampMs, payload), false)
    assert.equal((await listAllEvents(bed.env, bed.memoryId, ACTOR, sessionId)).length, 1)
  })

  it('keeps a replacement whose response was lost as its own until settled below the read floor', async () => {
    const { writer } = newWriter()
    writer.append(text('original'), 'm1')
    await writer.flush()
    const original = writer.writtenMessage('m1')
    assert.ok(original)
    const replacement = [text('replacement')]
    bed.env.service.faults.set({ CreateEvent: { loseResponseNext: 2 } })
    try {
      await assert.rejects(writer.writeReplacement(original, replacement))
    } finally {
      bed.env.service.faults.set({})
    }
    assert.equal(writer.isUnacknowledgedOwn(original.timestampMs, replacement), true)
    writer.settleUnacknowledged(original.timestampMs)
    assert.equal(writer.isUnacknowledgedOwn(original.timestampMs, replacement), true, 'not below the floor')
    writer.settleUnacknowledged(original.timestampMs + 1)
    assert.equal(writer.isUnacknowledgedOwn(original.timestampMs, replacement), false)
  })
})
