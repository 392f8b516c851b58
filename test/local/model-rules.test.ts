/**
 * Rules the local service takes from AgentCore's published API model where they differ from what it
 * enforced before, each through the real AWS SDK clients: the model's limits, patterns, defaults and
 * union rules, and the rules it keeps where the model has none.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  BatchCreateMemoryRecordsCommand,
  type BatchCreateMemoryRecordsCommandInput,
  CreateEventCommand,
  type CreateEventCommandInput,
  GetEventCommand,
  GetMemoryRecordCommand,
  ListEventsCommand,
  ListMemoryRecordsCommand,
  ListSessionsCommand,
  ResourceNotFoundException,
  RetrieveMemoryRecordsCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-agentcore'
import {
  CreateMemoryCommand,
  GetMemoryCommand,
  ListMemoriesCommand,
  ValidationException as ControlValidation,
} from '@aws-sdk/client-bedrock-agentcore-control'
import {
  type LocalAgentCoreFixture,
  startLocalAgentCore,
  TEST_CREDENTIALS,
} from '../helpers/local-agentcore.ts'

const text = (value: string) => ({ conversational: { content: { text: value }, role: 'USER' as const } })

/** Asserts a ValidationException (HTTP 400) whose message and fieldList name `field`. */
function namesField(field: string) {
  return (error: unknown) => {
    assert.ok(
      error instanceof ValidationException || error instanceof ControlValidation,
      `expected a ValidationException, got ${String(error)}`,
    )
    assert.equal(error.$metadata.httpStatusCode, 400)
    assert.ok(error.message.includes(field), `message "${error.message}" should name ${field}`)
    assert.ok(
      error.fieldList?.some((entry) => entry.name === field),
      `fieldList ${JSON.stringify(error.fieldList)} should name ${field}`,
    )
    return true
  }
}

describe('the Memory data plane follows the API model', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  let memoryArn: string

  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
    const { memory } = await env.control.send(new GetMemoryCommand({ memoryId }))
    memoryArn = memory?.arn as string
  })
  after(() => env.close())

  const event = (change: Partial<CreateEventCommandInput> = {}): CreateEventCommandInput => ({
    memoryId,
    actorId: 'model',
    sessionId: 'rules',
    eventTimestamp: new Date(),
    payload: [text('x')],
    ...change,
  })
  const record = (change: Record<string, unknown> = {}) =>
    ({
      requestIdentifier: 'r1',
      namespaces: ['/model/rules'],
      content: { text: 'a fact' },
      timestamp: new Date(),
      ...change,
    }) as NonNullable<BatchCreateMemoryRecordsCommandInput['records']>[number]
  const batch = (...records: NonNullable<BatchCreateMemoryRecordsCommandInput['records']>) =>
    env.data.send(new BatchCreateMemoryRecordsCommand({ memoryId, records }))
  const recordCount = async () =>
    (await env.data.send(new ListMemoryRecordsCommand({ memoryId, namespacePath: '/', maxResults: 100 })))
      .memoryRecordSummaries?.length ?? 0

  test('a record text is at most 16,000 characters, counted as Unicode characters', async () => {
    const before = await recordCount()
    await assert.rejects(
      batch(record({ content: { text: 'x'.repeat(16_001) } })),
      namesField('records[0].content.text'),
    )
    assert.equal(await recordCount(), before, 'a refused batch stores nothing')
    // 16,000 characters outside the Basic Multilingual Plane: 32,000 UTF-16 units, 16,000 characters.
    const result = await batch(
      record({ requestIdentifier: 'long', content: { text: 'x'.repeat(15_999) + '\u{1F600}' } }),
      record({ requestIdentifier: 'astral', content: { text: '\u{1F600}'.repeat(16_000) } }),
    )
    assert.equal(result.successfulRecords?.length, 2)
  })

  test('record metadata follows the model: at most 20 keys, each value one typed member', async () => {
    const before = await recordCount()
    const cases: [Record<string, unknown>, string][] = [
      [{ topic: { stringValue: 'v'.repeat(257) } }, 'records[0].metadata.topic.stringValue'],
      [
        { tags: { stringListValue: ['a', 'b', 'c', 'd', 'e', 'f'] } },
        'records[0].metadata.tags.stringListValue',
      ],
      [{ topic: { stringValue: 'a', numberValue: 1 } }, 'records[0].metadata.topic'],
      [
        Object.fromEntries(Array.from({ length: 21 }, (_, index) => [`k${index}`, { stringValue: 'v' }])),
        'records[0].metadata',
      ],
    ]
    for (const [metadata, field] of cases) {
      await assert.rejects(batch(record({ metadata })), namesField(field))
    }
    assert.equal(await recordCount(), before)
    const stored = await batch(
      record({
        requestIdentifier: 'typed',
        namespaces: ['/model/metadata'],
        metadata: { score: { numberValue: 0.5 }, tags: { stringListValue: ['a', 'b'] } },
      }),
    )
    const recordId = stored.successfulRecords?.[0]?.memoryRecordId as string
    const fetched = await env.data.send(new GetMemoryRecordCommand({ memoryId, memoryRecordId: recordId }))
    assert.deepEqual(fetched.memoryRecord?.metadata, {
      score: { numberValue: 0.5 },
      tags: { stringListValue: ['a', 'b'] },
    })
  })

  test('namespaces follow the model pattern: no dots or braces', async () => {
    await assert.rejects(
      batch(record({ namespaces: ['/users/alice.smith'] })),
      namesField('records[0].namespaces[0]'),
    )
    await assert.rejects(
      env.data.send(
        new RetrieveMemoryRecordsCommand({
          memoryId,
          namespace: '/users/{actorId}',
          searchCriteria: { searchQuery: 'anything' },
        }),
      ),
      namesField('namespace'),
    )
  })

  test('a memory strategy id filter follows the model pattern', async () => {
    await assert.rejects(
      env.data.send(
        new ListMemoryRecordsCommand({
          memoryId,
          namespace: '/model/rules',
          memoryStrategyId: 'bad strategy',
        }),
      ),
      namesField('memoryStrategyId'),
    )
  })

  test('ListMemoryRecords needs namespace or namespacePath, as the model documents', async () => {
    await assert.rejects(env.data.send(new ListMemoryRecordsCommand({ memoryId })), namesField('namespace'))
  })

  test('a malformed memory record id is a ValidationException, not a missing record', async () => {
    await assert.rejects(
      env.data.send(new GetMemoryRecordCommand({ memoryId, memoryRecordId: 'record-1' })),
      namesField('memoryRecordId'),
    )
    await assert.rejects(
      env.data.send(new GetMemoryRecordCommand({ memoryId, memoryRecordId: `mem-${'0'.repeat(36)}` })),
      ResourceNotFoundException,
    )
  })

  test('an event id has no length limit in the model: a long one is looked up and not found', async () => {
    await assert.rejects(
      env.data.send(
        new GetEventCommand({
          memoryId,
          actorId: 'model',
          sessionId: 'rules',
          eventId: `${'1'.repeat(150)}#ab`,
        }),
      ),
      ResourceNotFoundException,
    )
  })

  test("the data plane takes a memory's ARN for its id; another account's ARN is not found", async () => {
    const created = await env.data.send(
      new CreateEventCommand(event({ memoryId: memoryArn, sessionId: 'by-arn' })),
    )
    assert.equal(created.event?.memoryId, memoryId)
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'model', sessionId: 'by-arn' }),
    )
    assert.deepEqual(
      listed.events?.map((entry) => entry.eventId),
      [created.event?.eventId],
    )
    const foreign = memoryArn.replace(/:\d{12}:/, ':999999999999:')
    await assert.rejects(
      env.data.send(new CreateEventCommand(event({ memoryId: foreign, sessionId: 'by-arn' }))),
      ResourceNotFoundException,
    )
  })

  test('a payload item sets exactly one member', async () => {
    await assert.rejects(
      env.data.send(
        new CreateEventCommand(
          event({ sessionId: 'union', payload: [{ ...text('x'), blob: { b: 1 } } as never] }),
        ),
      ),
      namesField('payload[0]'),
    )
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'model', sessionId: 'union' }),
    )
    assert.deepEqual(listed.events, [])
  })

  test('enums the model adds are checked: extractionMode and the sessions filter', async () => {
    await assert.rejects(
      env.data.send(new CreateEventCommand(event({ extractionMode: 'ALWAYS' } as never))),
      namesField('extractionMode'),
    )
    await env.data.send(
      new CreateEventCommand(event({ sessionId: 'skipped', extractionMode: 'SKIP' } as never)),
    )
    await assert.rejects(
      env.data.send(
        new ListSessionsCommand({
          memoryId,
          actorId: 'model',
          filter: { eventFilter: 'SOMETIMES' },
        } as never),
      ),
      namesField('filter.eventFilter'),
    )
    const sessions = await env.data.send(
      new ListSessionsCommand({ memoryId, actorId: 'model', filter: { eventFilter: 'HAS_EVENTS' } }),
    )
    assert.ok(sessions.sessionSummaries?.some((summary) => summary.sessionId === 'skipped'))
  })

  test('a metadata key named __proto__ is checked and kept as data', async () => {
    const metadata = JSON.parse('{"__proto__":{"stringValue":"kept"}}') as Record<
      string,
      { stringValue: string }
    >
    const created = await env.data.send(new CreateEventCommand(event({ sessionId: 'proto', metadata })))
    // Read raw: the SDK's own deserializer would turn the key into a prototype.
    const response = await fetch(
      `${env.service.url}/memories/${memoryId}/actor/model/sessions/proto/events/${encodeURIComponent(created.event?.eventId as string)}`,
      {
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${TEST_CREDENTIALS.accessKeyId}/20261101/us-east-1/bedrock-agentcore/aws4_request`,
        },
      },
    )
    assert.equal(response.status, 200)
    const body = JSON.parse(await response.text()) as { event: { metadata: Record<string, unknown> } }
    assert.ok(Object.hasOwn(body.event.metadata, '__proto__'))
    assert.deepEqual(Object.getOwnPropertyDescriptor(body.event.metadata, '__proto__')?.value, {
      stringValue: 'kept',
    })
  })
})

describe('the Memory control plane follows the API model', () => {
  let env: LocalAgentCoreFixture
  before(async () => {
    env = await startLocalAgentCore()
  })
  after(() => env.close())

  test('an event expiry of 3 days, the model minimum, is accepted', async () => {
    const { memory } = await env.control.send(
      new CreateMemoryCommand({ name: 'ThreeDays', eventExpiryDuration: 3 }),
    )
    assert.equal(memory?.eventExpiryDuration, 3)
  })

  test('a client token may be 500 characters, not 501', async () => {
    const { memory } = await env.control.send(
      new CreateMemoryCommand({ name: 'LongToken', eventExpiryDuration: 30, clientToken: 't'.repeat(500) }),
    )
    assert.ok(memory?.id)
    await assert.rejects(
      env.control.send(
        new CreateMemoryCommand({
          name: 'LongerToken',
          eventExpiryDuration: 30,
          clientToken: 't'.repeat(501),
        }),
      ),
      namesField('clientToken'),
    )
  })

  test('an empty description and a strategy namespace with an unknown placeholder are refused', async () => {
    await assert.rejects(
      env.control.send(
        new CreateMemoryCommand({ name: 'NoDescription', eventExpiryDuration: 30, description: '' }),
      ),
      namesField('description'),
    )
    await assert.rejects(
      env.control.send(
        new CreateMemoryCommand({
          name: 'BadTemplate',
          eventExpiryDuration: 30,
          memoryStrategies: [
            { semanticMemoryStrategy: { name: 'facts', namespaceTemplates: ['/facts/{userId}'] } },
          ],
        }),
      ),
      namesField('memoryStrategies[0].semanticMemoryStrategy.namespaceTemplates[0]'),
    )
    const names = (await env.control.send(new ListMemoriesCommand({ maxResults: 100 }))).memories?.map(
      (memory) => memory.id,
    )
    assert.ok(!names?.some((id) => id?.startsWith('NoDescription') || id?.startsWith('BadTemplate')))
  })

  test('ListMemories without maxResults answers 10 per page, as its documentation says', async () => {
    for (let index = 0; index < 11; index++) {
      await env.control.send(new CreateMemoryCommand({ name: `Page${index}`, eventExpiryDuration: 30 }))
    }
    const page = await env.control.send(new ListMemoriesCommand({}))
    assert.equal(page.memories?.length, 10)
    assert.ok(page.nextToken)
  })
})
