import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { after, before, describe, test } from 'node:test'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { listAllEvents, startTestServer, tempDir, waitFor } from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'
import {
  McpServerError,
  type NewTaskRecord,
  SqliteTaskStore,
  type TaskEnd,
  type TaskStore,
} from '../../src/mcp-server/index.ts'
import { RedisConnection } from '../../src/mcp-server/redis-connection.ts'
import { RedisKeys } from '../../src/mcp-server/redis-task-layout.ts'
import { RedisTaskStore } from '../../src/mcp-server/redis-task-store.ts'

const newTask = (taskId: string, createdAt: number, owner = 'actor-a', ttlMs = 60_000): NewTaskRecord => ({
  taskId,
  owner,
  tool: 'model_training',
  input: { model_name: 'm', epochs: 1 },
  mode: 'async',
  caller: { sessionId: 's', memoryId: 'mem-AbCdEf1234', actorId: owner },
  createdAt,
  ttlMs,
  pollIntervalMs: 500,
})
/** Held and running in process `w`, the process that completes them here. */
const RUNNING = { stage: 'running', holder: 'w' } as const
const completed = (endedAt: number): TaskEnd => ({
  status: 'completed',
  result: { content: [{ type: 'text', text: 'ok' }] },
  endedAt,
})
const cancelled = (endedAt: number): TaskEnd => ({ ...completed(endedAt), status: 'cancelled' })
const memoryJob = (taskId: string, text = 'x') => ({
  taskId,
  kind: 'memory',
  payload: {
    taskId,
    memoryId: 'mem-AbCdEf1234',
    actorId: 'actor-a',
    sessionId: 's',
    eventTimestampMs: 2,
    text,
  },
})
const BY_W = { how: 'complete', workerId: 'w' } as const
const codeOf = (code: string) => (error: unknown) => error instanceof McpServerError && error.code === code

/** The contract every store keeps, run on each: `open` gives a fresh, empty store. */
function storeContract(kind: string, open: () => Promise<TaskStore>) {
  describe(`the ${kind} task store`, () => {
    const stores: TaskStore[] = []
    const fresh = async () => {
      const store = await open()
      stores.push(store)
      return store
    }
    after(async () => {
      for (const store of stores) await store.close()
    })

    test("records a task with its rank, its owner's active tasks itself included; an end counts it out", async () => {
      const store = await fresh()
      const first = await store.create(newTask('a1', 1000), RUNNING)
      assert.equal(first.rank, 1)
      assert.deepEqual(await store.get('a1'), first.record)
      assert.equal(first.record.runs, 1)
      assert.equal((await store.create(newTask('a2', 1001), { stage: 'queued', holder: 'w' })).rank, 2)
      assert.equal((await store.create(newTask('b1', 1002, 'actor-b'), RUNNING)).rank, 1, 'owners apart')
      await store.end('a1', completed(2000), BY_W, [])
      assert.equal((await store.create(newTask('a3', 1003), RUNNING)).rank, 2, 'a2 and a3 are active')
    })

    test('refuses a duplicate id (INVALID_CONFIG) and keeps the first task as it was', async () => {
      const store = await fresh()
      const first = await store.create(newTask('dup', 1000), RUNNING)
      await assert.rejects(store.create(newTask('dup', 5000, 'actor-b'), RUNNING), codeOf('INVALID_CONFIG'))
      assert.deepEqual(await store.get('dup'), first.record)
      assert.equal((await store.create(newTask('b1', 1002, 'actor-b'), RUNNING)).rank, 1)
    })

    test('ends a task once, with its jobs in the same write; a complete needs its holder', async () => {
      const store = await fresh()
      await store.create(newTask('t1', 1000), RUNNING)
      const job = memoryJob('t1')
      assert.equal(
        await store.end('t1', completed(2000), { how: 'complete', workerId: 'other' }, [job]),
        undefined,
      )
      assert.equal(await store.job(job), undefined, 'nothing recorded for a refused end')
      const ended = await store.end('t1', completed(2000), BY_W, [job])
      assert.equal(ended?.status, 'completed')
      assert.equal(ended?.stage, 'done')
      assert.deepEqual(ended?.delivery, { state: 'pending', attempts: 0, lastError: undefined })
      assert.deepEqual(await store.job(job), { ...job, state: 'pending', attempts: 0, lastError: undefined })
      assert.equal(
        await store.end('t1', { ...completed(3000), status: 'failed' }, BY_W, []),
        undefined,
        'an ended task stays ended',
      )
      assert.deepEqual(await store.owedJobs(['memory']), [{ taskId: 't1', kind: 'memory' }])
    })

    test('a cancel ends a queued task for good and leaves a running one running until its holder releases it', async () => {
      const store = await fresh()
      await store.create(newTask('queued', 1000), { stage: 'queued', holder: 'w' })
      await store.create(newTask('running', 1001), RUNNING)
      assert.equal(
        (await store.end('queued', cancelled(2000), { how: 'cancel', workerId: 'x' }, []))?.stage,
        'done',
      )
      const stopping = await store.end('running', cancelled(2000), { how: 'cancel', workerId: 'x' }, [])
      assert.equal(stopping?.status, 'cancelled')
      assert.equal(stopping?.stage, 'running')
      await store.release('running', 'x')
      assert.equal((await store.get('running'))?.stage, 'running', 'only its holder releases it')
      await store.release('running', 'w')
      assert.equal((await store.get('running'))?.stage, 'done')
    })

    test('counts each attempt at a job; a settled job is never settled again; a settlement may record the next job', async () => {
      const store = await fresh()
      await store.create(newTask('t1', 1000), RUNNING)
      const job = memoryJob('t1', 'the full text')
      await store.end('t1', completed(2000), BY_W, [job])
      await store.settleJob(job, {
        state: 'pending',
        lastError: 'ValidationException',
        retryAt: 2000,
        payload: { ...job.payload, text: 'a summary' },
      })
      const retried = await store.job(job)
      assert.equal(retried?.attempts, 1)
      assert.equal((retried?.payload as { text: string }).text, 'a summary')
      assert.deepEqual((await store.get('t1'))?.delivery, {
        state: 'pending',
        attempts: 1,
        lastError: 'ValidationException',
      })
      const next = { taskId: 't1', kind: 'wake', payload: { reason: 'result delivered' } }
      await store.settleJob(job, { state: 'delivered', lastError: undefined, then: [next] })
      // Once delivered, the last error is cleared: it no longer tells why anything is pending.
      assert.deepEqual((await store.get('t1'))?.delivery, {
        state: 'delivered',
        attempts: 2,
        lastError: undefined,
      })
      await store.settleJob(job, { state: 'failed', lastError: 'late duplicate' })
      assert.equal((await store.job(job))?.state, 'delivered', 'a second attempt settles nothing')
      assert.deepEqual(await store.job(next), {
        ...next,
        state: 'pending',
        attempts: 0,
        lastError: undefined,
      })
      assert.deepEqual(await store.owedJobs(['memory']), [])
      assert.deepEqual(await store.owedJobs(['memory', 'wake']), [{ taskId: 't1', kind: 'wake' }])
      await store.settleJob(next, { state: 'failed', lastError: 'AccessDeniedException' })
      assert.deepEqual(await store.owedJobs(['wake']), [])
    })

    test('a claim moves a task only as it was read: of two processes claiming it, one wins', async () => {
      const store = await fresh()
      await store.create(newTask('shared', 1000), { stage: 'queued', holder: undefined })
      const claim = (holder: string) =>
        store.claim('shared', {
          from: { stage: 'queued', holder: undefined },
          holder,
          stage: 'running',
          addRun: true,
          statusMessage: null,
          now: 1500,
        })
      const [one, two] = await Promise.all([claim('p1'), claim('p2')])
      const won = one ?? two
      assert.ok((one === undefined) !== (two === undefined), 'exactly one claim wins')
      assert.equal(won?.record.stage, 'running')
      assert.equal(won?.record.runs, 1)
      assert.equal(won?.record.updatedAt, 1500)
      assert.equal(won?.rank, 1)
      const holder = won?.record.workerId as string
      const again = await store.claim('shared', {
        from: { stage: 'running', holder },
        holder: 'p3',
        stage: 'queued',
        addRun: false,
        statusMessage: 'taken over',
        now: 1600,
      })
      assert.equal(again?.record.statusMessage, 'taken over')
      assert.equal(again?.record.runs, 1)
      const kept = await store.claim('shared', {
        from: { stage: 'queued', holder: 'p3' },
        holder: 'p3',
        stage: 'running',
        addRun: true,
        statusMessage: undefined,
        now: 1700,
      })
      assert.equal(kept?.record.statusMessage, 'taken over', 'undefined keeps the message')
      // Cancelled while it runs: still running in p3, but nobody may take it any more.
      await store.end('shared', cancelled(2000), { how: 'cancel', workerId: 'x' }, [])
      const late = await store.claim('shared', {
        from: { stage: 'running', holder: 'p3' },
        holder: 'p4',
        stage: 'running',
        addRun: true,
        statusMessage: undefined,
        now: 2100,
      })
      assert.equal(late, undefined, 'an ended task is claimed by nobody')
    })

    test('a start on a shared queue stays unconfirmed until confirmed; only a task that never ran is taken back', async () => {
      const store = await fresh()
      await store.create(newTask('shared', 1000), { stage: 'queued', holder: undefined })
      await store.create(newTask('held', 1000), { stage: 'queued', holder: 'w' })
      assert.deepEqual(await store.unconfirmed(999), [])
      assert.deepEqual(await store.unconfirmed(1001), ['shared'])
      await store.confirm('shared')
      assert.deepEqual(await store.unconfirmed(1001), [])
      await store.create(newTask('ran', 1000), RUNNING)
      assert.equal(await store.remove({ taskId: 'ran', owner: 'actor-a' }), false)
      assert.equal(await store.remove({ taskId: 'shared', owner: 'actor-a' }), true)
      assert.equal(await store.get('shared'), undefined)
      assert.deepEqual((await store.list('actor-a', { limit: 10 })).tasks.map((task) => task.taskId).sort(), [
        'held',
        'ran',
      ])
      assert.equal((await store.create(newTask('next', 1001), RUNNING)).rank, 3, 'held, ran and next')
    })

    test('records progress of active tasks and answers those found ended or gone instead', async () => {
      const store = await fresh()
      await store.create(newTask('running', 1000), RUNNING)
      await store.create(newTask('ended', 1000), RUNNING)
      await store.end('ended', completed(1500), BY_W, [])
      const ended = await store.saveProgress([
        { taskId: 'running', patch: { progress: 3, total: 10, statusMessage: 'epoch 3', updatedAt: 1600 } },
        { taskId: 'ended', patch: { progress: 9, updatedAt: 1600 } },
        { taskId: 'missing', patch: { progress: 1, updatedAt: 1600 } },
      ])
      assert.deepEqual(ended.sort(), ['ended', 'missing'])
      const running = await store.get('running')
      assert.deepEqual([running?.progress, running?.total, running?.statusMessage], [3, 10, 'epoch 3'])
      assert.equal((await store.get('ended'))?.progress, undefined)
    })

    test('keeps owners apart, lists no inline calls, and pages with an opaque cursor', async () => {
      const store = await fresh()
      for (let i = 0; i < 5; i += 1) await store.create(newTask(`a${i}`, 1000 + i), RUNNING)
      await store.create({ ...newTask('inline', 2000), mode: 'inline' }, RUNNING)
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
      await assert.rejects(store.list('actor-a', { limit: 2, cursor: 'garbage' }), codeOf('INVALID_CURSOR'))
      await assert.rejects(
        store.list('actor-b', { limit: 2, cursor: first.nextCursor }),
        codeOf('INVALID_CURSOR'),
        "another owner's cursor",
      )
    })

    test('a task held by a process whose lease is gone is an orphan; a renewal of a dropped lease says so', async () => {
      const store = await fresh()
      const lease = { workerId: 'w1', pid: 1, host: 'h', tools: ['model_training'], startedAt: 1000 }
      await store.registerWorker(lease, 60_000)
      assert.deepEqual(await store.liveWorkers(), [lease])
      await store.create(newTask('held', 1000), { stage: 'running', holder: 'w1' })
      await store.create(newTask('shared', 1001), { stage: 'queued', holder: undefined })
      assert.deepEqual(await store.orphans(), [], 'its holder is live; a shared queue holds the other')
      assert.equal(await store.renewWorker('w1', 60_000), true)
      await store.removeWorker('w1')
      assert.equal(await store.renewWorker('w1', 60_000), false)
      assert.deepEqual(await store.liveWorkers(), [])
      assert.deepEqual(
        (await store.orphans()).map((task) => task.taskId),
        ['held'],
      )
      await store.registerWorker({ ...lease, workerId: 'short' }, 50)
      await waitFor(
        async () => ((await store.liveWorkers()).length === 0 ? true : undefined),
        5000,
        'the lease to run out',
      )
    })

    test('a cancel announced for a running task reaches the process that holds it', async () => {
      const store = await fresh()
      const heard: string[] = []
      const unwatch = store.watchEnds('w', (taskId) => heard.push(taskId))
      try {
        await store.create(newTask('running', 1000), RUNNING)
        // A subscription takes a moment to be in place: announce until it is heard.
        await store.end('running', cancelled(2000), { how: 'cancel', workerId: 'x' }, [])
        await waitFor(
          async () => {
            await store.announceEnd('running')
            return heard.includes('running') ? true : undefined
          },
          5000,
          'the holder to hear of the cancel',
        )
      } finally {
        unwatch()
      }
    })

    test('removes ended tasks and their jobs once their time-to-live passed, never active ones', async () => {
      const store = await fresh()
      const now = Date.now()
      await store.create(newTask('ended', now, 'actor-a', 200), RUNNING)
      await store.create(newTask('running', now, 'actor-a', 200), RUNNING)
      await store.end('ended', completed(now), BY_W, [memoryJob('ended')])
      await waitFor(
        async () => {
          await store.removeExpired(Date.now())
          return (await store.get('ended')) === undefined ? true : undefined
        },
        5000,
        'the ended task to expire',
      )
      assert.equal(await store.job(memoryJob('ended')), undefined)
      assert.deepEqual(await store.owedJobs(['memory']), [])
      assert.equal((await store.get('running'))?.stage, 'running')
    })
  })
}

storeContract('SQLite', async () => new SqliteTaskStore({ dataDir: ':memory:', endsPollMs: 20 }))

let redis: TestRedis
const connections: RedisConnection[] = []
before(async () => {
  redis = await startTestRedis()
})
after(async () => {
  for (const connection of connections) connection.close()
  await redis.remove()
})
storeContract('Redis', async () => {
  const connection = await RedisConnection.open({ url: redis.url })
  connections.push(connection)
  return new RedisTaskStore({ connection, keys: new RedisKeys(`test-${randomBytes(4).toString('hex')}`) })
})

describe('the SQLite outbox as its process reads it', () => {
  test('due jobs soonest first, the next due time, and the jobs of a process that is gone taken over', async () => {
    const store = new SqliteTaskStore({ dataDir: ':memory:' })
    try {
      for (const taskId of ['t1', 't2']) {
        await store.create(newTask(taskId, 1000), RUNNING)
        await store.end(taskId, completed(taskId === 't1' ? 2000 : 1500), BY_W, [memoryJob(taskId)])
      }
      const mine = store.schedule('w')
      assert.deepEqual(
        (await mine.due(2000, 10)).map((job) => job.taskId),
        ['t2', 't1'],
      )
      await store.settleJob(memoryJob('t2'), {
        state: 'pending',
        lastError: 'ThrottlingException',
        retryAt: 5000,
      })
      assert.deepEqual(
        (await mine.due(4999, 10)).map((job) => job.taskId),
        ['t1'],
      )
      await store.settleJob(memoryJob('t1'), { state: 'delivered', lastError: undefined })
      assert.equal(await mine.nextDueAt(), 5000)
      // 'w' never registered a lease: another process takes its jobs over.
      const other = store.schedule('other')
      assert.equal(await other.adopt(), 1)
      assert.equal(await mine.nextDueAt(), undefined)
      assert.equal(await other.nextDueAt(), 5000)
    } finally {
      await store.close()
    }
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
        4,
      )
      reopened.close()
    } finally {
      await env.close()
      await dir.remove()
    }
  })
})
