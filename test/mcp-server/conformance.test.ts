import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, describe, test } from 'node:test'
import type { LongRunningMcpServer } from '../../src/mcp-server/index.ts'
import { startTestServer, tempDir } from '../helpers/mcp-server.ts'

const NODE = new URL('../../node_modules/.bin/node', import.meta.url).pathname
const CONFORMANCE = new URL('../../node_modules/.bin/conformance', import.meta.url).pathname
const BASELINE = new URL('./conformance-expected-failures.yaml', import.meta.url).pathname

describe('official MCP conformance suite (2025-11-25)', () => {
  let dir: { path: string; remove(): Promise<void> }
  let server: LongRunningMcpServer
  let output: { path: string; remove(): Promise<void> }

  before(async () => {
    dir = await tempDir()
    output = await tempDir('longrun-conformance-')
    // The suite cannot send an Authorization header; authentication has its own tests.
    server = await startTestServer(dir.path, { auth: { kind: 'none' } })
  })
  after(async () => {
    await server.close()
    await dir.remove()
    await output.remove()
  })

  test('passes every applicable scenario; failures are exactly the documented baseline', async () => {
    const child = spawn(
      NODE,
      [
        CONFORMANCE,
        'server',
        '--url',
        server.url,
        '--spec-version',
        '2025-11-25',
        '--expected-failures',
        BASELINE,
        '--output-dir',
        output.path,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let log = ''
    child.stdout.on('data', (chunk: Buffer) => {
      log += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      log += chunk.toString()
    })
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 0, `conformance run failed:\n${log.slice(-6000)}`)
    assert.match(log, /server-initialize: \d+ passed, 0 failed/)
    assert.match(log, /tools-list: \d+ passed, 0 failed/)
  })
})
