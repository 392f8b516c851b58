import assert from 'node:assert/strict'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { describe, test } from 'node:test'
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { defineLongRunningTool, type LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { RETRY_LATER } from '../../src/mcp-server/error-mapping.ts'
import {
  connectClient,
  listAllEvents,
  startTestServer,
  structured,
  tempDir,
  waitFor,
  useMcpTestBed,
} from '../helpers/mcp-server.ts'

/** Tools that run until the test releases them, recording the order in which they started. */
function heldTools() {
  const started: string[] = []
  const releases = new Map<string, () => void>()
  const run = async ({ label }: { label: string }, ctx: { signal: AbortSignal }) => {
    started.push(label)
    await new Promise<void>((resolve, reject) => {
      releases.set(label, resolve)
      ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true })
    })
    return { label }
  }
  const input = z.object({ label: z.string() })
  const held = defineLongRunningTool({ name: 'held', description: 'Runs until released.', input, run })
  // Mostly waits on something else: it declares a limit of its own.
  const waiting = defineLongRunningTool({
    name: 'waiting',
    description: 'Waits on a remote job.',
    input,
    concurrency: 50,
    run,
  })
  const release = (label: string) => {
    const open = releases.get(label)
    assert.ok(open, `${label} is running`)
    open()
  }
  return { tools: [held, waiting], started, release }
}

/** Rows of the task table, read as a user inspecting the data directory would. */
function taskRows(dataDir: string, where = '1 = 1'): { task_id: string; status: string; stage: string }[] {
  const db = new DatabaseSync(join(dataDir, 'mcp-tasks.sqlite'), { readOnly: true })
  try {
    return db.prepare(`SELECT task_id, status, stage FROM tasks WHERE ${where}`).all() as never
  } finally {
    db.close()
  }
}

describe('bounded work: concurrency, a fair queue, admission', () => {
  const held = heldTools()
  const bed = useMcpTestBed(() => ({
    tools: held.tools,
    taskConcurrency: 2,
    queueLimit: 6,
    heartbeatIntervalMs: 50,
  }))

  test('at most MCP_TASK_CONCURRENCY run; the rest say they are queued, with their place, and run in order', async () => {
    const client = await bed.connect({
      memory: { sessionId: 's-q', memoryId: bed.memoryId, actorId: 'queue-a' },
    })
    const ids: string[] = []
    for (const label of ['q1', 'q2', 'q3', 'q4', 'q5']) {
      ids.push(
        structured(await client.callTool({ name: 'start_held', arguments: { label } })).task_id as string,
      )
    }
    await waitFor(() => (held.started.includes('q2') ? true : undefined))
    assert.deepEqual(
      held.started.filter((label) => label.startsWith('q')),
      ['q1', 'q2'],
    )
    const status = async (taskId: string) =>
      structured(await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
    const third = await status(ids[2] as string)
    assert.equal(third.status, 'queued')
    assert.equal(third.queue_position, 1)
    assert.equal((await status(ids[4] as string)).queue_position, 3)
    assert.equal((await status(ids[0] as string)).status, 'working')
    // Spec-native tasks say it in their status message; the status stays `working`, as the spec has it.
    const spec = await client.experimental.tasks.getTask(ids[3] as string)
    assert.equal(spec.status, 'working')
    assert.equal(spec.statusMessage, 'queued: position 2')
    held.release('q1')
    await waitFor(() => (held.started.includes('q3') ? true : undefined))
    assert.equal((await status(ids[4] as string)).queue_position, 2)
    for (const label of ['q2', 'q3']) held.release(label)
    await waitFor(() => (held.started.includes('q5') ? true : undefined))
    for (const label of ['q4', 'q5']) held.release(label)
    await waitFor(async () => ((await status(ids[4] as string)).status === 'completed' ? true : undefined))
    assert.deepEqual(
      held.started.filter((label) => label.startsWith('q')),
      ['q1', 'q2', 'q3', 'q4', 'q5'],
    )
  })

  test('one actor cannot starve the others: queued tasks are taken round-robin across actors', async () => {
    const a = await bed.connect({ memory: { sessionId: 's-f', memoryId: bed.memoryId, actorId: 'greedy' } })
    const b = await bed.connect({ memory: { sessionId: 's-f', memoryId: bed.memoryId, actorId: 'modest' } })
    for (const label of ['a1', 'a2', 'a3', 'a4', 'a5'])
      await a.callTool({ name: 'start_held', arguments: { label } })
    await b.callTool({ name: 'start_held', arguments: { label: 'b1' } })
    await waitFor(() => (held.started.includes('a2') ? true : undefined))
    // Two slots: a1 and a2 run; then b1 goes before the rest of a's burst.
    held.release('a1')
    await waitFor(() => (held.started.includes('b1') ? true : undefined))
    const order = held.started.filter((label) => /^[ab]\d$/.test(label))
    assert.deepEqual(order, ['a1', 'a2', 'b1'])
    for (const label of ['a2', 'b1']) held.release(label)
    await waitFor(() => (held.started.includes('a4') ? true : undefined))
    for (const label of ['a3', 'a4']) held.release(label)
    await waitFor(() => (held.started.includes('a5') ? true : undefined))
    held.release('a5')
  })

  test('beyond the queue bound a start is refused at once, retryable, and nothing is stored', async () => {
    const client = await bed.connect({
      memory: { sessionId: 's-full', memoryId: bed.memoryId, actorId: 'filler' },
    })
    const before = held.started.length
    // Two run and six wait: the queue is full.
    for (let i = 0; i < 8; i += 1)
      await client.callTool({ name: 'start_held', arguments: { label: `full${i}` } })
    await waitFor(() => (held.started.length === before + 2 ? true : undefined))
    const refused = await client
      .callTool({ name: 'start_held', arguments: { label: 'refused-marker' } })
      .then(
        () => assert.fail('expected a refusal'),
        (error: { code: number; data: unknown }) => error,
      )
    assert.equal(refused.code, RETRY_LATER)
    assert.deepEqual(refused.data, { code: 'QUEUE_FULL', retryable: true, retryAfterMs: 5000 })
    const spec = await client
      .request(
        {
          method: 'tools/call',
          params: { name: 'held', arguments: { label: 'refused-marker' }, task: { ttl: 1000 } },
        },
        CreateTaskResultSchema,
      )
      .then(
        () => assert.fail('expected a refusal'),
        (error: { data: { code: string } }) => error,
      )
    assert.equal(spec.data.code, 'QUEUE_FULL')
    assert.deepEqual(taskRows(bed.dataDir, "input LIKE '%refused-marker%'"), [], 'nothing was stored')
    for (let i = 0; i < 8; i += 1) {
      await waitFor(() => (held.started.includes(`full${i}`) ? true : undefined))
      held.release(`full${i}`)
    }
  })

  test('a tool that declares its own limit runs that many at once beside the shared pool', async () => {
    const client = await bed.connect()
    for (let i = 0; i < 20; i += 1)
      await client.callTool({ name: 'start_waiting', arguments: { label: `w${i}` } })
    await waitFor(() =>
      held.started.filter((label) => /^w\d+$/.test(label)).length === 20 ? true : undefined,
    )
    for (let i = 0; i < 20; i += 1) held.release(`w${i}`)
  })

  test('an inline call that waits for a slot hears heartbeats saying so, then runs', async () => {
    const client = await bed.connect()
    for (const label of ['busy1', 'busy2'])
      await client.callTool({ name: 'start_held', arguments: { label } })
    await waitFor(() => (held.started.includes('busy2') ? true : undefined))
    const messages: string[] = []
    const call = client.callTool(
      { name: 'held', arguments: { label: 'inline-queued' } },
      CallToolResultSchema,
      {
        onprogress: (progress) => {
          if (progress.message !== undefined) messages.push(progress.message)
        },
      },
    )
    await waitFor(
      () => (messages.includes('queued: position 1') ? true : undefined),
      5000,
      'a queued heartbeat',
    )
    assert.ok(!held.started.includes('inline-queued'))
    held.release('busy1')
    await waitFor(() => (held.started.includes('inline-queued') ? true : undefined))
    held.release('inline-queued')
    assert.deepEqual((await call).structuredContent, { label: 'inline-queued' })
    held.release('busy2')
  })

  test('a queued task cancelled never runs; its cancelled result is written to memory once', async () => {
    const memory = { sessionId: 's-cancel-queued', memoryId: bed.memoryId, actorId: 'canceller' }
    const client = await bed.connect({ memory })
    for (const label of ['c1', 'c2']) await client.callTool({ name: 'start_held', arguments: { label } })
    const queued = structured(await client.callTool({ name: 'start_held', arguments: { label: 'c3' } }))
    assert.equal(queued.status, 'queued')
    const cancelled = structured(
      await client.callTool({ name: 'cancel_task', arguments: { task_id: queued.task_id } }),
    )
    assert.equal(cancelled.status, 'cancelled')
    for (const label of ['c1', 'c2']) {
      await waitFor(() => (held.started.includes(label) ? true : undefined))
      held.release(label)
    }
    const events = await waitFor(async () => {
      const all = await listAllEvents(bed.env.data, bed.memoryId, memory.actorId, memory.sessionId)
      return all.length === 3 ? all : undefined
    })
    assert.equal(
      events.filter((event) => event.text.includes(`${String(queued.task_id)} (tool held) cancelled`)).length,
      1,
    )
    assert.ok(!held.started.includes('c3'), 'the cancelled task never ran')
  })
})

describe('queued tasks are durable: acknowledged starts run after a restart', () => {
  test('tasks still waiting when the server stops run at its next start, in order', async () => {
    const dir = await tempDir()
    const first = heldTools()
    let server: LongRunningMcpServer | undefined
    try {
      server = await startTestServer(dir.path, { tools: first.tools, taskConcurrency: 1 })
      const client = await connectClient(server.url)
      const ids: string[] = []
      for (const label of ['r1', 'r2', 'r3']) {
        ids.push(
          structured(await client.callTool({ name: 'start_held', arguments: { label } })).task_id as string,
        )
      }
      await waitFor(() => (first.started.includes('r1') ? true : undefined))
      await client.close()
      await server.close()
      server = undefined
      assert.deepEqual(
        taskRows(dir.path, "stage = 'queued'")
          .map((row) => row.task_id)
          .sort(),
        [ids[1], ids[2]].sort(),
      )
      const second = heldTools()
      server = await startTestServer(dir.path, { tools: second.tools, taskConcurrency: 1 })
      await waitFor(() => (second.started.length > 0 ? true : undefined))
      // r1 was running (held tools fail after a restart), then the two that waited, in their order.
      assert.deepEqual(second.started, ['r2'])
      second.release('r2')
      await waitFor(() => (second.started.includes('r3') ? true : undefined))
      second.release('r3')
      const again = await connectClient(server.url)
      const statusOf = async (taskId: string) =>
        structured(await again.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
      await waitFor(async () =>
        (await statusOf(ids[2] as string)).status === 'completed' ? true : undefined,
      )
      assert.equal((await statusOf(ids[0] as string)).status, 'failed')
      assert.equal((await statusOf(ids[1] as string)).status, 'completed')
      await again.close()
    } finally {
      await server?.close()
      await dir.remove()
    }
  })
})
