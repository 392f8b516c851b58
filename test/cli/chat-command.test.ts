/**
 * `longrun chat` in a real pseudo-terminal (util-linux `script` gives it one): a prompt, a
 * streamed answer with the task id, the notice when the task's result lands in the session, a
 * second turn that reads it, Ctrl-C during an answer (the turn goes on and is stored), and Ctrl-C
 * at the prompt to leave.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { after, before, test } from 'node:test'
import { promisify } from 'node:util'
import { NODE } from '../helpers/child-process.ts'
import { CLI, type DevStack, startDevStack } from '../helpers/dev-stack.ts'
import { waitFor } from '../helpers/mcp-server.ts'

const run = promisify(execFile)

let dev: DevStack
before(async () => {
  dev = await startDevStack(150)
})
after(async () => {
  await dev?.stop()
})

test('longrun chat: streamed answers, task ids, a notice when a result arrives, Ctrl-C stops watching a turn that is still stored, Ctrl-C to leave', async () => {
  const command = `${NODE} ${CLI} chat --new-session`
  const chat = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: dev.dataDir,
    env: { ...dev.env, TERM: 'dumb' },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  let screen = ''
  chat.stdout.on('data', (chunk: Buffer) => {
    screen += chunk.toString()
  })
  const seen = (pattern: RegExp, what: string) =>
    waitFor(() => pattern.exec(screen) ?? undefined, 20_000, `${what}; the terminal showed:\n${screen}`)
  try {
    await seen(/you> /, 'the prompt')
    chat.stdin.write('train a model called chat-demo for 8 epochs\r')
    const [, taskId] = await seen(/task (\S+) started \(start_model_training\)/, 'the task id')
    await seen(/\[demo model\] Started task \S+ \(model_training\)/, 'the streamed answer')
    await seen(
      new RegExp(
        `notice: the result of task ${taskId} \\(model_training\\) arrived in this session: completed`,
      ),
      'the arrival notice',
    )
    chat.stdin.write('show my results\r')
    await seen(
      new RegExp(`Your task ${taskId} \\(model_training\\) completed.*test accuracy \\d`),
      'the real scores',
    )
    await seen(/test accuracy \d[^]*you> /, 'the prompt after the answer')
    // Ctrl-C while an answer is being written stops watching it, says in one line what happens
    // next, and the chat goes on; the turn does finish, and its answer is stored in the session.
    chat.stdin.write('train a model called chat-wait for 20 epochs and wait for it\r')
    await seen(/-> model_training /, 'the waiting call')
    chat.stdin.write('\u0003')
    await seen(
      /^stopped watching: the turn goes on in the runtime and its answer is stored in the session/m,
      'the line saying what happens to the turn',
    )
    await seen(/stopped watching[^]*you> /, 'the prompt after the stopped answer')
    chat.stdin.write('\u0003')
    const [code] = (await once(chat, 'exit')) as [number | null]
    assert.equal(code, 0, screen)
    const [, session] = /session (\S+) \(actor /.exec(screen) ?? []
    assert.ok(session, screen)
    await waitFor(
      async () => {
        const { stdout } = await run(NODE, [CLI, 'memory', 'events', '--session', session, '--full'], {
          cwd: dev.dataDir,
          env: dev.env,
        })
        return /agent\s+.*Training finished\. Model chat-wait/.test(stdout)
      },
      60_000,
      "the stopped turn's answer in the session",
    )
  } finally {
    if (chat.exitCode === null) chat.kill('SIGKILL')
  }
})
