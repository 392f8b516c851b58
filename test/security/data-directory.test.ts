/**
 * The data directory holds every memory, task and model of the local stack: it is owner-only
 * (0700, files 0600) whatever the umask, and one left looser by an earlier version is tightened
 * once, with a log line saying so. The umask is 0 here, so nothing is private by accident.
 */
import assert from 'node:assert/strict'
import { chmodSync, chownSync, existsSync, mkdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { rememberSession } from '../../src/cli/remembered-sessions.ts'
import type { Logger } from '../../src/shared/logger.ts'
import { ensurePrivateDirectory } from '../../src/shared/private-files.ts'
import { startLocalAgentCore } from '../helpers/local-agentcore.ts'
import { connectClient, startTestServer, structured, tempDir } from '../helpers/mcp-server.ts'

const modeOf = (path: string) => (statSync(path).mode & 0o777).toString(8)

function recordingLogger(): Logger & { readonly lines: { message: string; path: unknown }[] } {
  const lines: { message: string; path: unknown }[] = []
  return { lines, log: (_level, message, fields = {}) => lines.push({ message, path: fields.path }) }
}

describe('the data directory is readable by its owner alone', () => {
  let dir: { path: string; remove(): Promise<void> }
  let umask: number
  before(async () => {
    umask = process.umask(0)
    dir = await tempDir('longrun-data-')
  })
  after(async () => {
    process.umask(umask)
    await dir.remove()
  })

  test('the local service creates its data directory 0700 and its SQLite files 0600', async () => {
    const dataDir = join(dir.path, 'service', 'data')
    const env = await startLocalAgentCore({ dataDir })
    try {
      await env.createMemory()
      const database = join(dataDir, 'agentcore-local.sqlite')
      assert.equal(modeOf(join(dir.path, 'service')), '700')
      assert.equal(modeOf(dataDir), '700')
      assert.equal(modeOf(database), '600')
      // Written in WAL mode: the log and its index exist now, and take the database's mode.
      assert.equal(modeOf(`${database}-wal`), '600')
      assert.equal(modeOf(`${database}-shm`), '600')
    } finally {
      await env.close()
    }
  })

  test('a directory and database an earlier version left readable by others are tightened once, and logged', async () => {
    const dataDir = join(dir.path, 'older')
    const first = await startLocalAgentCore({ dataDir })
    await first.createMemory()
    await first.close()
    const database = join(dataDir, 'agentcore-local.sqlite')
    chmodSync(dataDir, 0o755)
    chmodSync(database, 0o644)
    const lines: string[] = []
    const again = await startLocalAgentCore({ dataDir, log: (line) => lines.push(line) })
    await again.close()
    assert.equal(modeOf(dataDir), '700')
    assert.equal(modeOf(database), '600')
    const tightened = lines.filter((line) => line.includes('tightened to owner-only'))
    assert.equal(tightened.length, 2)
    assert.ok(tightened.some((line) => line.includes(`path=${dataDir} `)))
    assert.ok(tightened.some((line) => line.includes(`path=${database} `)))
    const later: string[] = []
    const third = await startLocalAgentCore({ dataDir, log: (line) => later.push(line) })
    await third.close()
    assert.deepEqual(
      later.filter((line) => line.includes('tightened')),
      [],
      'nothing is left to tighten the second time',
    )
  })

  test('the MCP server keeps its task database 0600 and saves models 0600 in a 0700 models directory', async () => {
    const dataDir = join(dir.path, 'mcp')
    const logger = recordingLogger()
    const server = await startTestServer(dataDir, { logger })
    const client = await connectClient(server.url)
    try {
      const result = await client.callTool({
        name: 'model_training',
        arguments: { model_name: 'private', epochs: 2 },
      })
      const artifact = structured(result).artifact_path as string
      assert.ok(existsSync(artifact))
      assert.equal(modeOf(dataDir), '700')
      assert.equal(modeOf(join(dataDir, 'mcp-tasks.sqlite')), '600')
      assert.equal(modeOf(join(dataDir, 'models')), '700')
      assert.equal(modeOf(artifact), '600')
    } finally {
      await client.close()
      await server.close()
    }
    // Loosened behind its back, the task database is tightened at the next start.
    chmodSync(dataDir, 0o777)
    chmodSync(join(dataDir, 'mcp-tasks.sqlite'), 0o666)
    const restarted = await startTestServer(dataDir, { logger })
    await restarted.close()
    assert.equal(modeOf(dataDir), '700')
    assert.equal(modeOf(join(dataDir, 'mcp-tasks.sqlite')), '600')
    assert.deepEqual(
      logger.lines.filter((line) => line.message === 'tightened to owner-only').map((line) => line.path),
      [dataDir, join(dataDir, 'mcp-tasks.sqlite')],
    )
  })

  test('the CLI remembers its sessions in an owner-only file of an owner-only directory', async () => {
    const dataDir = join(dir.path, 'cli')
    await rememberSession(dataDir, 'target', { sessionId: 'longrun-cli-1', actorId: undefined })
    assert.equal(modeOf(dataDir), '700')
    assert.equal(modeOf(join(dataDir, 'cli-sessions.json')), '600')
  })

  test('a loose directory of another user is reported, not changed', async () => {
    // Run as root, the test gives a directory away to `nobody`; run as anyone else, / is root's.
    let foreign = '/'
    if (process.getuid?.() === 0) {
      foreign = join(dir.path, 'foreign')
      mkdirSync(foreign, { mode: 0o755 })
      chownSync(foreign, 65534, 65534)
    }
    const before = modeOf(foreign)
    assert.notEqual(before, '700')
    const logger = recordingLogger()
    ensurePrivateDirectory(foreign, logger)
    assert.equal(modeOf(foreign), before)
    assert.deepEqual(logger.lines, [
      { message: 'not ours to tighten: other users of this machine may read it', path: foreign },
    ])
  })
})
