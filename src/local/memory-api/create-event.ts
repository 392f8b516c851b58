import { randomBytes, randomUUID } from 'node:crypto'
import { AwsServiceError, idempotencyMismatch } from '../errors.ts'
import { type EventBranch, type EventMetadata, keptString, type StoredEvent } from '../memory-store.ts'
import { hashRequest } from '../request-hash.ts'
import type { JsonRoute } from '../router.ts'
import { dataPlaneRoute, type MemoryApiDeps, validInput } from './data-plane-model.ts'
import { requireMemory } from './memory-ref.ts'
import { eventToWire } from './wire.ts'

/**
 * CreateEvent: one event in an actor's session (a new session when none is named). A client token
 * makes it idempotent: a retry gets the first event back and stores nothing again.
 */
export function createEventRoute({ store, now }: MemoryApiDeps): JsonRoute {
  return dataPlaneRoute('CreateEvent', {
    writes: true,
    handle(request) {
      const input = validInput('CreateEvent', request)
      const memoryId = requireMemory(store, input.memoryId)
      const session = {
        memoryId,
        actorId: input.actorId,
        sessionId: input.sessionId ?? `session-${randomUUID()}`,
      }
      const branch = input.branch && branchOf(input.branch)
      if (branch) requireBranchRoot(store, session, branch)
      const metadata = input.metadata && metadataOf(input.metadata)
      const event: StoredEvent = {
        ...session,
        eventId: `${String(Math.round(input.eventTimestamp * 1000)).padStart(13, '0')}#${randomBytes(8).toString('hex')}`,
        eventTimestamp: input.eventTimestamp,
        // Stored as sent: blobs and JSON payloads keep every value, nulls included.
        payload: request.body.payload as unknown[],
        ...(branch ? { branch } : {}),
        ...(metadata ? { metadata } : {}),
      }
      const nowMs = now()
      const outcome = store.idempotent(
        {
          scope: `CreateEvent:${memoryId}`,
          token: input.clientToken,
          requestHash: hashRequest({ ...request.body, memoryId, clientToken: undefined }),
          memoryId,
          nowMs,
        },
        () => {
          store.insertEvent(event, nowMs)
          // The rest of the answer is the request's own: a retry carries the same, as its hash shows.
          return { value: event, kept: { eventId: event.eventId, sessionId: event.sessionId } }
        },
      )
      if (outcome.kind === 'token-mismatch') throw idempotencyMismatch('CreateEvent')
      const created =
        outcome.kind === 'fresh'
          ? outcome.value
          : {
              ...event,
              eventId: keptString(outcome.kept, 'eventId'),
              sessionId: keptString(outcome.kept, 'sessionId'),
            }
      return { event: eventToWire(created, true) }
    },
  })
}

function branchOf(branch: { name: string; rootEventId?: string | undefined }): EventBranch {
  return branch.rootEventId === undefined
    ? { name: branch.name }
    : { name: branch.name, rootEventId: branch.rootEventId }
}

/** Event metadata as stored: each value's one member, `stringValue`. */
function metadataOf(metadata: Record<string, { stringValue?: string | undefined }>): EventMetadata {
  // fromEntries defines own properties, so a key such as __proto__ stays plain data.
  return Object.fromEntries(
    Object.entries(metadata).map(([key, value]) => [key, { stringValue: value.stringValue ?? '' }]),
  )
}

/**
 * A branch names the event it forks from when it starts: that event must be in the session, and a
 * branch other than `main` without it must already exist.
 */
function requireBranchRoot(
  store: MemoryApiDeps['store'],
  session: { memoryId: string; actorId: string; sessionId: string },
  branch: EventBranch,
): void {
  const { memoryId, actorId, sessionId } = session
  if (branch.rootEventId !== undefined) {
    if (!store.findEvent(memoryId, actorId, sessionId, branch.rootEventId)) {
      throw new AwsServiceError(
        'ValidationException',
        `branch.rootEventId: event ${branch.rootEventId} does not exist in session ${sessionId}`,
        { fieldList: [{ name: 'branch.rootEventId', message: 'does not exist in this session' }] },
      )
    }
  } else if (branch.name !== 'main' && !store.firstEventOfBranch(memoryId, actorId, sessionId, branch.name)) {
    throw new AwsServiceError(
      'ValidationException',
      `branch.rootEventId: is required to start branch ${branch.name}`,
      {
        fieldList: [{ name: 'branch.rootEventId', message: 'is required to start a new branch' }],
      },
    )
  }
}
