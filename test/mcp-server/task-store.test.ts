import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { listAllEvents, startTestServer, tempDir, waitFor } from '../helpers/mcp-server.ts'
import { McpServerError, type NewTaskRecord, SqliteTaskStore } from '../../src/mcp-server/index.ts'

const newTask = (taskId: string, createdAt: number, owner = 'actor-a'): NewTaskRecord => ({
  taskId,
  owner,
  tool: 'model_training',
  input: { model_name: 'm', epochs: 1 },
  mode: 'async',
  caller: { sessionId: 's', memoryId: 'mem-AbCdEf1234', actorId: owner },
  createdAt,
  ttlMs: 1000,
  pollIntervalMs: 500,
})
/** Recorded running for worker `w`, the process that completes them here. */
const RUNNING = { stage: 'running', workerId: 'w', queueSeq: 1 } as const
const completed = (endedAt: number) => ({
  status: 'completed' as const,
  result: { content: [{ type: 'text' as const, text: 'ok' }] },
  endedAt,
})

describe('SQLite task store', () => {
  test('ends a task once and queues its memory event in the same transaction', async () => {
    const store = new SqliteTaskStore({ dataDir: ':memory:' })
    await store.create(newTask('t1', 1000), RUNNING)
    const entry = {
      taskId: 't1',
      memoryId: 'mem-AbCdEf1234',
      actorId: 'actor-a',
      sessionId: 's',
      eventTimestampMs: 2000,
      text: 'x',
    }
    const ended = store.complete('t1', completed(2000), entry, 'w')
    assert.equal(ended?.status, 'completed')
    assert.equal(
      store.complete('t1', { ...completed(3000), status: 'failed' }, entry, 'w'),
      undefined,
      'an ended task stays ended',
    )
    assert.deepEqual(
      store.due('w', 2000, 10).map((row) => row.taskId),
      ['t1'],
    )
    store.retryLater('t1', 5000, 'ThrottlingException')
    assert.equal(store.due('w', 4999, 10).length, 0)
    assert.equal(store.nextDueAt('w'), 5000)
    store.acknowledge('t1', 5000)
    assert.equal(store.nextDueAt('w'), undefined)
    // Once delivered, the last error is cleared: it no longer tells why anything is pending.
    assert.deepEqual(store.deliveryOf('t1'), { state: 'delivered', attempts: 2, lastError: undefined })
    store.close()
  })

  test('reads each task with its delivery state in the same query, in get and list alike', async () => {
    const store = new SqliteTaskStore({ dataDir: ':memory:' })
    await store.create(newTask('owed', 1000), RUNNING)
    await store.create(newTask('running', 1001), RUNNING)
    store.complete(
      'owed',
      completed(2000),
      {
        taskId: 'owed',
        memoryId: 'mem-AbCdEf1234',
        actorId: 'actor-a',
        sessionId: 's',
        eventTimestampMs: 2000,
        text: 'x',
      },
      'w',
    )
    store.retryLater('owed', 5000, 'ThrottlingException')
    const expected = { state: 'pending', attempts: 1, lastError: 'ThrottlingException' }
    assert.deepEqual(store.deliveryOf('owed'), expected)
    assert.deepEqual((await store.get('owed'))?.delivery, expected)
    assert.equal((await store.get('running'))?.delivery, undefined, 'nothing queued yet')
    const page = await store.list('actor-a', { limit: 10 })
    assert.deepEqual(
      page.tasks.map((task) => [task.taskId, task.delivery]),
      [
        ['running', undefined],
        ['owed', expected],
      ],
    )
    store.giveUp('owed', 'ValidationException')
    assert.deepEqual((await store.get('owed'))?.delivery, {
      state: 'failed',
      attempts: 2,
      lastError: 'ValidationException',
    })
    store.close()
  })

  test('keeps owners apart and pages with an opaque cursor', async () => {
    const store = new SqliteTaskStore({ dataDir: ':memory:' })
    for (let i = 0; i < 5; i += 1) await store.create(newTask(`a${i}`, 1000 + i), RUNNING)
    await store.create(newTask('b0', 1000, 'actor-b'), RUNNING)
    assert.equal(await store.get('b0', 'actor-a'), undefined)
    assert.equal((await store.get('b0', 'actor-b'))?.taskId, 'b0')
    const first = await store.list('actor-a', { limit: 2 })
    assert.deepEqual(
      first.tasks.map((task) => task.taskId),
      ['a4', 'a3'],
    )
    const second = await store.list('actor-a', { limit: 2, cursor: first.nextCursor })
    const third = await store.list('actor-a', { limit: 2, cursor: second.nextCursor })
    assert.deepEqual(
      [...second.tasks, ...third.tasks].map((task) => task.taskId),
      ['a2', 'a1', 'a0'],
    )
    assert.equal(third.nextCursor, undefined)
    assert.throws(
      () => store.list('actor-a', { limit: 2, cursor: 'garbage' }),
      (error: unknown) => {
        return error instanceof McpServerError && error.code === 'INVALID_CURSOR'
      },
    )
    store.close()
  })

  test('removes ended tasks after their time-to-live, never running ones', async () => {
    const store = new SqliteTaskStore({ dataDir: ':memory:' })
    await store.create(newTask('ended', 0), RUNNING)
    await store.create(newTask('running', 0), RUNNING)
    store.complete('ended', completed(100), undefined, 'w')
    assert.equal(store.removeExpired(1099), 0)
    assert.equal(store.removeExpired(1100), 1)
    assert.equal(await store.get('ended'), undefined)
    assert.equal((await store.get('running'))?.status, 'working')
    assert.equal((await store.get('running'))?.stage, 'running')
    store.close()
  })

  test('outbox rows, delivered or failed, are pruned with their task when its time-to-live passes', async () => {
    const store = new SqliteTaskStore({ dataDir: ':memory:' })
    const entry = (taskId: string) => ({
      taskId,
      memoryId: 'mem-AbCdEf1234',
      actorId: 'actor-a',
      sessionId: 's',
      eventTimestampMs: 2000,
      text: 'x',
    })
    for (const taskId of ['delivered', 'failed', 'young']) await store.create(newTask(taskId, 1000), RUNNING)
    store.complete('delivered', completed(2000), entry('delivered'), 'w')
    store.complete('failed', completed(2000), entry('failed'), 'w')
    store.complete('young', completed(5000), entry('young'), 'w')
    store.acknowledge('delivered', 2100)
    store.giveUp('failed', 'ResourceNotFoundException: memory not found')
    assert.deepEqual(store.deliveryOf('failed'), {
      state: 'failed',
      attempts: 1,
      lastError: 'ResourceNotFoundException: memory not found',
    })
    // ttlMs is 1000: the first two expire at 3000, the young one at 6000.
    assert.equal(store.removeExpired(3000), 2)
    assert.equal(store.deliveryOf('delivered'), undefined)
    assert.equal(store.deliveryOf('failed'), undefined)
    assert.equal(store.deliveryOf('young')?.state, 'pending', 'a live task keeps its outbox row')
    store.close()
  })
})

describe('a task database written by the first version', () => {
  test('opens with nothing lost: its unfinished task is re-run, its owed result delivered, once each', async () => {
    const env = await startLocalAgentCore()
    const dir = await tempDir()
    try {
      const memoryId = await env.createMemory()
      const caller = { sessionId: 's-v1', memoryId, actorId: 'actor-v1' }
      const db = new DatabaseSync(join(dir.path, 'mcp-tasks.sqlite'))
      db.exec(readFileSync(new URL('./fixtures/tasks-schema-v1.sql', import.meta.url), 'utf8'))
      const insert = db.prepare(
        `INSERT INTO tasks (task_id, owner, tool, input, kind, caller, status, result, created_at, updated_at, ttl_ms, poll_interval_ms, attempts, expires_at)
           VALUES (?, 'actor-v1', ?, ?, 'async', ?, ?, ?, ?, ?, 604800000, 1000, 1, ?)`,
      )
      const now = Date.now()
      insert.run(
        'v1-working',
        'model_training',
        '{"model_name":"v1","epochs":3}',
        JSON.stringify(caller),
        'working',
        null,
        now,
        now,
        null,
      )
      insert.run(
        'v1-ended',
        'text_statistics',
        '{"text":"a b"}',
        JSON.stringify(caller),
        'completed',
        '{"content":[{"type":"text","text":"ok"}]}',
        now,
        now,
        now + 604800000,
      )
      db.prepare(
        `INSERT INTO outbox (task_id, memory_id, actor_id, session_id, event_timestamp_ms, text, next_attempt_at)
           VALUES ('v1-ended', ?, 'actor-v1', 's-v1', ?, 'Long-running task v1-ended (tool text_statistics) completed.', ?)`,
      ).run(memoryId, now, now)
      db.close()

      const server = await startTestServer(dir.path, { memoryClient: env.data })
      try {
        const rerun = await waitFor(async () => {
          const task = await server.backend.get('v1-working')
          return task?.status === 'completed' ? task : undefined
        })
        assert.equal(rerun.runs, 2, 'the interrupted task ran again')
        assert.equal(rerun.mode, 'async')
        const events = await waitFor(async () => {
          const all = await listAllEvents(env.data, memoryId, caller.actorId, caller.sessionId)
          return all.length === 2 ? all : undefined
        })
        assert.equal(events.filter((event) => event.text.includes('v1-ended')).length, 1)
        assert.equal(events.filter((event) => event.text.includes('v1-working')).length, 1)
      } finally {
        await server.close()
      }
      const reopened = new DatabaseSync(join(dir.path, 'mcp-tasks.sqlite'), { readOnly: true })
      assert.equal(
        (reopened.prepare('PRAGMA user_version').get() as { user_version: number }).user_version,
        3,
      )
      reopened.close()
    } finally {
      await env.close()
      await dir.remove()
    }
  })
})
