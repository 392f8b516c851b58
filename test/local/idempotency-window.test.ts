import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import {
  BatchCreateMemoryRecordsCommand,
  CreateEventCommand,
  type CreateEventCommandInput,
  ListEventsCommand,
  ListMemoryRecordsCommand,
  ValidationException,
} from '@aws-sdk/client-bedrock-agentcore'
import {
  CreateMemoryCommand,
  DeleteMemoryCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-bedrock-agentcore-control'
import {
  DEFAULT_IDEMPOTENCY_WINDOW_MS,
  type MemoryStore,
  MemoryStoreConfigError,
  SqliteMemoryStore,
} from '../../src/local/index.ts'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'

const HOUR = 3_600_000
const text = (value: string) => ({ conversational: { content: { text: value }, role: 'USER' as const } })

/** The local service on a clock the test moves, and a memory in it. */
async function startWithClock(config: { store?: MemoryStore } = {}) {
  const clock = { now: Date.UTC(2026, 10, 1) }
  const env = await startLocalAgentCore({ now: () => clock.now, ...config })
  try {
    return { env, clock, memoryId: await env.createMemory() }
  } catch (error) {
    await env.close()
    throw error
  }
}

/** The store, with what each guarded write kept recorded (it implements our MemoryStore as it is). */
function recordingKept(store: MemoryStore): { store: MemoryStore; kept: string[] } {
  const kept: string[] = []
  const recording = new Proxy(store, {
    get(target, property) {
      if (property === 'idempotent') {
        return ((request, work) =>
          target.idempotent(request, () => {
            const done = work()
            kept.push(JSON.stringify(done.kept))
            return done
          })) satisfies MemoryStore['idempotent']
      }
      const value: unknown = Reflect.get(target, property, target)
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value
    },
  })
  return { store: recording, kept }
}

describe('client tokens are honoured for the idempotency window, then forgotten', () => {
  test('a CreateEvent retried just under 24 hours later gets the same event, its generated session included, and one event is stored', async (t) => {
    const { env, clock, memoryId } = await startWithClock()
    t.after(() => env.close())
    const input: CreateEventCommandInput = {
      memoryId,
      actorId: 'retrier',
      eventTimestamp: new Date('2026-11-01T00:00:00.250Z'),
      payload: [text('once'), { blob: { kind: 'note', n: 1 } }],
      branch: { name: 'main' },
      metadata: { topic: { stringValue: 'training' } },
      clientToken: 'window-token-0001',
    }
    const first = await env.data.send(new CreateEventCommand(input))
    clock.now += 24 * HOUR - 1
    const retried = await env.data.send(new CreateEventCommand(input))
    assert.deepEqual(retried.event, first.event)
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'retrier', sessionId: first.event?.sessionId as string }),
    )
    assert.equal(listed.events?.length, 1)
  })

  test('a token reused with other parameters late in the window is refused and stores nothing', async (t) => {
    const { env, clock, memoryId } = await startWithClock()
    t.after(() => env.close())
    const input: CreateEventCommandInput = {
      memoryId,
      actorId: 'reuser',
      sessionId: 'session-reuse',
      eventTimestamp: new Date('2026-11-01T00:00:00Z'),
      payload: [text('first')],
      clientToken: 'window-token-0002',
    }
    await env.data.send(new CreateEventCommand(input))
    clock.now += DEFAULT_IDEMPOTENCY_WINDOW_MS - 1
    await assert.rejects(
      env.data.send(new CreateEventCommand({ ...input, payload: [text('second')] })),
      (error: unknown) =>
        error instanceof ValidationException && error.reason === 'IdempotentParameterMismatchException',
    )
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'reuser', sessionId: 'session-reuse' }),
    )
    assert.deepEqual(
      listed.events?.map((event) => event.payload?.[0]?.conversational?.content?.text),
      ['first'],
    )
  })

  test("once the window has passed, the purge removes the token's record and the same token creates a new event", async (t) => {
    const { env, clock, memoryId } = await startWithClock()
    t.after(() => env.close())
    const input: CreateEventCommandInput = {
      memoryId,
      actorId: 'expirer',
      sessionId: 'session-expiry',
      eventTimestamp: new Date('2026-11-01T00:00:00Z'),
      payload: [text('again')],
      clientToken: 'window-token-0003',
    }
    // The memory's own CreateMemory token is a record as well, written just before.
    clock.now += 1000
    const before = env.service.store.countIdempotencyRecords()
    const first = await env.data.send(new CreateEventCommand(input))
    assert.equal(env.service.store.countIdempotencyRecords(), before + 1)
    clock.now += DEFAULT_IDEMPOTENCY_WINDOW_MS - 1
    env.service.store.purgeExpiredEvents(clock.now)
    assert.equal(
      env.service.store.countIdempotencyRecords(),
      1,
      "the event's token is kept until the window ends",
    )
    clock.now += 1
    env.service.store.purgeExpiredEvents(clock.now)
    assert.equal(env.service.store.countIdempotencyRecords(), 0, 'and purged once it ends')
    const later = await env.data.send(new CreateEventCommand(input))
    assert.notEqual(later.event?.eventId, first.event?.eventId)
    const listed = await env.data.send(
      new ListEventsCommand({ memoryId, actorId: 'expirer', sessionId: 'session-expiry' }),
    )
    assert.equal(listed.events?.length, 2)
  })

  test("under many CreateEvents the token records never exceed one window's worth, with no purge run", async (t) => {
    const { env, clock, memoryId } = await startWithClock()
    t.after(() => env.close())
    // One event every 30 minutes: a 24-hour window holds 48 tokens; 150 are written.
    const step = 30 * 60_000
    const perWindow = DEFAULT_IDEMPOTENCY_WINDOW_MS / step
    // The memory's CreateMemory token, expired now: the first write removes it.
    clock.now += DEFAULT_IDEMPOTENCY_WINDOW_MS
    const counts: number[] = []
    for (let index = 0; index < 150; index += 1) {
      await env.data.send(
        new CreateEventCommand({
          memoryId,
          actorId: 'steady',
          sessionId: 'session-steady',
          eventTimestamp: new Date(clock.now),
          payload: [text(`event ${index}`)],
          clientToken: `steady-token-${String(index).padStart(4, '0')}`,
        }),
      )
      counts.push(env.service.store.countIdempotencyRecords())
      clock.now += step
    }
    assert.equal(Math.max(...counts), perWindow)
    assert.equal(counts.at(-1), perWindow)
  })

  test("a token's record keeps the ids the service chose, not the event it answered with", async (t) => {
    const { store, kept } = recordingKept(new SqliteMemoryStore({ path: ':memory:' }))
    t.after(() => store.close())
    const { env, memoryId } = await startWithClock({ store })
    t.after(() => env.close())
    const created = await env.data.send(
      new CreateEventCommand({
        memoryId,
        actorId: 'large',
        eventTimestamp: new Date(),
        payload: [text('x'.repeat(50_000))],
        clientToken: 'window-token-large',
      }),
    )
    const last = JSON.parse(kept.at(-1) as string) as Record<string, unknown>
    assert.deepEqual(last, { eventId: created.event?.eventId, sessionId: created.event?.sessionId })
  })

  test('a token record written by an older version, holding the whole answer, still answers a retry', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'longrun-idempotency-'))
    try {
      const input: CreateEventCommandInput = {
        memoryId: '',
        actorId: 'upgrader',
        eventTimestamp: new Date('2026-11-01T00:00:00Z'),
        payload: [text('before the upgrade')],
        clientToken: 'window-token-upgrade',
      }
      let event: Record<string, unknown>
      {
        const env = await startLocalAgentCore({ dataDir })
        input.memoryId = await env.createMemory()
        const created = await env.data.send(new CreateEventCommand(input))
        event = { ...created.event, eventTimestamp: Date.parse('2026-11-01T00:00:00Z') / 1000 }
        await env.close()
      }
      // What the older version kept for this token: the whole answer.
      const file = new DatabaseSync(join(dataDir, 'agentcore-local.sqlite'))
      const rewritten = file
        .prepare('UPDATE idempotency SET response = ? WHERE token = ?')
        .run(JSON.stringify(event), input.clientToken as string)
      file.close()
      assert.equal(rewritten.changes, 1)
      const env = await startLocalAgentCore({ dataDir })
      try {
        const retried = await env.data.send(new CreateEventCommand(input))
        assert.equal(retried.event?.eventId, event.eventId)
        assert.equal(retried.event?.sessionId, event.sessionId)
      } finally {
        await env.close()
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  test('BatchCreateMemoryRecords retried with its clientToken gets the same record ids and stores the batch once', async (t) => {
    const { env, memoryId } = await startWithClock()
    t.after(() => env.close())
    const input = {
      memoryId,
      clientToken: 'batch-token-0001',
      records: ['first', 'second'].map((id) => ({
        requestIdentifier: id,
        namespaces: ['/facts/batcher'],
        content: { text: `the ${id} fact` },
        timestamp: new Date('2026-11-01T00:00:00Z'),
      })),
    }
    const first = await env.data.send(new BatchCreateMemoryRecordsCommand(input))
    const retried = await env.data.send(new BatchCreateMemoryRecordsCommand(input))
    assert.deepEqual(retried.successfulRecords, first.successfulRecords)
    assert.deepEqual(
      first.successfulRecords?.map((record) => record.requestIdentifier),
      ['first', 'second'],
    )
    const listed = await env.data.send(
      new ListMemoryRecordsCommand({ memoryId, namespace: '/facts/batcher' }),
    )
    assert.equal(listed.memoryRecordSummaries?.length, 2)
  })

  test('CreateMemory retried after its memory was deleted is told the memory is gone, and creates none', async (t) => {
    const { env } = await startWithClock()
    t.after(() => env.close())
    const input = { name: 'DeletedSince', eventExpiryDuration: 30, clientToken: 'memory-token-deleted' }
    const { memory } = await env.control.send(new CreateMemoryCommand(input))
    await env.control.send(new DeleteMemoryCommand({ memoryId: memory?.id as string }))
    await assert.rejects(env.control.send(new CreateMemoryCommand(input)), ResourceNotFoundException)
    assert.equal(env.service.store.findMemoryByName('DeletedSince'), undefined)
  })

  test('a window that is not a positive whole number of milliseconds is refused before any file is made', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'longrun-idempotency-'))
    try {
      const path = join(dataDir, 'store', 'agentcore-local.sqlite')
      for (const idempotencyWindowMs of [0, -1, 1.5, Number.NaN]) {
        assert.throws(
          () => new SqliteMemoryStore({ path, idempotencyWindowMs }),
          (error: unknown) =>
            error instanceof MemoryStoreConfigError &&
            error.code === 'INVALID_MEMORY_STORE_CONFIG' &&
            error.field === 'idempotencyWindowMs',
        )
      }
      assert.equal(existsSync(join(dataDir, 'store')), false)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })
})
