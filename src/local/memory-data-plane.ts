import { randomBytes, randomUUID } from 'node:crypto'
import {
  ACTOR_ID_RULE,
  BRANCH_NAME_RULE,
  EVENT_ID_RULE,
  MEMORY_ID_RULE,
  explainMetadataKeyViolation,
  explainMetadataValueViolation,
  METADATA_MAX_KEYS,
  METADATA_VALUE_MAX_LENGTH,
  SESSION_ID_RULE,
} from '../memory/ids.ts'
import { isRecord } from '../shared/is-record.ts'
import { AwsServiceError, idempotencyMismatch, notFound } from './errors.ts'
import { FieldChecker } from './field-checker.ts'
import {
  type EventBranch,
  type EventCursor,
  type EventMetadata,
  type EventPredicate,
  keptString,
  type MemoryStore,
  type StoredEvent,
  type StoredRecord,
} from './memory-store.ts'
import { decodePageToken, encodePageToken, pageAfter, pageOfRows } from '../shared/page-token.ts'
import { MEMORY_LIMITS } from './limits.ts'
import { keyPaging, offsetPaging } from './paging.ts'
import { scoreDocuments } from './relevance.ts'
import { hashRequest } from './request-hash.ts'
import type { JsonRoute, OperationRequest } from './router.ts'

/** Refused rather than ignored: an ignored filter would return records the caller meant to exclude. */
const UNSUPPORTED_RECORD_FILTERS = 'is not supported by the local AgentCore service'

const NAMESPACE_PATTERN = /^[a-zA-Z0-9/*][a-zA-Z0-9_/*{}:.-]*$/
const STRATEGY_ID_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/

const ROLES = new Set(['USER', 'ASSISTANT', 'TOOL', 'OTHER'])
const OPERATORS = new Set(['EQUALS_TO', 'EXISTS', 'NOT_EXISTS'])

export interface MemoryDataPlaneDeps {
  readonly store: MemoryStore
  readonly now: () => number
}

/** The AgentCore Memory data plane operations, as REST-JSON routes. */
export function memoryDataPlaneRoutes(deps: MemoryDataPlaneDeps): JsonRoute[] {
  const { store, now } = deps

  const requireMemory = (checker: FieldChecker, memoryId: string | undefined): void => {
    checker.throwIfInvalid()
    if (!store.hasMemory(memoryId as string)) throw notFound(`Memory ${memoryId}`)
  }

  const sessionPath = (request: OperationRequest, checker: FieldChecker) => ({
    memoryId: checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string,
    actorId: checker.id('actorId', request.params.actorId, ACTOR_ID_RULE) as string,
    sessionId: checker.id('sessionId', request.params.sessionId, SESSION_ID_RULE) as string,
  })

  const eventPath = (request: OperationRequest) => {
    const checker = new FieldChecker()
    const ids = sessionPath(request, checker)
    const eventId = checker.id('eventId', request.params.eventId, EVENT_ID_RULE) as string
    requireMemory(checker, ids.memoryId)
    return { ids, eventId }
  }

  const recordPath = (request: OperationRequest) => {
    const checker = new FieldChecker()
    const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
    const recordId = checker.string('memoryRecordId', request.params.memoryRecordId, {
      min: 1,
      max: 100,
    }) as string
    requireMemory(checker, memoryId)
    return { memoryId, recordId }
  }

  const routes: JsonRoute[] = [
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/{memoryId}/events',
      operation: 'CreateEvent',
      writes: true,
      handle(request) {
        const checker = new FieldChecker()
        const body = request.body
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE)
        const actorId = checker.id('actorId', body.actorId, ACTOR_ID_RULE)
        const sessionId = checker.id('sessionId', body.sessionId, SESSION_ID_RULE, false)
        const eventTimestamp = checkTimestamp(checker, 'eventTimestamp', body.eventTimestamp)
        const payload = checkPayload(checker, body.payload)
        const branch = checkBranch(checker, body.branch)
        const metadata = checkMetadata(checker, body.metadata)
        const clientToken = checker.string('clientToken', body.clientToken, { min: 1, max: 256 })
        requireMemory(checker, memoryId)
        const resolvedSession = sessionId ?? `session-${randomUUID()}`
        if (branch?.rootEventId !== undefined) {
          if (!store.findEvent(memoryId as string, actorId as string, resolvedSession, branch.rootEventId)) {
            throw new AwsServiceError(
              'ValidationException',
              `branch.rootEventId: event ${branch.rootEventId} does not exist in session ${resolvedSession}`,
              { fieldList: [{ name: 'branch.rootEventId', message: 'does not exist in this session' }] },
            )
          }
        } else if (branch && branch.name !== 'main') {
          if (
            !store.firstEventOfBranch(memoryId as string, actorId as string, resolvedSession, branch.name)
          ) {
            throw new AwsServiceError(
              'ValidationException',
              `branch.rootEventId: is required to start branch ${branch.name}`,
              {
                fieldList: [{ name: 'branch.rootEventId', message: 'is required to start a new branch' }],
              },
            )
          }
        }
        const event: StoredEvent = {
          memoryId: memoryId as string,
          actorId: actorId as string,
          sessionId: resolvedSession,
          eventId: `${String(Math.round((eventTimestamp as number) * 1000)).padStart(13, '0')}#${randomBytes(8).toString('hex')}`,
          eventTimestamp: eventTimestamp as number,
          payload: payload as unknown[],
          ...(branch ? { branch } : {}),
          ...(metadata ? { metadata } : {}),
        }
        const nowMs = now()
        const outcome = store.idempotent(
          {
            scope: `CreateEvent:${memoryId}`,
            token: clientToken,
            requestHash: hashRequest({ ...body, memoryId, clientToken: undefined }),
            memoryId: memoryId as string,
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
        return { status: 201, body: { event: eventToWire(created, true) } }
      },
    },
    {
      kind: 'json',
      method: 'GET',
      path: '/memories/{memoryId}/actor/{actorId}/sessions/{sessionId}/events/{eventId}',
      operation: 'GetEvent',
      writes: false,
      handle(request) {
        const { ids, eventId } = eventPath(request)
        const event = store.findEvent(ids.memoryId, ids.actorId, ids.sessionId, eventId)
        if (!event) throw notFound(`Event ${eventId}`)
        return { status: 200, body: { event: eventToWire(event, true) } }
      },
    },
    {
      kind: 'json',
      method: 'DELETE',
      path: '/memories/{memoryId}/actor/{actorId}/sessions/{sessionId}/events/{eventId}',
      operation: 'DeleteEvent',
      writes: true,
      handle(request) {
        const { ids, eventId } = eventPath(request)
        if (!store.deleteEvent(ids.memoryId, ids.actorId, ids.sessionId, eventId))
          throw notFound(`Event ${eventId}`)
        return { status: 200, body: { eventId } }
      },
    },
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/{memoryId}/actor/{actorId}/sessions/{sessionId}',
      operation: 'ListEvents',
      writes: false,
      handle(request) {
        const checker = new FieldChecker()
        const ids = sessionPath(request, checker)
        const body = request.body
        const includePayloads = checker.boolean('includePayloads', body.includePayloads) ?? true
        const maxResults =
          checker.integer('maxResults', body.maxResults, { min: 1, max: MEMORY_LIMITS.maxResults }) ??
          MEMORY_LIMITS.defaultMaxResults
        const scope = `events:${ids.memoryId}:${ids.actorId}:${ids.sessionId}`
        const cursor = decodeCursor(checker, body.nextToken, scope)
        const filter = checker.object('filter', body.filter)
        const branchFilter = filter ? checkBranchFilter(checker, filter.branch) : undefined
        const metadataFilter = filter ? checkMetadataFilters(checker, filter.eventMetadata) : undefined
        requireMemory(checker, ids.memoryId)
        const predicates: EventPredicate[] = []
        if (branchFilter) predicates.push(branchPredicate(store, ids, branchFilter))
        if (metadataFilter) predicates.push(metadataFilter)
        const predicate: EventPredicate | undefined =
          predicates.length === 0 ? undefined : (event) => predicates.every((test) => test(event))
        const page = store.listEvents(
          ids.memoryId,
          ids.actorId,
          ids.sessionId,
          cursor,
          maxResults,
          predicate,
          includePayloads,
        )
        return {
          status: 200,
          body: {
            events: page.events.map((event) => eventToWire(event, includePayloads)),
            ...(page.next ? { nextToken: encodePageToken(scope, page.next) } : {}),
          },
        }
      },
    },
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/{memoryId}/actor/{actorId}/sessions',
      operation: 'ListSessions',
      writes: false,
      handle(request) {
        const checker = new FieldChecker()
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
        const actorId = checker.id('actorId', request.params.actorId, ACTOR_ID_RULE) as string
        const scope = `sessions:${memoryId}:${actorId}`
        const { after, limit } = keyPaging(checker, request.body, scope)
        requireMemory(checker, memoryId)
        const position = after && { createdAtMs: Number(after[0]), sessionId: String(after[1]) }
        const { page, next } = pageOfRows(
          store.listSessions(memoryId, actorId, position, limit + 1),
          limit,
          (row) => [row.createdAtMs, row.sessionId],
        )
        return {
          status: 200,
          body: {
            sessionSummaries: page.map((row) => ({
              sessionId: row.sessionId,
              actorId: row.actorId,
              createdAt: row.createdAtMs / 1000,
            })),
            ...(next ? { nextToken: encodePageToken(scope, next) } : {}),
          },
        }
      },
    },
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/{memoryId}/actors',
      operation: 'ListActors',
      writes: false,
      handle(request) {
        const checker = new FieldChecker()
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
        const scope = `actors:${memoryId}`
        const { after, limit } = keyPaging(checker, request.body, scope)
        requireMemory(checker, memoryId)
        const { page, next } = pageOfRows(
          store.listActors(memoryId, after && String(after[0]), limit + 1),
          limit,
          (actorId) => [actorId],
        )
        return {
          status: 200,
          body: {
            actorSummaries: page.map((actorId) => ({ actorId })),
            ...(next ? { nextToken: encodePageToken(scope, next) } : {}),
          },
        }
      },
    },
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/{memoryId}/retrieve',
      operation: 'RetrieveMemoryRecords',
      writes: false,
      handle(request) {
        const checker = new FieldChecker()
        const body = request.body
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
        const { namespace, namespacePath } = checkNamespaceSelector(checker, body)
        const criteria = checker.object('searchCriteria', body.searchCriteria, true)
        const searchQuery = criteria
          ? checker.string('searchCriteria.searchQuery', criteria.searchQuery, {
              required: true,
              min: 1,
              max: MEMORY_LIMITS.searchQuery,
            })
          : undefined
        const strategyId = criteria
          ? checker.string('searchCriteria.memoryStrategyId', criteria.memoryStrategyId, { min: 1, max: 100 })
          : undefined
        if (criteria?.metadataFilters !== undefined) {
          checker.fail('searchCriteria.metadataFilters', UNSUPPORTED_RECORD_FILTERS)
        }
        const topK = criteria
          ? checker.integer('searchCriteria.topK', criteria.topK, { min: 1, max: 100 })
          : undefined
        const { offset, limit, scope } = offsetPaging(checker, body, `retrieve:${memoryId}`)
        if (namespace === undefined && namespacePath === undefined) {
          checker.fail('namespace', 'namespace or namespacePath is required')
        }
        requireMemory(checker, memoryId)
        const candidates = store
          .listRecords(memoryId)
          .filter((record) => recordMatches(record, { namespace, namespacePath }, strategyId))
        const scores = scoreDocuments(
          searchQuery as string,
          candidates.map((record) => record.text),
        )
        const ranked = candidates
          .map((record, index) => ({ record, score: scores[index] ?? 0 }))
          .filter((entry) => entry.score > 0)
          .sort((a, b) => b.score - a.score || b.record.createdAtMs - a.record.createdAtMs)
          .slice(0, topK ?? 10)
        const page = ranked.slice(offset, offset + limit)
        return {
          status: 200,
          body: {
            memoryRecordSummaries: page.map((entry) => recordToWire(entry.record, entry.score)),
            ...(ranked.length > offset + limit ? { nextToken: encodePageToken(scope, offset + limit) } : {}),
          },
        }
      },
    },
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/{memoryId}/memoryRecords',
      operation: 'ListMemoryRecords',
      writes: false,
      handle(request) {
        const checker = new FieldChecker()
        const body = request.body
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
        const { namespace, namespacePath } = checkNamespaceSelector(checker, body)
        const strategyId = checker.string('memoryStrategyId', body.memoryStrategyId, { min: 1, max: 100 })
        if (body.metadataFilters !== undefined) checker.fail('metadataFilters', UNSUPPORTED_RECORD_FILTERS)
        const scope = `records:${memoryId}`
        const { after, limit } = keyPaging(checker, body, scope)
        requireMemory(checker, memoryId)
        const matching = store
          .listRecords(memoryId)
          .filter((record) => recordMatches(record, { namespace, namespacePath }, strategyId))
        const { page, next } = pageAfter(
          matching,
          (record) => [-record.createdAtMs, record.memoryRecordId],
          after,
          limit,
        )
        return {
          status: 200,
          body: {
            memoryRecordSummaries: page.map((record) => recordToWire(record)),
            ...(next ? { nextToken: encodePageToken(scope, next) } : {}),
          },
        }
      },
    },
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/{memoryId}/memoryRecords/batchCreate',
      operation: 'BatchCreateMemoryRecords',
      writes: true,
      handle(request) {
        const checker = new FieldChecker()
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
        const items = checker.array('records', request.body.records, {
          required: true,
          min: 0,
          max: MEMORY_LIMITS.batchRecords,
        })
        const clientToken = checker.string('clientToken', request.body.clientToken, { min: 1, max: 256 })
        const records: StoredRecord[] = []
        const successfulRecords: SuccessfulRecord[] = []
        for (const [index, item] of (items ?? []).entries()) {
          const at = `records[${index}]`
          const record = checker.object(at, item, true)
          if (!record) continue
          const requestIdentifier = checker.string(`${at}.requestIdentifier`, record.requestIdentifier, {
            required: true,
            min: 1,
            max: 80,
            pattern: /^[a-zA-Z0-9_-]+$/,
          })
          const namespaces = checker.array(`${at}.namespaces`, record.namespaces, {
            required: true,
            min: 0,
            max: 1,
          })
          for (const [position, namespace] of (namespaces ?? []).entries()) {
            checker.string(`${at}.namespaces[${position}]`, namespace, {
              required: true,
              min: 1,
              max: 1024,
              pattern: NAMESPACE_PATTERN,
            })
          }
          const content = checker.object(`${at}.content`, record.content, true)
          const text = content
            ? checker.string(`${at}.content.text`, content.text, {
                required: true,
                min: 1,
                max: MEMORY_LIMITS.recordText,
              })
            : undefined
          const timestamp = checkTimestamp(checker, `${at}.timestamp`, record.timestamp)
          const strategyId = checker.string(`${at}.memoryStrategyId`, record.memoryStrategyId, {
            min: 1,
            max: 100,
            pattern: STRATEGY_ID_PATTERN,
          })
          const metadata = checker.object(`${at}.metadata`, record.metadata)
          if (metadata && Object.keys(metadata).length > MEMORY_LIMITS.recordMetadataKeys) {
            checker.fail(`${at}.metadata`, `must have at most ${MEMORY_LIMITS.recordMetadataKeys} keys`)
          }
          for (const key of Object.keys(metadata ?? {})) {
            if (key.length < 1 || key.length > 128)
              checker.fail(`${at}.metadata.${key}`, 'key must be 1 to 128 characters')
          }
          if (!checker.ok) continue
          const memoryRecordId = `mem-${randomUUID()}`
          records.push({
            memoryRecordId,
            memoryId,
            text: text as string,
            namespaces: namespaces as string[],
            memoryStrategyId: strategyId ?? 'user-provided',
            createdAtMs: Math.round((timestamp as number) * 1000),
            ...(metadata ? { metadata } : {}),
          })
          successfulRecords.push({
            memoryRecordId,
            status: 'SUCCEEDED',
            requestIdentifier: requestIdentifier as string,
          })
        }
        requireMemory(checker, memoryId)
        const requestHash = hashRequest({ ...request.body, clientToken: undefined })
        const outcome = store.idempotent(
          {
            scope: `BatchCreateMemoryRecords:${memoryId}`,
            token: clientToken,
            requestHash,
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
          status: 201,
          body: {
            successfulRecords:
              outcome.kind === 'fresh' ? outcome.value : replayedRecords(successfulRecords, outcome.kept),
            failedRecords: [],
          },
        }
      },
    },
    {
      kind: 'json',
      method: 'GET',
      path: '/memories/{memoryId}/memoryRecord/{memoryRecordId}',
      operation: 'GetMemoryRecord',
      writes: false,
      handle(request) {
        const { memoryId, recordId } = recordPath(request)
        const record = store.findRecord(memoryId, recordId)
        if (!record) throw notFound(`Memory record ${recordId}`)
        return { status: 200, body: { memoryRecord: recordToWire(record) } }
      },
    },
    {
      kind: 'json',
      method: 'DELETE',
      path: '/memories/{memoryId}/memoryRecords/{memoryRecordId}',
      operation: 'DeleteMemoryRecord',
      writes: true,
      handle(request) {
        const { memoryId, recordId } = recordPath(request)
        if (!store.deleteRecord(memoryId, recordId)) throw notFound(`Memory record ${recordId}`)
        return { status: 200, body: { memoryRecordId: recordId } }
      },
    },
  ]
  return routes
}

/** One entry of BatchCreateMemoryRecords' `successfulRecords`. */
interface SuccessfulRecord {
  readonly memoryRecordId: string
  readonly status: 'SUCCEEDED'
  readonly requestIdentifier: string
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

function checkTimestamp(checker: FieldChecker, name: string, value: unknown): number | undefined {
  if (value === undefined || value === null) {
    checker.fail(name, 'is required')
    return undefined
  }
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < 0 ||
    value > MEMORY_LIMITS.maxTimestampSeconds
  ) {
    checker.fail(name, 'must be a timestamp in seconds since the epoch, before the year 10000')
    return undefined
  }
  return value
}

function checkPayload(checker: FieldChecker, value: unknown): unknown[] | undefined {
  const items = checker.array('payload', value, { required: true, min: 0, max: MEMORY_LIMITS.payloadItems })
  if (!items) return undefined
  for (const [index, item] of items.entries()) {
    const at = `payload[${index}]`
    const member = checker.object(at, item, true)
    if (!member) continue
    const keys = Object.keys(member)
    if (keys.length !== 1 || !['conversational', 'blob', 'json'].includes(keys[0] as string)) {
      checker.fail(at, 'must have exactly one of conversational, blob or json')
      continue
    }
    if (keys[0] === 'blob') {
      if (member.blob === undefined || member.blob === null) checker.fail(`${at}.blob`, 'must not be null')
      continue
    }
    if (keys[0] === 'json') {
      const json = checker.object(`${at}.json`, member.json, true)
      if (json && (json.content === undefined || json.content === null))
        checker.fail(`${at}.json.content`, 'is required')
      continue
    }
    const conversational = checker.object(`${at}.conversational`, member.conversational, true)
    if (!conversational) continue
    const content = checker.object(`${at}.conversational.content`, conversational.content, true)
    if (content) {
      checker.string(`${at}.conversational.content.text`, content.text, {
        required: true,
        min: 1,
        max: MEMORY_LIMITS.conversationalText,
      })
    }
    const role = conversational.role
    if (typeof role !== 'string' || !ROLES.has(role)) {
      checker.fail(`${at}.conversational.role`, 'must be one of USER, ASSISTANT, TOOL, OTHER')
    }
  }
  return items
}

function checkBranch(checker: FieldChecker, value: unknown): EventBranch | undefined {
  const branch = checker.object('branch', value)
  if (!branch) return undefined
  const name = checker.id('branch.name', branch.name, BRANCH_NAME_RULE)
  const rootEventId = checker.id('branch.rootEventId', branch.rootEventId, EVENT_ID_RULE, false)
  if (name === undefined) return undefined
  return rootEventId === undefined ? { name } : { name, rootEventId }
}

function checkMetadata(checker: FieldChecker, value: unknown): EventMetadata | undefined {
  const metadata = checker.object('metadata', value)
  if (!metadata) return undefined
  const entries = Object.entries(metadata)
  if (entries.length > METADATA_MAX_KEYS) {
    checker.fail('metadata', `must have at most ${METADATA_MAX_KEYS} keys (got ${entries.length})`)
    return undefined
  }
  const kept: [string, { stringValue: string }][] = []
  for (const [key, entry] of entries) {
    const keyProblem = explainMetadataKeyViolation(key)
    if (keyProblem) {
      checker.fail(`metadata.${key}`, keyProblem)
      continue
    }
    const wrapper = checker.object(`metadata.${key}`, entry, true)
    if (!wrapper) continue
    const valueProblem = explainMetadataValueViolation(wrapper.stringValue)
    if (valueProblem) checker.fail(`metadata.${key}.stringValue`, valueProblem)
    else kept.push([key, { stringValue: wrapper.stringValue as string }])
  }
  // fromEntries defines own properties, so a key such as __proto__ stays plain data.
  return Object.fromEntries(kept)
}

interface BranchFilter {
  readonly name: string
  readonly includeParentBranches: boolean
}

function checkBranchFilter(checker: FieldChecker, value: unknown): BranchFilter | undefined {
  const filter = checker.object('filter.branch', value)
  if (!filter) return undefined
  const name = checker.id('filter.branch.name', filter.name, BRANCH_NAME_RULE)
  const includeParentBranches = checker.boolean(
    'filter.branch.includeParentBranches',
    filter.includeParentBranches,
  )
  return name === undefined ? undefined : { name, includeParentBranches: includeParentBranches ?? false }
}

function checkMetadataFilters(checker: FieldChecker, value: unknown): EventPredicate | undefined {
  const list = checker.array('filter.eventMetadata', value, { min: 1, max: MEMORY_LIMITS.metadataFilters })
  if (!list) return undefined
  const tests: EventPredicate[] = []
  for (const [index, item] of list.entries()) {
    const at = `filter.eventMetadata[${index}]`
    const expression = checker.object(at, item, true)
    if (!expression) continue
    const left = checker.object(`${at}.left`, expression.left, true)
    const key = left
      ? checker.string(`${at}.left.metadataKey`, left.metadataKey, { required: true, min: 1, max: 128 })
      : undefined
    const operator = expression.operator
    if (typeof operator !== 'string' || !OPERATORS.has(operator)) {
      checker.fail(`${at}.operator`, 'must be one of EQUALS_TO, EXISTS, NOT_EXISTS')
      continue
    }
    if (key === undefined) continue
    if (operator === 'EXISTS') tests.push((event) => hasMetadata(event, key))
    else if (operator === 'NOT_EXISTS') tests.push((event) => !hasMetadata(event, key))
    else {
      const right = checker.object(`${at}.right`, expression.right, true)
      const wrapper = right
        ? checker.object(`${at}.right.metadataValue`, right.metadataValue, true)
        : undefined
      const expected = wrapper
        ? checker.string(`${at}.right.metadataValue.stringValue`, wrapper.stringValue, {
            required: true,
            max: METADATA_VALUE_MAX_LENGTH,
          })
        : undefined
      if (expected !== undefined) {
        tests.push((event) => hasMetadata(event, key) && event.metadata?.[key]?.stringValue === expected)
      }
    }
  }
  return (event) => tests.every((test) => test(event))
}

/** Own keys only: a metadata key named like an Object.prototype member must not match by accident. */
function hasMetadata(event: StoredEvent, key: string): boolean {
  return event.metadata !== undefined && Object.hasOwn(event.metadata, key)
}

/**
 * Branch membership. Events written without a branch belong to `main`. With parent branches, a
 * branch also sees its parent's events up to the event it forked from, recursively.
 */
function branchPredicate(
  store: MemoryStore,
  ids: { memoryId: string; actorId: string; sessionId: string },
  filter: BranchFilter,
): EventPredicate {
  const onBranch = (event: StoredEvent, name: string) => (event.branch?.name ?? 'main') === name
  if (!filter.includeParentBranches) return (event) => onBranch(event, filter.name)
  const lineage: { name: string; untilTimestamp: number }[] = []
  let name = filter.name
  let untilTimestamp = Number.POSITIVE_INFINITY
  const seen = new Set<string>()
  while (!seen.has(name)) {
    seen.add(name)
    lineage.push({ name, untilTimestamp })
    if (name === 'main') break
    const first = store.firstEventOfBranch(ids.memoryId, ids.actorId, ids.sessionId, name)
    const rootId = first?.branch?.rootEventId
    if (!rootId) break
    const root = store.findEvent(ids.memoryId, ids.actorId, ids.sessionId, rootId)
    if (!root) break
    name = root.branch?.name ?? 'main'
    untilTimestamp = root.eventTimestamp
  }
  return (event) =>
    lineage.some((entry) => onBranch(event, entry.name) && event.eventTimestamp <= entry.untilTimestamp)
}

function decodeCursor(checker: FieldChecker, value: unknown, scope: string): EventCursor | undefined {
  const token = checker.string('nextToken', value, { min: 1, max: 2048 })
  if (token === undefined) return undefined
  const cursor = decodePageToken(token, scope)
  if (
    cursor === null ||
    typeof cursor !== 'object' ||
    typeof (cursor as EventCursor).eventTimestamp !== 'number' ||
    typeof (cursor as EventCursor).sequence !== 'number'
  ) {
    checker.fail('nextToken', 'is not a token this listing issued')
    return undefined
  }
  return cursor as EventCursor
}

function checkNamespaceSelector(checker: FieldChecker, body: Record<string, unknown>): NamespaceSelector {
  return {
    namespace: checker.string('namespace', body.namespace, { min: 1, max: 1024 }),
    namespacePath: checker.string('namespacePath', body.namespacePath, { min: 1, max: 1024 }),
  }
}

/** Which records a namespace selects: `namespace` is exact; `namespacePath` is a subtree (AgentCore's rules). */
interface NamespaceSelector {
  readonly namespace?: string | undefined
  readonly namespacePath?: string | undefined
}

function recordMatches(record: StoredRecord, selector: NamespaceSelector, strategyId: string | undefined) {
  if (strategyId !== undefined && record.memoryStrategyId !== strategyId) return false
  const { namespace, namespacePath } = selector
  if (namespace !== undefined && !record.namespaces.includes(namespace)) return false
  if (namespacePath !== undefined) {
    const subtree = namespacePath.endsWith('/') ? namespacePath : `${namespacePath}/`
    return record.namespaces.some((candidate) => candidate === namespacePath || candidate.startsWith(subtree))
  }
  return true
}

function recordToWire(record: StoredRecord, score?: number): Record<string, unknown> {
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

/** The wire form of an event; timestamps go out as epoch seconds, as the SDK expects. */
function eventToWire(event: StoredEvent, includePayloads: boolean): Record<string, unknown> {
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
