import { AwsServiceError, idempotencyMismatch } from '../errors.ts'
import { keptString, type StoredMemory, type StoredStrategy } from '../memory-store.ts'
import { hashRequest } from '../request-hash.ts'
import type { JsonRoute } from '../router.ts'
import {
  type ControlApiDeps,
  type ControlPlaneInput,
  controlPlaneRoute,
  validControlInput,
} from './control-plane-model.ts'
import { memoryToWire } from './memory-wire.ts'
import { randomSuffix } from './random-suffix.ts'

/** The strategy type each member of the model's MemoryStrategyInput union stands for. */
const STRATEGY_TYPES = {
  semanticMemoryStrategy: 'SEMANTIC',
  summaryMemoryStrategy: 'SUMMARIZATION',
  userPreferenceMemoryStrategy: 'USER_PREFERENCE',
  customMemoryStrategy: 'CUSTOM',
  episodicMemoryStrategy: 'EPISODIC',
} as const

const DEFAULT_NAMESPACES = ['/strategies/{memoryStrategyId}/actors/{actorId}']

type StrategyInput = NonNullable<ControlPlaneInput<'CreateMemory'>['memoryStrategies']>[number]

/**
 * CreateMemory: an ACTIVE memory at once, its id in AgentCore's `<name>-<10 alphanumerics>` form.
 * Names are unique (ConflictException); a client token makes a retry answer with the memory it
 * created, as it is now.
 */
export function createMemoryRoute(deps: ControlApiDeps): JsonRoute {
  const { store, now } = deps
  return controlPlaneRoute('CreateMemory', {
    writes: true,
    handle(request) {
      const input = validControlInput('CreateMemory', request)
      const outcome = store.idempotent(
        {
          scope: 'CreateMemory',
          token: input.clientToken,
          requestHash: hashRequest({ ...request.body, clientToken: undefined }),
          nowMs: now(),
        },
        () => {
          if (store.findMemoryByName(input.name))
            throw new AwsServiceError('ConflictException', `A memory named ${input.name} already exists`)
          const memory = newMemory(deps, input)
          store.insertMemory(memory)
          return { value: memory, kept: { id: memory.id } }
        },
      )
      if (outcome.kind === 'token-mismatch') throw idempotencyMismatch('CreateMemory')
      if (outcome.kind === 'fresh') return { memory: memoryToWire(outcome.value) }
      const id = keptString(outcome.kept, 'id')
      const created = store.findMemory(id)
      if (!created)
        throw new AwsServiceError(
          'ResourceNotFoundException',
          `Memory ${id}, created with this clientToken, has been deleted since`,
        )
      return { memory: memoryToWire(created) }
    },
  })
}

function newMemory(deps: ControlApiDeps, input: ControlPlaneInput<'CreateMemory'>): StoredMemory {
  const id = `${input.name}-${randomSuffix()}`
  const time = deps.now()
  return {
    id,
    arn: `arn:aws:bedrock-agentcore:${deps.region}:${deps.accountId}:memory/${id}`,
    name: input.name,
    eventExpiryDays: input.eventExpiryDuration,
    status: 'ACTIVE',
    createdAtMs: time,
    updatedAtMs: time,
    strategies: (input.memoryStrategies ?? []).map(strategyOf),
    ...(input.description !== undefined ? { description: input.description } : {}),
  }
}

/** A strategy as stored; `namespaceTemplates` is the current member, `namespaces` the deprecated one. */
function strategyOf(union: StrategyInput): StoredStrategy {
  const [kind, strategy] = Object.entries(union).find(([, value]) => value != null) as [
    keyof typeof STRATEGY_TYPES,
    { name: string; description?: string | undefined; namespaces?: string[]; namespaceTemplates?: string[] },
  ]
  return {
    strategyId: `${strategy.name}-${randomSuffix()}`,
    name: strategy.name,
    type: STRATEGY_TYPES[kind],
    namespaces: strategy.namespaceTemplates ?? strategy.namespaces ?? DEFAULT_NAMESPACES,
    ...(strategy.description !== undefined ? { description: strategy.description } : {}),
  }
}
