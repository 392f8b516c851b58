import { randomBytes } from 'node:crypto'
import { MEMORY_ID_RULE } from '../memory/ids.ts'
import { AwsServiceError, idempotencyMismatch, notFound } from './errors.ts'
import { FieldChecker } from './field-checker.ts'
import { keptString, type MemoryStore, type StoredMemory, type StoredStrategy } from './memory-store.ts'
import { keyPaging } from './paging.ts'
import { encodePageToken, pageOfRows } from '../shared/page-token.ts'
import { hashRequest } from './request-hash.ts'
import type { JsonRoute } from './router.ts'

const STRATEGY_TYPES: Record<string, string> = {
  semanticMemoryStrategy: 'SEMANTIC',
  summaryMemoryStrategy: 'SUMMARIZATION',
  userPreferenceMemoryStrategy: 'USER_PREFERENCE',
  customMemoryStrategy: 'CUSTOM',
  episodicMemoryStrategy: 'EPISODIC',
}

const NAME_PATTERN = /^[a-zA-Z][a-zA-Z0-9_]{0,47}$/
const ALPHANUMERIC = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'

export interface ControlPlaneDeps {
  readonly store: MemoryStore
  readonly now: () => number
  readonly region: string
  readonly accountId: string
}

/** Ten random letters and digits: the suffix AgentCore puts on memory and strategy ids. */
function randomSuffix(): string {
  const bytes = randomBytes(10)
  let suffix = ''
  for (const byte of bytes) suffix += ALPHANUMERIC[byte % ALPHANUMERIC.length]
  return suffix
}

/** The AgentCore control-plane operations for memories. */
export function controlPlaneRoutes(deps: ControlPlaneDeps): JsonRoute[] {
  const { store, now } = deps
  return [
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/create',
      operation: 'CreateMemory',
      writes: true,
      handle(request) {
        const checker = new FieldChecker()
        const body = request.body
        const name = checker.string('name', body.name, {
          required: true,
          min: 1,
          max: 48,
          pattern: NAME_PATTERN,
        })
        const eventExpiryDays = checker.integer('eventExpiryDuration', body.eventExpiryDuration, {
          required: true,
          min: 7,
          max: 365,
        })
        const description = checker.string('description', body.description, { max: 4096 })
        const clientToken = checker.string('clientToken', body.clientToken, { min: 1, max: 256 })
        const strategies = checkStrategies(checker, body.memoryStrategies)
        checker.throwIfInvalid()
        const requestHash = hashRequest({ ...body, clientToken: undefined })
        const outcome = store.idempotent(
          { scope: 'CreateMemory', token: clientToken, requestHash, nowMs: now() },
          () => {
            if (store.findMemoryByName(name as string)) {
              throw new AwsServiceError('ConflictException', `A memory named ${name} already exists`)
            }
            const memory = createMemory()
            return { value: memory, kept: { id: memory.id } }
          },
        )
        if (outcome.kind === 'token-mismatch') throw idempotencyMismatch('CreateMemory')
        if (outcome.kind === 'fresh') return { status: 202, body: { memory: memoryToWire(outcome.value) } }
        // A retry is told of the memory its token created, as it is now.
        const id = keptString(outcome.kept, 'id')
        const created = store.findMemory(id)
        if (!created)
          throw new AwsServiceError(
            'ResourceNotFoundException',
            `Memory ${id}, created with this clientToken, has been deleted since`,
          )
        return { status: 202, body: { memory: memoryToWire(created) } }

        function createMemory() {
          const id = `${name}-${randomSuffix()}`
          const time = now()
          const memory: StoredMemory = {
            id,
            arn: `arn:aws:bedrock-agentcore:${deps.region}:${deps.accountId}:memory/${id}`,
            name: name as string,
            eventExpiryDays: eventExpiryDays as number,
            status: 'ACTIVE',
            createdAtMs: time,
            updatedAtMs: time,
            strategies: strategies ?? [],
            ...(description !== undefined ? { description } : {}),
          }
          store.insertMemory(memory)
          return memory
        }
      },
    },
    {
      kind: 'json',
      method: 'GET',
      path: '/memories/{memoryId}/details',
      operation: 'GetMemory',
      writes: false,
      handle(request) {
        const checker = new FieldChecker()
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
        checker.throwIfInvalid()
        const memory = store.findMemory(memoryId)
        if (!memory) throw notFound(`Memory ${memoryId}`)
        return { status: 200, body: { memory: memoryToWire(memory) } }
      },
    },
    {
      kind: 'json',
      method: 'POST',
      path: '/memories/',
      operation: 'ListMemories',
      writes: false,
      handle(request) {
        const checker = new FieldChecker()
        const { after, limit } = keyPaging(checker, request.body, 'memories')
        checker.throwIfInvalid()
        const position = after && { createdAtMs: Number(after[0]), id: String(after[1]) }
        const { page, next } = pageOfRows(store.listMemories(position, limit + 1), limit, (memory) => [
          memory.createdAtMs,
          memory.id,
        ])
        return {
          status: 200,
          body: {
            memories: page.map((memory) => ({
              arn: memory.arn,
              id: memory.id,
              status: memory.status,
              createdAt: memory.createdAtMs / 1000,
              updatedAt: memory.updatedAtMs / 1000,
            })),
            ...(next ? { nextToken: encodePageToken('memories', next) } : {}),
          },
        }
      },
    },
    {
      kind: 'json',
      method: 'DELETE',
      path: '/memories/{memoryId}/delete',
      operation: 'DeleteMemory',
      writes: true,
      handle(request) {
        const checker = new FieldChecker()
        const memoryId = checker.id('memoryId', request.params.memoryId, MEMORY_ID_RULE) as string
        const clientToken = checker.string('clientToken', request.query.get('clientToken') ?? undefined, {
          min: 1,
          max: 256,
        })
        checker.throwIfInvalid()
        // With a token, a retry after a lost response gets the same answer instead of a 404.
        const guarded = {
          scope: 'DeleteMemory',
          token: clientToken,
          requestHash: hashRequest({ memoryId }),
          nowMs: now(),
        }
        const outcome = store.idempotent(guarded, () => {
          if (!store.hasMemory(memoryId)) throw notFound(`Memory ${memoryId}`)
          store.deleteMemory(memoryId)
          // The answer is the request's own: nothing to keep.
          return { value: undefined, kept: {} }
        })
        if (outcome.kind === 'token-mismatch') throw idempotencyMismatch('DeleteMemory')
        return { status: 202, body: { memoryId, status: 'DELETING' } }
      },
    },
  ]
}

function checkStrategies(checker: FieldChecker, value: unknown): StoredStrategy[] | undefined {
  const list = checker.array('memoryStrategies', value, { max: 6 })
  if (!list) return undefined
  const strategies: StoredStrategy[] = []
  for (const [index, item] of list.entries()) {
    const at = `memoryStrategies[${index}]`
    const union = checker.object(at, item, true)
    if (!union) continue
    const keys = Object.keys(union)
    const kind = keys[0]
    if (keys.length !== 1 || kind === undefined || !(kind in STRATEGY_TYPES)) {
      checker.fail(at, `must have exactly one of ${Object.keys(STRATEGY_TYPES).join(', ')}`)
      continue
    }
    const strategy = checker.object(`${at}.${kind}`, union[kind], true)
    if (!strategy) continue
    const name = checker.string(`${at}.${kind}.name`, strategy.name, {
      required: true,
      min: 1,
      max: 48,
      pattern: NAME_PATTERN,
    })
    // `namespaceTemplates` is the current name; `namespaces` the legacy one. Both are accepted.
    const namespaces =
      checker.array(`${at}.${kind}.namespaceTemplates`, strategy.namespaceTemplates, { max: 1 }) ??
      checker.array(`${at}.${kind}.namespaces`, strategy.namespaces, { max: 1 })
    const description = checker.string(`${at}.${kind}.description`, strategy.description, { max: 4096 })
    if (name === undefined) continue
    const strategyId = `${name}-${randomSuffix()}`
    strategies.push({
      strategyId,
      name,
      type: STRATEGY_TYPES[kind] as string,
      namespaces: (namespaces as string[] | undefined) ?? ['/strategies/{memoryStrategyId}/actors/{actorId}'],
      ...(description !== undefined ? { description } : {}),
    })
  }
  return strategies
}

function memoryToWire(memory: StoredMemory): Record<string, unknown> {
  return {
    arn: memory.arn,
    id: memory.id,
    name: memory.name,
    eventExpiryDuration: memory.eventExpiryDays,
    status: memory.status,
    createdAt: memory.createdAtMs / 1000,
    updatedAt: memory.updatedAtMs / 1000,
    ...(memory.description !== undefined ? { description: memory.description } : {}),
    strategies: memory.strategies.map((strategy) => ({
      strategyId: strategy.strategyId,
      name: strategy.name,
      type: strategy.type,
      namespaces: strategy.namespaces,
      namespaceTemplates: strategy.namespaces,
      status: 'ACTIVE',
      ...(strategy.description !== undefined ? { description: strategy.description } : {}),
    })),
  }
}
