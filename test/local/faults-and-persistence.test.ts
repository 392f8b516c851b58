import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import {
  BedrockAgentCoreClient,
  CreateEventCommand,
  InternalServerException,
  ListEventsCommand,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-agentcore'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import { seededRandom, SqliteMemoryStore } from '../../src/local/index.ts'
import { startLocalAgentCore, TEST_CREDENTIALS } from '../helpers/local-agentcore.ts'

const text = (value: string) => ({ conversational: { content: { text: value }, role: 'USER' as const } })

describe('injected faults', () => {
  test('throttling surfaces as ThrottlingException after the SDK standard retries, storing nothing', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    env.service.faults.set({ CreateEvent: { throttleRate: 1 } })
    const client = new BedrockAgentCoreClient({ ...env.clientConfig, maxAttempts: 3, retryMode: 'standard' })
    try {
      await assert.rejects(
        client.send(
          new CreateEventCommand({
            memoryId,
            actorId: 'a',
            sessionId: 's',
            eventTimestamp: new Date(),
            payload: [text('x')],
          }),
        ),
        (error: unknown) => {
          assert.ok(error instanceof ThrottlingException)
          assert.equal(error.$metadata.httpStatusCode, 429)
          assert.equal(error.$metadata.attempts, 3)
          return true
        },
      )
    } finally {
      client.destroy()
    }
    assert.equal(env.service.faults.counts().CreateEvent?.throttled, 3)
    env.service.faults.set({})
    const listed = await env.data.send(new ListEventsCommand({ memoryId, actorId: 'a', sessionId: 's' }))
    assert.deepEqual(listed.events, [])
  })

  test('throttling and server errors for the first attempts are retried by the SDK and succeed once', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    env.service.faults.set({ CreateEvent: { throttleNext: 1, errorNext: 1 } })
    const result = await env.data.send(
      new CreateEventCommand({
        memoryId,
        actorId: 'a',
        sessionId: 's',
        eventTimestamp: new Date(),
        payload: [text('x')],
      }),
    )
    assert.equal(result.$metadata.attempts, 3)
    const counts = env.service.faults.counts().CreateEvent
    assert.deepEqual(counts, { calls: 3, throttled: 1, failed: 1, responsesLost: 0 })
    const listed = await env.data.send(new ListEventsCommand({ memoryId, actorId: 'a', sessionId: 's' }))
    assert.equal(listed.events?.length, 1)
  })

  test('a server error that outlasts the retries surfaces as InternalServerException', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    env.service.faults.set({ '*': { errorRate: 1 } })
    await assert.rejects(
      env.data.send(new ListEventsCommand({ memoryId, actorId: 'a', sessionId: 's' })),
      InternalServerException,
    )
  })

  test('a seeded throttling rate of 30% loses and duplicates nothing over 200 writes', async (t) => {
    const env = await startLocalAgentCore({ random: seededRandom(7) })
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    env.service.faults.set({ CreateEvent: { throttleRate: 0.3, loseResponseRate: 0.1 } })
    // Short fixed backoff: this test is about correctness under faults, not about waiting.
    const client = new BedrockAgentCoreClient({
      ...env.clientConfig,
      retryStrategy: new ConfiguredRetryStrategy(10, () => 5),
    })
    try {
      for (let index = 0; index < 200; index++) {
        await client.send(
          new CreateEventCommand({
            memoryId,
            actorId: 'a',
            sessionId: 'rate',
            eventTimestamp: new Date(Date.UTC(2026, 0, 1) + index),
            payload: [text(`m${index}`)],
          }),
        )
      }
    } finally {
      client.destroy()
    }
    const counts = env.service.faults.counts().CreateEvent
    assert.ok((counts?.throttled ?? 0) > 20, 'faults were injected')
    assert.ok((counts?.responsesLost ?? 0) > 5, 'responses were lost')
    env.service.faults.set({})
    const texts: string[] = []
    let nextToken: string | undefined
    do {
      const page = await env.data.send(
        new ListEventsCommand({
          memoryId,
          actorId: 'a',
          sessionId: 'rate',
          maxResults: 100,
          ...(nextToken ? { nextToken } : {}),
        }),
      )
      for (const event of page.events ?? []) {
        const payload = event.payload?.[0]
        texts.push(
          payload && 'conversational' in payload ? (payload.conversational?.content?.text ?? '') : '',
        )
      }
      nextToken = page.nextToken
    } while (nextToken)
    assert.deepEqual(
      texts.reverse(),
      Array.from({ length: 200 }, (_, index) => `m${index}`),
    )
  })

  test('added latency delays the answer without failing it', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    env.service.faults.set({ ListEvents: { latencyMs: 50 } })
    const listed = await env.data.send(new ListEventsCommand({ memoryId, actorId: 'a', sessionId: 's' }))
    assert.deepEqual(listed.events, [])
    assert.equal(env.service.faults.counts().ListEvents?.calls, 1)
  })
})

describe('persistence', () => {
  test('memories and events survive a restart of the service on the same data directory', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'longrun-local-'))
    try {
      let memoryId: string
      let eventId: string | undefined
      {
        const env = await startLocalAgentCore({ dataDir })
        memoryId = await env.createMemory('Persistent')
        const created = await env.data.send(
          new CreateEventCommand({
            memoryId,
            actorId: 'p',
            sessionId: 's',
            eventTimestamp: new Date(),
            payload: [text('kept')],
            clientToken: 'persisted-token',
          }),
        )
        eventId = created.event?.eventId
        await env.close()
      }
      {
        const env = await startLocalAgentCore({ dataDir })
        const listed = await env.data.send(new ListEventsCommand({ memoryId, actorId: 'p', sessionId: 's' }))
        assert.equal(listed.events?.length, 1)
        assert.equal(listed.events?.[0]?.eventId, eventId)
        const replay = await env.data.send(
          new CreateEventCommand({
            memoryId,
            actorId: 'p',
            sessionId: 's',
            eventTimestamp: listed.events?.[0]?.eventTimestamp as Date,
            payload: [text('kept')],
            clientToken: 'persisted-token',
          }),
        )
        assert.equal(replay.event?.eventId, eventId, 'the idempotency token outlives a restart')
        await env.close()
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  test('events are purged once they were stored longer than the memory event expiry', async (t) => {
    let clock = Date.UTC(2026, 10, 1)
    const env = await startLocalAgentCore({ now: () => clock })
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    await env.data.send(
      new CreateEventCommand({
        memoryId,
        actorId: 'e',
        sessionId: 's',
        eventTimestamp: new Date(2020, 0, 1),
        payload: [text('old timestamp')],
      }),
    )
    assert.equal(env.service.store.purgeExpiredEvents(clock + 29 * 86_400_000), 0, 'kept within 30 days')
    clock += 29 * 86_400_000
    await env.data.send(
      new CreateEventCommand({
        memoryId,
        actorId: 'e',
        sessionId: 's',
        eventTimestamp: new Date(),
        payload: [text('recent')],
      }),
    )
    assert.equal(env.service.store.purgeExpiredEvents(clock + 2 * 86_400_000), 1)
    const listed = await env.data.send(new ListEventsCommand({ memoryId, actorId: 'e', sessionId: 's' }))
    assert.equal(listed.events?.length, 1)
  })

  test('a data file from before the memory name column opens, and memories are found by name', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'longrun-migrate-'))
    try {
      const path = join(dataDir, 'agentcore-local.sqlite')
      const old = new DatabaseSync(path)
      old.exec(
        'CREATE TABLE memories (id TEXT PRIMARY KEY, body TEXT NOT NULL, created_at_ms INTEGER NOT NULL);' +
          'CREATE TABLE idempotency (scope TEXT NOT NULL, token TEXT NOT NULL, request_hash TEXT NOT NULL,' +
          ' response TEXT NOT NULL, created_at_ms INTEGER NOT NULL, PRIMARY KEY (scope, token));',
      )
      const body = {
        id: 'Old-abcdefghij',
        name: 'Old',
        eventExpiryDays: 30,
        status: 'ACTIVE',
        strategies: [],
      }
      old.prepare('INSERT INTO memories VALUES (?, ?, ?)').run(body.id, JSON.stringify(body), 1)
      old.close()
      const store = new SqliteMemoryStore({ path })
      try {
        assert.equal(store.findMemoryByName('Old')?.id, 'Old-abcdefghij')
      } finally {
        store.close()
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  test('100 concurrent CreateEvent calls are all stored', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    await Promise.all(
      Array.from({ length: 100 }, (_, index) =>
        env.data.send(
          new CreateEventCommand({
            memoryId,
            actorId: 'c',
            sessionId: 's',
            eventTimestamp: new Date(),
            payload: [text(`c${index}`)],
          }),
        ),
      ),
    )
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'c', sessionId: 's', maxResults: 100 }),
    )
    assert.equal(listed.events?.length, 100)
    assert.equal(listed.nextToken, undefined)
  })

  test('an unsigned request is refused with AccessDenied', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    const response = await fetch(`${env.service.url}/memories/${memoryId}/actor/a/sessions/s`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(response.status, 403)
    assert.equal(response.headers.get('x-amzn-errortype'), 'AccessDeniedException')
  })

  test('an access key outside the allowed list is refused', async (t) => {
    const env = await startLocalAgentCore({ accessKeyIds: ['AKIDSOMEONEELSE'] })
    t.after(() => env.close())
    await assert.rejects(
      env.createMemory(),
      (error: unknown) => (error as Error).name === 'AccessDeniedException',
    )
    assert.notEqual(TEST_CREDENTIALS.accessKeyId, 'AKIDSOMEONEELSE')
  })

  test('malformed JSON is a SerializationException, never a stack trace', async (t) => {
    const env = await startLocalAgentCore()
    t.after(() => env.close())
    const memoryId = await env.createMemory()
    const response = await fetch(`${env.service.url}/memories/${memoryId}/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'AWS4-HMAC-SHA256 Credential=AKID/x' },
      body: '{"actorId":',
    })
    assert.equal(response.status, 400)
    const body = (await response.json()) as { message: string }
    assert.equal(response.headers.get('x-amzn-errortype'), 'SerializationException')
    assert.ok(!body.message.includes(' at '))
  })
})
