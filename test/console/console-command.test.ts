/**
 * `longrun console` alone, pointed at a runtime it does not own (here the local stack, found
 * through the data directory as any client command finds it): the same API, no stop control.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { after, before, test } from 'node:test'
import { NODE } from '../helpers/child-process.ts'
import { CLI, type DevStack, startDevStack } from '../helpers/dev-stack.ts'

let dev: DevStack
before(async () => {
  dev = await startDevStack(100)
})
after(async () => {
  await dev?.stop()
})

test('longrun console serves the console for a runtime it does not own, without a stop control', async () => {
  const child = spawn(NODE, [CLI, 'console', '--port', '0', '--actor', 'someone'], {
    cwd: dev.dataDir,
    env: dev.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const match = /longrun console: (\S+)/.exec(line)
        if (match?.[1]) resolve(match[1])
      })
      child.once('exit', (code) => reject(new Error(`longrun console exited with ${code}`)))
    })
    const parsed = new URL(url)
    const token = new URLSearchParams(parsed.hash.slice(1)).get('token') as string
    const get = async (path: string) => {
      const response = await fetch(`${parsed.origin}${path}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    }
    const config = await get('/api/config')
    assert.equal(config.status, 200)
    assert.equal(config.body.actorId, 'someone')
    assert.deepEqual(config.body.runtime, { controllable: false, running: true })
    const tasks = await get(`/api/tasks?actorId=someone&sessionId=${'s'.repeat(40)}`)
    assert.equal(tasks.status, 200)
    assert.deepEqual(tasks.body.tasks, [])
    const stop = await fetch(`${parsed.origin}/api/runtime/stop`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{}',
    })
    assert.equal(stop.status, 404)
    assert.equal(((await stop.json()) as { error: { code: string } }).error.code, 'NOT_FOUND')
  } finally {
    child.kill('SIGINT')
    await once(child, 'exit')
  }
})
