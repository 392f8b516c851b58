import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  CreateEventCommand,
  type CreateEventCommandInput,
  ListEventsCommand,
  type ListEventsCommandInput,
  ValidationException,
} from '@aws-sdk/client-bedrock-agentcore'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'

type Role = 'USER' | 'ASSISTANT' | 'TOOL' | 'OTHER'
const text = (value: string, role: Role = 'USER') => ({ conversational: { content: { text: value }, role } })

describe('validation rules of the Memory data plane', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string

  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
  })
  after(() => env.close())

  const valid = (): CreateEventCommandInput => ({
    memoryId,
    actorId: 'validator',
    sessionId: 'session-v',
    eventTimestamp: new Date(),
    payload: [text('ok')],
  })

  /** Sends a CreateEvent expected to fail on `field`, then checks nothing was stored. */
  async function rejectsCreate(input: CreateEventCommandInput, field: string) {
    await assert.rejects(env.data.send(new CreateEventCommand(input)), (error: unknown) => {
      assert.ok(error instanceof ValidationException, `expected ValidationException, got ${String(error)}`)
      assert.equal(error.$metadata.httpStatusCode, 400)
      assert.ok(error.message.includes(field), `message "${error.message}" should name ${field}`)
      assert.ok(
        error.fieldList?.some((entry) => entry.name === field),
        `fieldList should name ${field}`,
      )
      return true
    })
    if (typeof input.actorId === 'string' && typeof input.sessionId === 'string') {
      const actorOk = /^[a-zA-Z0-9][a-zA-Z0-9_/:-]*$/.test(input.actorId) && input.actorId.length <= 255
      const sessionOk = /^[a-zA-Z0-9][a-zA-Z0-9_-]*$/.test(input.sessionId) && input.sessionId.length <= 100
      if (actorOk && sessionOk) {
        const listed = await env.data.send(
          new ListEventsCommand({ memoryId, actorId: input.actorId, sessionId: input.sessionId }),
        )
        assert.deepEqual(listed.events, [], 'a rejected request must store nothing')
      }
    }
  }

  const cases: [string, Partial<CreateEventCommandInput> & Record<string, unknown>, string][] = [
    ['actorId with a space', { actorId: 'bad actor' }, 'actorId'],
    ['actorId of 256 characters', { actorId: 'a'.repeat(256) }, 'actorId'],
    ['actorId starting with a dash', { actorId: '-actor' }, 'actorId'],
    ['sessionId with @', { sessionId: 'a@b' }, 'sessionId'],
    ['sessionId with a dot', { sessionId: 'a.b' }, 'sessionId'],
    ['sessionId with a colon', { sessionId: 'a:b' }, 'sessionId'],
    ['sessionId of 101 characters', { sessionId: 's'.repeat(101) }, 'sessionId'],
    ['empty conversational text', { payload: [text('')] }, 'payload[0].conversational.content.text'],
    [
      'text over 100,000 characters',
      { payload: [text('x'.repeat(100_001))] },
      'payload[0].conversational.content.text',
    ],
    ['an unknown role', { payload: [text('x', 'SYSTEM' as Role)] }, 'payload[0].conversational.role'],
    ['101 payload items', { payload: Array.from({ length: 101 }, () => text('x')) }, 'payload'],
    [
      'sixteen metadata keys',
      {
        metadata: Object.fromEntries(
          Array.from({ length: 16 }, (_, index) => [`k${index}`, { stringValue: 'v' }]),
        ),
      },
      'metadata',
    ],
    [
      'a metadata value of 257 characters',
      { metadata: { key: { stringValue: 'v'.repeat(257) } } },
      'metadata.key.stringValue',
    ],
    [
      'a metadata value with a forbidden character',
      { metadata: { key: { stringValue: 'a;b' } } },
      'metadata.key.stringValue',
    ],
    ['a timestamp after the year 9999', { eventTimestamp: new Date(8.64e15) }, 'eventTimestamp'],
    ['a json payload without content', { payload: [{ json: {} }] as never }, 'payload[0].json.content'],
    ['a branch name with a space', { branch: { name: 'bad branch' } }, 'branch.name'],
    [
      'a malformed root event id',
      { branch: { name: 'alt', rootEventId: 'not-an-event' } },
      'branch.rootEventId',
    ],
  ]
  for (const [name, change, field] of cases) {
    test(`CreateEvent refuses ${name}, naming ${field}`, async () => {
      await rejectsCreate({ ...valid(), ...change } as CreateEventCommandInput, field)
    })
  }

  test('CreateEvent names every invalid field at once', async () => {
    await assert.rejects(
      env.data.send(new CreateEventCommand({ ...valid(), actorId: 'bad actor', sessionId: 'a@b' })),
      (error: unknown) =>
        error instanceof ValidationException &&
        error.fieldList?.map((entry) => entry.name).join(',') === 'actorId,sessionId',
    )
  })

  test('CreateEvent refuses a malformed memory id before looking it up', async () => {
    await assert.rejects(
      env.data.send(new CreateEventCommand({ ...valid(), memoryId: 'nosuffix' })),
      (error: unknown) => error instanceof ValidationException && error.message.includes('memoryId'),
    )
  })

  const listCases: [string, Partial<ListEventsCommandInput>, string][] = [
    ['maxResults of 0', { maxResults: 0 }, 'maxResults'],
    ['maxResults of 101', { maxResults: 101 }, 'maxResults'],
    ['a forged nextToken', { nextToken: 'forged' }, 'nextToken'],
    [
      'six metadata filters',
      {
        filter: {
          eventMetadata: Array.from({ length: 6 }, () => ({
            left: { metadataKey: 'k' },
            operator: 'EXISTS' as const,
          })),
        },
      },
      'filter.eventMetadata',
    ],
    [
      'EQUALS_TO without a value',
      { filter: { eventMetadata: [{ left: { metadataKey: 'k' }, operator: 'EQUALS_TO' }] } },
      'filter.eventMetadata[0].right',
    ],
  ]
  for (const [name, change, field] of listCases) {
    test(`ListEvents refuses ${name}, naming ${field}`, async () => {
      await assert.rejects(
        env.data.send(
          new ListEventsCommand({ memoryId, actorId: 'validator', sessionId: 'session-v', ...change }),
        ),
        (error: unknown) => error instanceof ValidationException && error.message.includes(field),
      )
    })
  }

  test('a nextToken from another session is refused', async () => {
    for (let index = 0; index < 3; index++) {
      await env.data.send(new CreateEventCommand({ ...valid(), sessionId: 'token-owner' }))
    }
    const page = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'validator', sessionId: 'token-owner', maxResults: 1 }),
    )
    assert.ok(page.nextToken)
    await assert.rejects(
      env.data.send(
        new ListEventsCommand({
          memoryId,
          actorId: 'validator',
          sessionId: 'other',
          nextToken: page.nextToken,
        }),
      ),
      ValidationException,
    )
  })
})

describe('clientToken makes CreateEvent idempotent', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
  })
  after(() => env.close())

  test('the same token and body return the first event and store one event', async () => {
    const input: CreateEventCommandInput = {
      memoryId,
      actorId: 'idem',
      sessionId: 'session-i',
      eventTimestamp: new Date('2026-11-01T00:00:00Z'),
      payload: [text('once')],
      clientToken: 'token-0001',
    }
    const first = await env.data.send(new CreateEventCommand(input))
    const second = await env.data.send(new CreateEventCommand(input))
    assert.equal(second.event?.eventId, first.event?.eventId)
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'idem', sessionId: 'session-i' }),
    )
    assert.equal(listed.events?.length, 1)
  })

  test('the same token with another body is refused as an idempotency mismatch and stores nothing new', async () => {
    await assert.rejects(
      env.data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'idem',
          sessionId: 'session-i',
          eventTimestamp: new Date('2026-11-01T00:00:00Z'),
          payload: [text('different')],
          clientToken: 'token-0001',
        }),
      ),
      (error: unknown) =>
        error instanceof ValidationException &&
        error.reason === 'IdempotentParameterMismatchException' &&
        error.message.includes('clientToken'),
    )
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'idem', sessionId: 'session-i' }),
    )
    assert.equal(listed.events?.length, 1)
  })

  test('a lost response retried by the SDK still stores exactly one event', async () => {
    env.service.faults.set({ CreateEvent: { loseResponseNext: 1 } })
    const result = await env.data.send(
      new CreateEventCommand({
        memoryId,
        actorId: 'idem',
        sessionId: 'session-lost',
        eventTimestamp: new Date(),
        payload: [text('acknowledged late')],
      }),
    )
    assert.ok(result.event?.eventId)
    assert.equal(result.$metadata.attempts, 2)
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'idem', sessionId: 'session-lost' }),
    )
    assert.equal(listed.events?.length, 1)
    assert.equal(listed.events?.[0]?.eventId, result.event?.eventId)
  })
})
