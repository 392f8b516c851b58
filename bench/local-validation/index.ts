/**
 * What checking a Memory request against the API model's schema costs the local service, beside
 * two things every such request already pays: reading its JSON body and hashing it for the
 * idempotency record. Per call, side by side in one run, for a one-message CreateEvent, a full one
 * (100 payload items of 1,000 characters, 15 metadata keys) and a filtered ListEvents.
 */
import { MEMORY_DATA_PLANE_MODEL } from '../../src/local/api-model/api-model-rules.ts'
import { DATA_PLANE_LOCAL_RULES } from '../../src/local/api-model/local-rules.ts'
import { ModelSchemas } from '../../src/local/api-model/model-schema.ts'
import { hashRequest } from '../../src/local/request-hash.ts'

const quick = process.env.BENCH_QUICK === '1'
const ROUNDS = 5

const schemas = new ModelSchemas({ model: MEMORY_DATA_PLANE_MODEL, local: DATA_PLANE_LOCAL_RULES })
const memoryId = 'bench-0123456789'
const message = (text: string, role: 'USER' | 'ASSISTANT') => ({
  conversational: { content: { text }, role },
})
const cases = [
  {
    name: 'CreateEvent, 1 message',
    schema: schemas.input('CreateEvent'),
    input: {
      memoryId,
      actorId: 'bench',
      sessionId: 'session-1',
      eventTimestamp: 1_790_000_000.5,
      payload: [message('{"message":{"role":"user","content":[{"text":"hello"}]},"message_id":1}', 'USER')],
    },
    calls: quick ? 20_000 : 200_000,
  },
  {
    name: 'CreateEvent, 100 items of 1,000 chars, 15 metadata keys',
    schema: schemas.input('CreateEvent'),
    input: {
      memoryId,
      actorId: 'bench',
      sessionId: 'session-1',
      eventTimestamp: 1_790_000_000.5,
      payload: Array.from({ length: 100 }, (_, index) =>
        message(`x${index}`.repeat(500).slice(0, 1000), 'ASSISTANT'),
      ),
      metadata: Object.fromEntries(
        Array.from({ length: 15 }, (_, index) => [`key${index}`, { stringValue: `v ${index}` }]),
      ),
    },
    calls: quick ? 500 : 5_000,
  },
  {
    name: 'ListEvents, branch and metadata filters',
    schema: schemas.input('ListEvents'),
    input: {
      memoryId,
      actorId: 'bench',
      sessionId: 'session-1',
      maxResults: 100,
      filter: {
        branch: { name: 'main' },
        eventMetadata: [
          {
            left: { metadataKey: 'stateType' },
            operator: 'EQUALS_TO',
            right: { metadataValue: { stringValue: 'SESSION' } },
          },
        ],
      },
    },
    calls: quick ? 20_000 : 200_000,
  },
]

/** Microseconds per call of `work`, the median of ROUNDS runs. */
function microseconds(calls: number, work: () => unknown): number {
  const runs: number[] = []
  for (let round = 0; round < ROUNDS; round++) {
    let kept = 0
    const started = process.hrtime.bigint()
    for (let index = 0; index < calls; index++) if (work()) kept++
    runs.push(Number(process.hrtime.bigint() - started) / 1000 / calls)
    // Kept observable, so the loop is not optimised away.
    if (kept !== calls) throw new Error('a call failed')
  }
  return runs.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)] as number
}

console.log(`\nbench/local-validation: per call, median of ${ROUNDS} runs, one process`)
console.log(
  '| request | schema check (µs) | JSON.parse of the body (µs) | hashRequest (µs) | check / parse |',
)
console.log('|---|---:|---:|---:|---:|')
for (const { name, schema, input, calls } of cases) {
  if (!schema.safeParse(input).success) throw new Error(`${name}: the input should be valid`)
  const body = JSON.stringify(input)
  // Warm all three paths before timing.
  microseconds(Math.ceil(calls / 10), () => schema.safeParse(input).success)
  microseconds(Math.ceil(calls / 10), () => JSON.parse(body) as unknown)
  microseconds(Math.ceil(calls / 10), () => hashRequest(input))
  const check = microseconds(calls, () => schema.safeParse(input).success)
  const parse = microseconds(calls, () => JSON.parse(body) as unknown)
  const hash = microseconds(calls, () => hashRequest(input))
  console.log(
    `| ${name} | ${check.toFixed(2)} | ${parse.toFixed(2)} | ${hash.toFixed(2)} | ${(check / parse).toFixed(2)} |`,
  )
}
