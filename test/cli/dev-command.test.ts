import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { NODE } from '../helpers/child-process.ts'
import { CLI, startDevStack } from '../helpers/dev-stack.ts'
import { waitFor } from '../helpers/mcp-server.ts'

const run = promisify(execFile)

test("longrun dev runs the whole stack, and the README's walkthrough with longrun invoke, tasks and memory works", async (t) => {
  const dev = await startDevStack(100)
  t.after(() => dev.stop())
  const child = dev.process
  const env = dev.env
  const dir = { path: dev.dataDir }
  const printed = new Map<string, string>()
  for (const line of dev.banner) {
    for (const [key, pattern] of [
      ['runtime', /agent runtime listening on (\S+)/],
      ['memory', /memory id:\s+(\S+)/],
      ['try', /try it:\s+(.+)$/],
      ['console', /longrun console: (\S+)/],
    ] as const) {
      const match = pattern.exec(line)
      if (match?.[1]) printed.set(key, match[1])
    }
  }
  assert.match(printed.get('console') ?? '', /^http:\/\/127\.0\.0\.1:\d+\/#token=\S+$/)
  assert.match(printed.get('try') ?? '', /^npx longrun invoke "train a model called fraud-v1 for 30 epochs"/)
  const ping = (await (await fetch(`${printed.get('runtime')}/ping`)).json()) as { status: string }
  assert.equal(ping.status, 'Healthy')

  // The client commands find the stack through the data directory: no URL, token or memory id given.
  const longrun = (...args: string[]) => run(NODE, [CLI, ...args], { env, cwd: dir.path })
  const started = await longrun('invoke', 'train a model called fraud-v1 for 10 epochs')
  const taskId = /task:\s+(\S+) \(start_model_training\)/.exec(started.stderr)?.[1]
  assert.ok(taskId, started.stderr)
  assert.match(started.stdout, /^\[demo model\] Started task \S+ \(model_training\)/)
  const session = /session: (\S+)/.exec(started.stderr)?.[1] as string

  const tasks = await longrun('tasks')
  assert.match(tasks.stdout, new RegExp(`${taskId}\\s+model_training\\s+(working|completed)`))

  await waitFor(
    async () => (await longrun('tasks')).stdout.includes('delivered'),
    30_000,
    'the result to be delivered into memory',
  )
  const timeline = await longrun('memory', 'events', '--session', session)
  assert.match(timeline.stdout, /user\s+train a model called fraud-v1 for 10 epochs/)
  assert.match(
    timeline.stdout,
    new RegExp(`task result\\s+Long-running task ${taskId} \\(tool model_training\\) completed`),
  )

  const back = await longrun('invoke', 'what happened to my training?')
  assert.match(back.stderr, new RegExp(`session: ${session}`), 'the second invoke continues the session')
  assert.match(
    back.stdout,
    new RegExp(`Your task ${taskId} \\(model_training\\) completed.*test accuracy \\d`),
  )

  // A second stack on the same data directory is refused and leaves the first one's file alone.
  const second = await longrun('dev', '--port', '0', '--mcp-port', '0', '--runtime-port', '0').then(
    () => undefined,
    (error: { code?: number; stderr?: string }) => error,
  )
  assert.equal(second?.code, 1)
  assert.match(second?.stderr ?? '', /already runs from/)
  assert.match((await longrun('tasks')).stdout, new RegExp(taskId), 'the first stack is still found')

  child.kill('SIGINT')
  const [code] = await once(child, 'exit')
  assert.equal(code, 0)
})
