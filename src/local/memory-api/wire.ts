import type { StoredEvent, StoredRecord } from '../memory-store.ts'

/** The wire form of an event; timestamps go out as epoch seconds, as the SDK expects. */
export function eventToWire(event: StoredEvent, includePayloads: boolean): Record<string, unknown> {
  return {
    memoryId: event.memoryId,
    actorId: event.actorId,
    sessionId: event.sessionId,
    eventId: event.eventId,
    eventTimestamp: event.eventTimestamp,
    payload: includePayloads ? event.payload : [],
    ...(event.branch ? { branch: event.branch } : {}),
    ...(event.metadata ? { metadata: event.metadata } : {}),
  }
}

/** The wire form of a long-term record, with its relevance score when a search ranked it. */
export function recordToWire(record: StoredRecord, score?: number): Record<string, unknown> {
  return {
    memoryRecordId: record.memoryRecordId,
    content: { text: record.text },
    memoryStrategyId: record.memoryStrategyId ?? 'user-provided',
    namespaces: record.namespaces,
    createdAt: record.createdAtMs / 1000,
    ...(score !== undefined ? { score } : {}),
    ...(record.metadata ? { metadata: record.metadata } : {}),
  }
}
