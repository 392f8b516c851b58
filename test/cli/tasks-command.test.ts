/**
 * `longrun tasks --mcp-url`: the tasks of an actor, and with `--headerless` those of calls that
 * named no memory (the MCP Inspector, curl), which belong to the bearer token rather than an actor.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { NODE } from '../helpers/child-process.ts'
import { CLI } from '../helpers/dev-stack.ts'
import { connectClient, startTestServer, structured, TEST_TOKEN, tempDir } from '../helpers/mcp-server.ts'

const run = promisify(execFile)

describe('longrun tasks', () => {
  let dir: { path: string; remove(): Promise<void> }
  let server: LongRunningMcpServer

  before(async () => {
    dir = await tempDir()
    server = await startTestServer(dir.path, { epochDelayMs: 1_000 })
  })
  after(async () => {
    await server.close()
    await dir.remove()
  })

  const longrun = async (...args: string[]) =>
    run(NODE, [CLI, 'tasks', '--mcp-url', server.url, '--memory', 'cli_tasks-AbCdEf1234', ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, MCP_BEARER_TOKEN: TEST_TOKEN },
      cwd: dir.path,
    })

  test('a task started without the session header is listed with --headerless, and the actor listing says where to look', async () => {
    const client = await connectClient(server.url)
    let taskId: string
    try {
      taskId = structured(
        await client.callTool({
          name: 'start_model_training',
          arguments: { model_name: 'no-header', epochs: 30 },
        }),
      ).task_id as string
    } finally {
      await client.close()
    }

    const byActor = await longrun()
    assert.doesNotMatch(byActor.stdout, new RegExp(taskId))
    assert.match(byActor.stdout, /--headerless/, 'the empty listing names the way to the other tasks')

    const headerless = await longrun('--headerless')
    assert.match(headerless.stdout, new RegExp(`${taskId}\\s+model_training\\s+(working|queued)`))

    await assert.rejects(longrun('--headerless', '--actor', 'someone'), (error: { code?: number }) => {
      assert.equal(error.code, 1)
      return true
    })
  })
})
