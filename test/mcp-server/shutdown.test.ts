import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { z } from 'zod'
import {
  defineLongRunningTool,
  INTERRUPTED_MESSAGE,
  type LongRunningTool,
  SqliteTaskStore,
  type TaskRecord,
} from '../../src/mcp-server/index.ts'
import {
  connectClient,
  startTask,
  startTestServer,
  tempDir,
  waitFor,
  waitIdle,
} from '../helpers/mcp-server.ts'

/** Gates the tests open by label; a gated tool ignores its AbortSignal (say, a fetch without `signal`). */
const gates = new Map<string, { open(): void; opened: Promise<void> }>()
const signals = new Map<string, AbortSignal>()
function gate(label: string): { open(): void; opened: Promise<void> } {
  let entry = gates.get(label)
  if (entry === undefined) {
    let open = () => {}
    const opened = new Promise<void>((resolve) => {
      open = resolve
    })
    entry = { open, opened }
    gates.set(label, entry)
  }
  return entry
}

function gatedTool(name: string, onRestart: 'rerun' | 'fail'): LongRunningTool {
  return defineLongRunningTool({
    name,
    description: 'Waits for its gate, ignoring its signal; on a re-run it returns at once.',
    input: z.object({ label: z.string() }),
    mode: 'async',
    onRestart,
    run: async ({ label }, ctx) => {
      signals.set(label, ctx.signal)
      if (ctx.runNumber > 1) return { label, attempt: ctx.runNumber }
      await gate(label).opened
      return { label, attempt: ctx.runNumber }
    },
  })
}
const tools = [gatedTool('gated', 'fail'), gatedTool('gated_rerun', 'rerun')]

async function storedTask(dataDir: string, taskId: string): Promise<TaskRecord | undefined> {
  const store = new SqliteTaskStore({ dataDir })
  try {
    return await store.get(taskId)
  } finally {
    await store.close()
  }
}

describe('shutdown (SIGTERM / close())', () => {
  test('a tool that still finishes during the grace period keeps its result', async () => {
    const dir = await tempDir()
    try {
      const server = await startTestServer(dir.path, { tools, shutdownGraceMs: 30_000 })
      const client = await connectClient(server.url)
      const taskId = await startTask(client, 'gated', { label: 'finishes' })
      await client.close()
      await waitFor(async () => signals.get('finishes'))
      const closing = server.close()
      await waitFor(async () => (signals.get('finishes')?.aborted === true ? true : undefined))
      gate('finishes').open()
      await closing
      const task = await storedTask(dir.path, taskId)
      assert.equal(task?.status, 'completed')
      assert.deepEqual(task?.result?.structuredContent, { label: 'finishes', attempt: 1 })
      const again = await startTestServer(dir.path, { tools })
      try {
        assert.equal(
          (await again.backend.get(taskId))?.status,
          'completed',
          'not marked interrupted at restart',
        )
      } finally {
        await again.close()
      }
    } finally {
      await dir.remove()
    }
  })

  test('close() waits at most the grace period; what it leaves is re-run or failed at the next start', async () => {
    const dir = await tempDir()
    try {
      const graceMs = 500
      const server = await startTestServer(dir.path, { tools, shutdownGraceMs: graceMs })
      const client = await connectClient(server.url)
      const failId = await startTask(client, 'gated', { label: 'hangs' })
      const rerunId = await startTask(client, 'gated_rerun', { label: 'hangs-rerun' })
      await client.close()
      await waitFor(async () => (signals.has('hangs') && signals.has('hangs-rerun') ? true : undefined))
      // Resolves although both tools ignore their signal and never finish by themselves: after the
      // grace period (a timer, never early), not at once and not after the default 10 s.
      const closeStarted = performance.now()
      await server.close()
      const closeMs = performance.now() - closeStarted
      assert.ok(closeMs >= graceMs - 50, `close() waited for the grace period (${closeMs} ms)`)
      assert.ok(closeMs < graceMs + 5_000, `close() waited at most about the grace period (${closeMs} ms)`)
      assert.equal((await storedTask(dir.path, failId))?.status, 'working')
      const again = await startTestServer(dir.path, { tools })
      try {
        const failed = await again.backend.get(failId)
        assert.equal(failed?.status, 'failed')
        assert.equal(failed?.statusMessage, INTERRUPTED_MESSAGE)
        const rerun = await waitFor(async () => {
          const task = await again.backend.get(rerunId)
          return task?.status === 'completed' ? task : undefined
        })
        assert.deepEqual(rerun.result?.structuredContent, { label: 'hangs-rerun', attempt: 2 })
      } finally {
        await again.close()
      }
      // The abandoned tools of the first server now finish: their late end must not crash anything,
      // nor overwrite what the recovery of the second server recorded.
      gate('hangs').open()
      gate('hangs-rerun').open()
      await waitIdle(server.runner, 'the late ends')
      assert.equal((await storedTask(dir.path, failId))?.status, 'failed')
      assert.equal((await storedTask(dir.path, failId))?.statusMessage, INTERRUPTED_MESSAGE)
      assert.equal((await storedTask(dir.path, rerunId))?.result?.structuredContent?.attempt, 2)
    } finally {
      await dir.remove()
    }
  })
})
