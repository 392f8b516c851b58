import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  type BedrockAgentCoreClient,
  CreateEventCommand,
  DeleteEventCommand,
  GetEventCommand,
  ListActorsCommand,
  ListEventsCommand,
  ListSessionsCommand,
  paginateListEvents,
  ResourceNotFoundException,
  ValidationException,
} from '@aws-sdk/client-bedrock-agentcore'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'

type Role = 'USER' | 'ASSISTANT' | 'TOOL' | 'OTHER'
const text = (value: string, role: Role = 'USER') => ({ conversational: { content: { text: value }, role } })

describe('Memory events through the AWS SDK client', () => {
  let env: LocalAgentCoreFixture
  let data: BedrockAgentCoreClient
  let memoryId: string

  before(async () => {
    env = await startLocalAgentCore()
    data = env.data
    memoryId = await env.createMemory()
  })
  after(() => env.close())

  test('CreateEvent stores payload, branch and metadata and GetEvent returns them', async () => {
    const timestamp = new Date('2026-11-01T10:00:00.123Z')
    const created = await data.send(
      new CreateEventCommand({
        memoryId,
        actorId: 'user:alice',
        sessionId: 'session-get',
        eventTimestamp: timestamp,
        payload: [
          text('hello'),
          { blob: { stateType: 'SESSION', n: 1 } },
          { json: { content: { k: [1, 2] } } },
        ],
        metadata: { stateType: { stringValue: 'SESSION' } },
      }),
    )
    const event = created.event
    assert.ok(event?.eventId)
    assert.match(event.eventId, /^[0-9]+#[a-fA-F0-9]+$/)
    assert.equal(event.eventTimestamp?.getTime(), timestamp.getTime())
    const fetched = await data.send(
      new GetEventCommand({
        memoryId,
        actorId: 'user:alice',
        sessionId: 'session-get',
        eventId: event.eventId,
      }),
    )
    assert.deepEqual(fetched.event?.payload, [
      text('hello'),
      { blob: { stateType: 'SESSION', n: 1 } },
      { json: { content: { k: [1, 2] } } },
    ])
    assert.deepEqual(fetched.event?.metadata, { stateType: { stringValue: 'SESSION' } })
    assert.equal(fetched.event?.eventTimestamp?.getTime(), timestamp.getTime())
  })

  test('ListEvents pages over 1,200 events newest first with no gap or repeat', async () => {
    const sessionId = 'session-paging'
    const base = Date.UTC(2026, 10, 1)
    for (let index = 0; index < 1200; index++) {
      await data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'pager',
          sessionId,
          eventTimestamp: new Date(base + index * 1000),
          payload: [text(`message ${index}`)],
        }),
      )
    }
    const seen: string[] = []
    let pages = 0
    for await (const page of paginateListEvents(
      { client: data, pageSize: 100 },
      { memoryId, actorId: 'pager', sessionId, maxResults: 100 },
    )) {
      pages += 1
      for (const event of page.events ?? []) {
        const payload = event.payload?.[0]
        seen.push(payload && 'conversational' in payload ? (payload.conversational?.content?.text ?? '') : '')
      }
    }
    assert.equal(pages, 12)
    assert.equal(seen.length, 1200)
    assert.deepEqual(
      seen,
      Array.from({ length: 1200 }, (_, index) => `message ${1199 - index}`),
    )
  })

  test('events with the same timestamp list in reverse insertion order', async () => {
    const at = new Date('2026-11-02T00:00:00Z')
    for (const value of ['first', 'second', 'third']) {
      await data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'tie',
          sessionId: 'same-time',
          eventTimestamp: at,
          payload: [text(value)],
        }),
      )
    }
    const listed = await data.send(
      new ListEventsCommand({ memoryId, actorId: 'tie', sessionId: 'same-time' }),
    )
    const texts = listed.events?.map((event) => {
      const payload = event.payload?.[0]
      return payload && 'conversational' in payload ? payload.conversational?.content?.text : undefined
    })
    assert.deepEqual(texts, ['third', 'second', 'first'])
  })

  test('ListEvents without payloads returns ids and empty payloads', async () => {
    const listed = await data.send(
      new ListEventsCommand({ memoryId, actorId: 'tie', sessionId: 'same-time', includePayloads: false }),
    )
    assert.equal(listed.events?.length, 3)
    for (const event of listed.events ?? []) assert.deepEqual(event.payload, [])
  })

  test('metadata filters EQUALS_TO, EXISTS and NOT_EXISTS select the right events', async () => {
    const sessionId = 'session-metadata'
    const write = (value: string, metadata?: Record<string, { stringValue: string }>) =>
      data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'meta',
          sessionId,
          eventTimestamp: new Date(),
          payload: [text(value)],
          ...(metadata ? { metadata } : {}),
        }),
      )
    await write('plain')
    await write('agent-a', { stateType: { stringValue: 'AGENT' }, agentId: { stringValue: 'a' } })
    await write('agent-b', { stateType: { stringValue: 'AGENT' }, agentId: { stringValue: 'b' } })
    await write('session', { stateType: { stringValue: 'SESSION' } })
    const list = async (
      eventMetadata: NonNullable<
        ConstructorParameters<typeof ListEventsCommand>[0]['filter']
      >['eventMetadata'],
    ) => {
      const result = await data.send(
        new ListEventsCommand({ memoryId, actorId: 'meta', sessionId, filter: { eventMetadata } }),
      )
      return (result.events ?? []).map((event) => {
        const payload = event.payload?.[0]
        return payload && 'conversational' in payload ? payload.conversational?.content?.text : undefined
      })
    }
    assert.deepEqual(
      await list([
        {
          left: { metadataKey: 'stateType' },
          operator: 'EQUALS_TO',
          right: { metadataValue: { stringValue: 'AGENT' } },
        },
        {
          left: { metadataKey: 'agentId' },
          operator: 'EQUALS_TO',
          right: { metadataValue: { stringValue: 'b' } },
        },
      ]),
      ['agent-b'],
    )
    assert.deepEqual(await list([{ left: { metadataKey: 'stateType' }, operator: 'EXISTS' }]), [
      'session',
      'agent-b',
      'agent-a',
    ])
    assert.deepEqual(await list([{ left: { metadataKey: 'stateType' }, operator: 'NOT_EXISTS' }]), ['plain'])
    assert.deepEqual(await list([{ left: { metadataKey: 'constructor' }, operator: 'EXISTS' }]), [])
  })

  test('a filtered listing pages correctly when most events do not match', async () => {
    const sessionId = 'session-sparse'
    for (let index = 0; index < 700; index++) {
      await data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'sparse',
          sessionId,
          eventTimestamp: new Date(Date.UTC(2026, 0, 1) + index),
          payload: [text(`m${index}`)],
          ...(index % 100 === 0 ? { metadata: { mark: { stringValue: 'yes' } } } : {}),
        }),
      )
    }
    const found: string[] = []
    let nextToken: string | undefined
    do {
      const page = await data.send(
        new ListEventsCommand({
          memoryId,
          actorId: 'sparse',
          sessionId,
          maxResults: 2,
          filter: { eventMetadata: [{ left: { metadataKey: 'mark' }, operator: 'EXISTS' }] },
          ...(nextToken ? { nextToken } : {}),
        }),
      )
      for (const event of page.events ?? []) found.push(event.eventId as string)
      nextToken = page.nextToken
    } while (nextToken)
    assert.equal(found.length, 7)
    assert.equal(new Set(found).size, 7)
  })

  test('branch filter returns a branch alone or, by default, with its parent up to the fork', async () => {
    const sessionId = 'session-branch'
    const write = async (value: string, at: number, branch?: { name: string; rootEventId?: string }) =>
      (
        await data.send(
          new CreateEventCommand({
            memoryId,
            actorId: 'brancher',
            sessionId,
            eventTimestamp: new Date(at),
            payload: [text(value)],
            ...(branch ? { branch } : {}),
          }),
        )
      ).event?.eventId as string
    const base = Date.UTC(2026, 5, 1)
    await write('main-1', base)
    const fork = await write('main-2', base + 1000)
    await write('main-3', base + 2000)
    await write('alt-1', base + 3000, { name: 'alt', rootEventId: fork })
    await write('alt-2', base + 4000, { name: 'alt' })
    const texts = async (branch: { name: string; includeParentBranches?: boolean }) => {
      const result = await data.send(
        new ListEventsCommand({ memoryId, actorId: 'brancher', sessionId, filter: { branch } }),
      )
      return (result.events ?? []).map((event) => {
        const payload = event.payload?.[0]
        return payload && 'conversational' in payload ? payload.conversational?.content?.text : undefined
      })
    }
    assert.deepEqual(await texts({ name: 'alt', includeParentBranches: false }), ['alt-2', 'alt-1'])
    assert.deepEqual(await texts({ name: 'alt', includeParentBranches: true }), [
      'alt-2',
      'alt-1',
      'main-2',
      'main-1',
    ])
    // The model's default for includeParentBranches is true.
    assert.deepEqual(await texts({ name: 'alt' }), ['alt-2', 'alt-1', 'main-2', 'main-1'])
    assert.deepEqual(await texts({ name: 'main' }), ['main-3', 'main-2', 'main-1'])
  })

  test('starting a branch without a root event is refused and stores nothing', async () => {
    await assert.rejects(
      data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'brancher',
          sessionId: 'session-no-root',
          eventTimestamp: new Date(),
          payload: [text('orphan')],
          branch: { name: 'fresh' },
        }),
      ),
      (error: unknown) => error instanceof ValidationException && /branch\.rootEventId/.test(error.message),
    )
    const listed = await data.send(
      new ListEventsCommand({ memoryId, actorId: 'brancher', sessionId: 'session-no-root' }),
    )
    assert.deepEqual(listed.events, [])
  })

  test('DeleteEvent removes the event; deleting it again is ResourceNotFound', async () => {
    const created = await data.send(
      new CreateEventCommand({
        memoryId,
        actorId: 'deleter',
        sessionId: 'gone',
        eventTimestamp: new Date(),
        payload: [text('bye')],
      }),
    )
    const eventId = created.event?.eventId as string
    const deleted = await data.send(
      new DeleteEventCommand({ memoryId, actorId: 'deleter', sessionId: 'gone', eventId }),
    )
    assert.equal(deleted.eventId, eventId)
    await assert.rejects(
      data.send(new GetEventCommand({ memoryId, actorId: 'deleter', sessionId: 'gone', eventId })),
      ResourceNotFoundException,
    )
    await assert.rejects(
      data.send(new DeleteEventCommand({ memoryId, actorId: 'deleter', sessionId: 'gone', eventId })),
      ResourceNotFoundException,
    )
  })

  test('ListSessions and ListActors page through what was written', async () => {
    for (let index = 0; index < 5; index++) {
      await data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'many-sessions',
          sessionId: `s-${index}`,
          eventTimestamp: new Date(),
          payload: [text('x')],
        }),
      )
    }
    const sessions: string[] = []
    let nextToken: string | undefined
    do {
      const page = await data.send(
        new ListSessionsCommand({
          memoryId,
          actorId: 'many-sessions',
          maxResults: 2,
          ...(nextToken ? { nextToken } : {}),
        }),
      )
      for (const summary of page.sessionSummaries ?? []) {
        assert.equal(summary.actorId, 'many-sessions')
        assert.ok(summary.createdAt instanceof Date)
        sessions.push(summary.sessionId as string)
      }
      nextToken = page.nextToken
    } while (nextToken)
    assert.deepEqual([...sessions].sort(), ['s-0', 's-1', 's-2', 's-3', 's-4'])
    const actors = await data.send(new ListActorsCommand({ memoryId, maxResults: 100 }))
    const actorIds = (actors.actorSummaries ?? []).map((summary) => summary.actorId)
    assert.ok(actorIds.includes('many-sessions'))
    assert.ok(actorIds.includes('user:alice'))
  })

  test('ListSessions pages continue from the last session even when sessions are added between pages', async () => {
    const write = (sessionId: string) =>
      data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'stable',
          sessionId,
          eventTimestamp: new Date(),
          payload: [text('x')],
        }),
      )
    for (const sessionId of ['s1', 's2', 's3', 's4']) await write(sessionId)
    const first = await data.send(new ListSessionsCommand({ memoryId, actorId: 'stable', maxResults: 2 }))
    await write('s5')
    const second = await data.send(
      new ListSessionsCommand({
        memoryId,
        actorId: 'stable',
        maxResults: 2,
        nextToken: first.nextToken as string,
      }),
    )
    const seen = [...(first.sessionSummaries ?? []), ...(second.sessionSummaries ?? [])].map(
      (summary) => summary.sessionId,
    )
    assert.equal(new Set(seen).size, 4, `no session repeats: ${seen.join(',')}`)
    assert.ok(!seen.includes('s5'), 'a session added after page one sorts before the cursor')
  })

  test('an unknown memory is ResourceNotFound', async () => {
    await assert.rejects(
      data.send(
        new CreateEventCommand({
          memoryId: 'missing-AAAAAAAAAA',
          actorId: 'a',
          sessionId: 's',
          eventTimestamp: new Date(),
          payload: [text('x')],
        }),
      ),
      ResourceNotFoundException,
    )
  })
})
