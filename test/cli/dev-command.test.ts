import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import { promisify } from 'node:util'
import { NODE } from '../helpers/child-process.ts'
import { tempDir, waitFor } from '../helpers/mcp-server.ts'

const CLI = new URL('../../bin/longrun.js', import.meta.url).pathname
const run = promisify(execFile)

test("longrun dev runs the whole stack, and the README's walkthrough with longrun invoke, tasks and memory works", async (t) => {
  const dir = await tempDir('longrun-dev-')
  t.after(() => dir.remove())
  const env = {
    ...process.env,
    LONGRUN_DATA_DIR: dir.path,
    MCP_BEARER_TOKEN: '',
    MEMORY_ID: '',
    AGENTCORE_ENDPOINT: '',
  }
  const child = spawn(
    NODE,
    [
      CLI,
      'dev',
      '--port',
      '0',
      '--mcp-port',
      '0',
      '--runtime-port',
      '0',
      '--data-dir',
      dir.path,
      '--epoch-delay-ms',
      '100',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env },
  )
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  const printed = new Map<string, string>()
  await new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      for (const [key, pattern] of [
        ['runtime', /agent runtime listening on (\S+)/],
        ['memory', /memory id:\s+(\S+)/],
        ['try', /try it:\s+(.+)$/],
      ] as const) {
        const match = pattern.exec(line)
        if (match?.[1]) printed.set(key, match[1])
      }
      if (line.includes('Ctrl-C')) resolve()
    })
    child.once('exit', (code) => reject(new Error(`longrun dev exited early with ${code}`)))
  })
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
