import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  ResourceNotFoundException as DataNotFound,
  ValidationException as DataValidation,
  DeleteMemoryRecordCommand,
  GetMemoryRecordCommand,
  ListMemoryRecordsCommand,
  RetrieveMemoryRecordsCommand,
} from '@aws-sdk/client-bedrock-agentcore'
import {
  ConflictException,
  CreateMemoryCommand,
  DeleteMemoryCommand,
  GetMemoryCommand,
  ListMemoriesCommand,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock-agentcore-control'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'

describe('control plane through the AWS SDK control client', () => {
  let env: LocalAgentCoreFixture
  before(async () => {
    env = await startLocalAgentCore()
  })
  after(() => env.close())

  test('CreateMemory returns an ACTIVE memory with an id in the real format and its strategies', async () => {
    const { memory } = await env.control.send(
      new CreateMemoryCommand({
        name: 'TrainingAgentMemory',
        eventExpiryDuration: 90,
        description: 'for tests',
        memoryStrategies: [{ semanticMemoryStrategy: { name: 'facts', namespaces: ['/facts/{actorId}'] } }],
      }),
    )
    assert.match(memory?.id ?? '', /^[a-zA-Z][a-zA-Z0-9-_]{0,99}-[a-zA-Z0-9]{10}$/)
    assert.ok(memory?.id?.startsWith('TrainingAgentMemory-'))
    assert.equal(memory?.status, 'ACTIVE')
    assert.equal(memory?.eventExpiryDuration, 90)
    assert.match(memory?.arn ?? '', /^arn:aws:bedrock-agentcore:us-east-1:\d{12}:memory\//)
    assert.equal(memory?.strategies?.[0]?.type, 'SEMANTIC')
    assert.deepEqual(memory?.strategies?.[0]?.namespaces, ['/facts/{actorId}'])
    const fetched = await env.control.send(new GetMemoryCommand({ memoryId: memory?.id as string }))
    assert.equal(fetched.memory?.name, 'TrainingAgentMemory')
    assert.ok(fetched.memory?.createdAt instanceof Date)
  })

  test('CreateMemory with the same clientToken returns the same memory once', async () => {
    const input = { name: 'IdempotentMemory', eventExpiryDuration: 30, clientToken: 'create-memory-token-1' }
    const first = await env.control.send(new CreateMemoryCommand(input))
    const second = await env.control.send(new CreateMemoryCommand(input))
    assert.equal(second.memory?.id, first.memory?.id)
  })

  test('CreateMemory refuses a bad name and an expiry outside 3..365, naming the field', async () => {
    await assert.rejects(
      env.control.send(new CreateMemoryCommand({ name: '1bad-name', eventExpiryDuration: 30 })),
      (error: unknown) => error instanceof ValidationException && error.message.includes('name'),
    )
    await assert.rejects(
      env.control.send(new CreateMemoryCommand({ name: 'ShortLived', eventExpiryDuration: 2 })),
      (error: unknown) =>
        error instanceof ValidationException && error.message.includes('eventExpiryDuration'),
    )
    const names =
      (await env.control.send(new ListMemoriesCommand({}))).memories?.map((memory) => memory.id) ?? []
    assert.ok(!names.some((id) => id?.startsWith('ShortLived')))
  })

  test('CreateMemory with a reused clientToken and other parameters is refused', async () => {
    await env.control.send(
      new CreateMemoryCommand({ name: 'TokenOwner', eventExpiryDuration: 30, clientToken: 'memory-token-2' }),
    )
    await assert.rejects(
      env.control.send(
        new CreateMemoryCommand({ name: 'Other', eventExpiryDuration: 90, clientToken: 'memory-token-2' }),
      ),
      (error: unknown) =>
        error instanceof ValidationException && error.reason === 'IdempotentParameterMismatchException',
    )
  })

  test('DeleteMemory retried after a lost response answers as the first call did', async () => {
    const { memory } = await env.control.send(
      new CreateMemoryCommand({ name: 'DeletedOnce', eventExpiryDuration: 30 }),
    )
    env.service.faults.set({ DeleteMemory: { loseResponseNext: 1 } })
    const deleted = await env.control.send(new DeleteMemoryCommand({ memoryId: memory?.id as string }))
    assert.equal(deleted.status, 'DELETING')
    assert.equal(deleted.$metadata.attempts, 2)
    await assert.rejects(
      env.control.send(new GetMemoryCommand({ memoryId: memory?.id as string })),
      ResourceNotFoundException,
    )
  })

  test('CreateMemory refuses a duplicate name', async () => {
    await env.control.send(new CreateMemoryCommand({ name: 'Duplicate', eventExpiryDuration: 30 }))
    await assert.rejects(
      env.control.send(new CreateMemoryCommand({ name: 'Duplicate', eventExpiryDuration: 30 })),
      ConflictException,
    )
  })

  test('ListMemories pages and DeleteMemory removes a memory', async () => {
    for (let index = 0; index < 3; index++) {
      await env.control.send(new CreateMemoryCommand({ name: `Paged${index}`, eventExpiryDuration: 30 }))
    }
    const ids: string[] = []
    let nextToken: string | undefined
    do {
      const page = await env.control.send(
        new ListMemoriesCommand({ maxResults: 2, ...(nextToken ? { nextToken } : {}) }),
      )
      for (const memory of page.memories ?? []) ids.push(memory.id as string)
      nextToken = page.nextToken
    } while (nextToken)
    const paged = ids.filter((id) => id.startsWith('Paged'))
    assert.equal(paged.length, 3)
    const deleted = await env.control.send(new DeleteMemoryCommand({ memoryId: paged[0] as string }))
    assert.equal(deleted.status, 'DELETING')
    await assert.rejects(
      env.control.send(new GetMemoryCommand({ memoryId: paged[0] as string })),
      ResourceNotFoundException,
    )
  })
})

describe('long-term memory records', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
    const result = await env.seedRecords(memoryId, [
      {
        id: 'r1',
        namespace: '/users/alice/preferences',
        text: 'Alice prefers dark mode and concise answers',
      },
      {
        id: 'r2',
        namespace: '/users/alice/preferences',
        text: 'Alice trains image classification models with PyTorch',
      },
      { id: 'r3', namespace: '/users/alice/facts', text: 'Alice lives in Lisbon' },
      { id: 'r4', namespace: '/users/bob/preferences', text: 'Bob prefers dark mode too' },
    ])
    assert.equal(result.successfulRecords?.length, 4)
    assert.deepEqual(result.failedRecords, [])
  })
  after(() => env.close())

  test('RetrieveMemoryRecords ranks by a relevance score in [0, 1] within the namespace', async () => {
    const result = await env.data.send(
      new RetrieveMemoryRecordsCommand({
        memoryId,
        namespacePath: '/users/alice',
        searchCriteria: { searchQuery: 'which display mode does she prefer?', topK: 5 },
      }),
    )
    const summaries = result.memoryRecordSummaries ?? []
    assert.ok(summaries.length >= 1)
    assert.equal(summaries[0]?.content?.text, 'Alice prefers dark mode and concise answers')
    for (const summary of summaries) {
      assert.ok((summary.score ?? -1) > 0 && (summary.score ?? 2) <= 1)
      assert.ok(summary.namespaces?.[0]?.startsWith('/users/alice'))
    }
    const scores = summaries.map((summary) => summary.score as number)
    assert.deepEqual(
      scores,
      [...scores].sort((a, b) => b - a),
    )
  })

  test('namespace selects one namespace exactly; namespacePath a subtree, never a name prefix', async () => {
    const search = async (selector: { namespace?: string; namespacePath?: string }) =>
      (
        await env.data.send(
          new RetrieveMemoryRecordsCommand({
            memoryId,
            ...selector,
            searchCriteria: { searchQuery: 'dark mode' },
          }),
        )
      ).memoryRecordSummaries?.map((summary) => summary.namespaces?.[0])
    assert.deepEqual(await search({ namespace: '/users/alice/preferences' }), ['/users/alice/preferences'])
    assert.deepEqual(await search({ namespace: '/users/al' }), [])
    assert.deepEqual(await search({ namespacePath: '/users/al' }), [])
    assert.deepEqual((await search({ namespacePath: '/users' }))?.sort(), [
      '/users/alice/preferences',
      '/users/bob/preferences',
    ])
    await assert.rejects(
      env.data.send(
        new RetrieveMemoryRecordsCommand({ memoryId, searchCriteria: { searchQuery: 'dark mode' } }),
      ),
      (error: unknown) => error instanceof DataValidation && error.message.includes('namespace'),
    )
  })

  test('BatchCreateMemoryRecords with a lost response stores each record once', async () => {
    env.service.faults.set({ BatchCreateMemoryRecords: { loseResponseNext: 1 } })
    const result = await env.seedRecords(memoryId, [
      { id: 'once', namespace: '/retry/once', text: 'stored once' },
    ])
    assert.equal(result.$metadata.attempts, 2)
    const listed = await env.data.send(new ListMemoryRecordsCommand({ memoryId, namespace: '/retry/once' }))
    assert.equal(listed.memoryRecordSummaries?.length, 1)
    assert.equal(
      listed.memoryRecordSummaries?.[0]?.memoryRecordId,
      result.successfulRecords?.[0]?.memoryRecordId,
    )
  })

  test('topK limits the results and an unrelated query finds nothing', async () => {
    const limited = await env.data.send(
      new RetrieveMemoryRecordsCommand({
        memoryId,
        namespacePath: '/users',
        searchCriteria: { searchQuery: 'dark mode preferences', topK: 1 },
      }),
    )
    assert.equal(limited.memoryRecordSummaries?.length, 1)
    const none = await env.data.send(
      new RetrieveMemoryRecordsCommand({
        memoryId,
        namespace: '/users',
        searchCriteria: { searchQuery: 'quantum chromodynamics' },
      }),
    )
    assert.deepEqual(none.memoryRecordSummaries, [])
  })

  test('ListMemoryRecords filters by namespace; Get and Delete work on one record', async () => {
    const listed = await env.data.send(
      new ListMemoryRecordsCommand({ memoryId, namespace: '/users/alice/preferences' }),
    )
    assert.equal(listed.memoryRecordSummaries?.length, 2)
    const recordId = listed.memoryRecordSummaries?.[0]?.memoryRecordId as string
    const fetched = await env.data.send(new GetMemoryRecordCommand({ memoryId, memoryRecordId: recordId }))
    assert.equal(fetched.memoryRecord?.memoryRecordId, recordId)
    await env.data.send(new DeleteMemoryRecordCommand({ memoryId, memoryRecordId: recordId }))
    await assert.rejects(
      env.data.send(new GetMemoryRecordCommand({ memoryId, memoryRecordId: recordId })),
      DataNotFound,
    )
  })

  test('BatchCreateMemoryRecords with one bad record stores none', async () => {
    const before = (
      await env.data.send(new ListMemoryRecordsCommand({ memoryId, namespacePath: '/', maxResults: 100 }))
    ).memoryRecordSummaries?.length
    await assert.rejects(
      env.seedRecords(memoryId, [
        { id: 'ok', namespace: '/n', text: 'fine' },
        { id: 'bad', namespace: '/n', text: '' },
      ]),
      (error: unknown) =>
        error instanceof DataValidation && error.message.includes('records[1].content.text'),
    )
    const afterCount = (
      await env.data.send(new ListMemoryRecordsCommand({ memoryId, namespacePath: '/', maxResults: 100 }))
    ).memoryRecordSummaries?.length
    assert.equal(afterCount, before)
  })

  test('record metadata filters are refused by name, never silently ignored', async () => {
    await assert.rejects(
      env.data.send(
        new ListMemoryRecordsCommand({
          memoryId,
          namespace: '/users/alice/preferences',
          metadataFilters: [{ left: { metadataKey: 'topic' }, operator: 'EXISTS' }],
        }),
      ),
      (error: unknown) => error instanceof DataValidation && error.message.includes('metadataFilters'),
    )
  })

  test('RetrieveMemoryRecords requires a search query', async () => {
    await assert.rejects(
      env.data.send(
        new RetrieveMemoryRecordsCommand({
          memoryId,
          namespace: '/users',
          searchCriteria: { searchQuery: '' },
        }),
      ),
      (error: unknown) =>
        error instanceof DataValidation && error.message.includes('searchCriteria.searchQuery'),
    )
  })
})
