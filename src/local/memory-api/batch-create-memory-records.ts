import { randomUUID } from 'node:crypto'
import { isRecord } from '../../shared/is-record.ts'
import { AwsServiceError, idempotencyMismatch } from '../errors.ts'
import { keptString, type StoredRecord } from '../memory-store.ts'
import { hashRequest } from '../request-hash.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type DataPlaneInput, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { requireMemory } from './memory-ref.ts'

/** One entry of BatchCreateMemoryRecords' `successfulRecords`. */
interface SuccessfulRecord {
  readonly memoryRecordId: string
  readonly status: 'SUCCEEDED'
  readonly requestIdentifier: string
}

type RecordInput = DataPlaneInput<'BatchCreateMemoryRecords'>['records'][number]

/**
 * BatchCreateMemoryRecords: long-term records written directly, all or none: one bad record
 * refuses the batch, naming it, and stores nothing. A client token makes a retry answer with the
 * first batch's record ids.
 */
export function batchCreateMemoryRecordsRoute({ store, now }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('BatchCreateMemoryRecords', {
    writes: true,
    handle(request) {
      const input = validInput('BatchCreateMemoryRecords', request)
      const memoryId = requireMemory(store, input.memoryId)
      const records = input.records.map((record) => storedRecord(memoryId, record))
      const successfulRecords = input.records.map((record, index): SuccessfulRecord => ({
        memoryRecordId: (records[index] as StoredRecord).memoryRecordId,
        status: 'SUCCEEDED',
        requestIdentifier: record.requestIdentifier,
      }))
      const outcome = store.idempotent(
        {
          scope: `BatchCreateMemoryRecords:${memoryId}`,
          token: input.clientToken,
          requestHash: hashRequest({ ...request.body, clientToken: undefined }),
          memoryId,
          nowMs: now(),
        },
        () => {
          store.insertRecords(records)
          return {
            value: successfulRecords,
            kept: { successfulRecords: records.map(({ memoryRecordId }) => ({ memoryRecordId })) },
          }
        },
      )
      if (outcome.kind === 'token-mismatch') throw idempotencyMismatch('BatchCreateMemoryRecords')
      return {
        successfulRecords:
          outcome.kind === 'fresh' ? outcome.value : replayedRecords(successfulRecords, outcome.kept),
        failedRecords: [],
      }
    },
  })
}

function storedRecord(memoryId: string, record: RecordInput): StoredRecord {
  return {
    memoryRecordId: `mem-${randomUUID()}`,
    memoryId,
    text: record.content.text ?? '',
    namespaces: record.namespaces,
    memoryStrategyId: record.memoryStrategyId ?? 'user-provided',
    createdAtMs: Math.round(record.timestamp * 1000),
    ...(record.metadata ? { metadata: metadataOf(record.metadata) } : {}),
  }
}

/** Each metadata value as its one member, without the members left unset. */
function metadataOf(metadata: Record<string, Record<string, unknown>>): Record<string, unknown> {
  // fromEntries defines own properties, so a key such as __proto__ stays plain data.
  return Object.fromEntries(
    Object.entries(metadata).map(([key, value]) => [
      key,
      Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined)),
    ]),
  )
}

/** A retried batch's answer: its own entries, with the record ids the first request's batch got. */
function replayedRecords(
  entries: readonly SuccessfulRecord[],
  kept: Readonly<Record<string, unknown>>,
): SuccessfulRecord[] {
  const ids = Array.isArray(kept.successfulRecords) ? kept.successfulRecords : []
  if (ids.length !== entries.length)
    throw new AwsServiceError('InternalServerException', "the client token's record does not match the batch")
  return entries.map((entry, index) => {
    const id: unknown = ids[index]
    return { ...entry, memoryRecordId: keptString(isRecord(id) ? id : {}, 'memoryRecordId') }
  })
}
