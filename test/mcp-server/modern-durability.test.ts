/**
 * A task created through the tasks extension (spec 2026-07-28) is durable: after SIGKILL of the
 * server, the next process reports it through `tasks/get`, on SQLite and on Redis, and it comes to
 * its end as the restart rule says (the example training fails as interrupted, its result kept).
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import { type ServiceProcess, startServiceProcess, stopServiceProcess } from '../helpers/child-process.ts'
import { type LocalAgentCoreFixture, startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { mcpProcessEnv, tempDir, waitFor } from '../helpers/mcp-server.ts'
import { modernPost } from '../helpers/modern-mcp.ts'
import { startTestRedis, type TestRedis } from '../helpers/redis.ts'

const MAIN = new URL('../../src/mcp-server-entrypoint.ts', import.meta.url).pathname
/** Child processes start slowly on a busy machine. */
const SLOW = 60_000

describe('tasks of the extension survive SIGKILL of the server', () => {
  let env: LocalAgentCoreFixture
  let memoryId: string
  let redis: TestRedis
  const children: ServiceProcess[] = []
  const dirs: { remove(): Promise<void> }[] = []

  before(async () => {
    env = await startLocalAgentCore()
    memoryId = await env.createMemory()
    redis = await startTestRedis()
  })
  after(async () => {
    for (const child of children) await stopServiceProcess(child, 'SIGKILL')
    await redis.stop()
    await env.close()
    for (const dir of dirs) await dir.remove()
  })

  for (const backend of ['sqlite', 'redis'] as const) {
    test(
      `on ${backend}: created, killed, reported by tasks/get after the restart, and ended`,
      { timeout: 180_000 },
      async () => {
        const dir = await tempDir()
        dirs.push(dir)
        const processEnv = mcpProcessEnv(env.service.url, dir.path, {
          // Slow enough that the kill comes while it runs.
          MCP_TRAINING_EPOCH_DELAY_MS: '200',
          ...(backend === 'redis' && {
            MCP_TASK_BACKEND: 'redis',
            REDIS_URL: redis.url,
            MCP_TASK_LEASE_MS: '2000',
          }),
        })
        const memory = { sessionId: `durable-${backend}`, memoryId, actorId: `durable-${backend}` }
        const first = await startServiceProcess(MAIN, processEnv)
        children.push(first)
        const created = await modernPost(
          first.url,
          'tools/call',
          { name: 'model_training', arguments: { model_name: `durable_${backend}`, epochs: 200 } },
          { name: 'model_training', memory },
        )
        assert.equal(created.result?.resultType, 'task')
        const taskId = String(created.result?.taskId)
        // Running (an epoch reported) before the kill.
        await waitFor(
          async () => {
            const answer = await modernPost(first.url, 'tasks/get', { taskId }, { name: taskId, memory })
            return (
              answer.result?.status === 'working' &&
              String(answer.result.statusMessage ?? '').includes('epoch')
            )
          },
          SLOW,
          'the training to run',
        )
        await stopServiceProcess(first, 'SIGKILL')
        const second = await startServiceProcess(MAIN, processEnv)
        children.push(second)
        const reported = await modernPost(second.url, 'tasks/get', { taskId }, { name: taskId, memory })
        assert.equal(reported.result?.taskId, taskId, 'the restarted server knows the task')
        // The training does not run again after a crash (onRestart 'fail'): it ends, its reason kept.
        const ended = await waitFor(
          async () => {
            const answer = await modernPost(second.url, 'tasks/get', { taskId }, { name: taskId, memory })
            return answer.result?.status !== 'working' ? answer.result : undefined
          },
          SLOW,
          'the interrupted task to end',
        )
        assert.ok(['completed', 'failed'].includes(String(ended.status)), String(ended.status))
        // Another actor still finds nothing.
        const foreign = await modernPost(
          second.url,
          'tasks/get',
          { taskId },
          {
            name: taskId,
            memory: { ...memory, actorId: 'someone-else' },
          },
        )
        assert.equal(foreign.error?.code, -32602)
        await stopServiceProcess(second, 'SIGTERM')
      },
    )
  }
})
