import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { GetTaskResultSchema } from '@modelcontextprotocol/sdk/types.js'
import { Worker } from 'bullmq'
import { Redis } from 'ioredis'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { connectClient, startTestServer, structured, tempDir } from '../helpers/mcp-server.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'

describe('the redis backend: a queued task always has a place, or says it is working', () => {
  let redis: TestRedis
  let dir: { path: string; remove(): Promise<void> }
  let server: LongRunningMcpServer
  let client: Client
  const status = async (taskId: string) =>
    structured(await client.callTool({ name: 'check_task_status', arguments: { task_id: taskId } }))
  const start = async (name: string) =>
    structured(
      await client.callTool({ name: 'start_model_training', arguments: { model_name: name, epochs: 2 } }),
    ).task_id as string

  before(async () => {
    redis = await startTestRedis()
    dir = await tempDir()
    // A replica that runs nothing itself: its tasks wait in BullMQ until a worker takes them.
    server = await startTestServer(dir.path, { redis: { url: redis.url, runWorker: false } })
    client = await connectClient(server.url)
  })
  after(async () => {
    await client.close()
    await server.close()
    await redis.remove()
    await dir.remove()
  })

  test('taken by a worker that has not marked it running yet: working, not "queued" with no place', async () => {
    const first = await start('place-1')
    const second = await start('place-2')
    assert.equal((await status(first)).queue_position, 1)
    assert.equal((await status(second)).queue_position, 2)

    // A worker takes the first job off the queue, as BullMQ does before our processor marks it running.
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null })
    const worker = new Worker('longrun-tasks', null, { connection, prefix: 'longrun-bull', autorun: false })
    try {
      const job = await worker.getNextJob('test-token')
      assert.ok(job, 'a job was waiting')

      const taken = await status(first)
      assert.equal(taken.status, 'working')
      assert.equal(taken.status_message, 'starting')
      assert.equal('queue_position' in taken, false)
      // The one behind it moved up.
      assert.equal((await status(second)).queue_position, 1)

      // Spec tasks say the same through tasks/get.
      const spec = await client.request(
        { method: 'tasks/get', params: { taskId: first } },
        GetTaskResultSchema,
      )
      assert.equal(spec.status, 'working')
      assert.equal(spec.statusMessage, 'starting')
    } finally {
      await worker.close()
      connection.disconnect()
    }
  })
})
