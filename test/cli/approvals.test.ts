/**
 * Approvals from the command line, as processes against the local gateway and a runtime with
 * `AGENT_APPROVAL_TOOLS=start_model_training`: `longrun invoke` prints the question and the command
 * that answers it, and that command resumes the turn (the task starts once); a malformed `--answer`
 * is refused before anything is sent; `longrun chat` takes the next line typed as the answer, also
 * when it starts on a session that was already paused.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { memorySessionIdFor } from '../../src/runtime/index.ts'
import { NODE } from '../helpers/child-process.ts'
import { CLI, runCli } from '../helpers/dev-stack.ts'
import { listSessionEvents } from '../helpers/local-agentcore.ts'
import { TEST_TOKEN, tempDir, waitFor } from '../helpers/mcp-server.ts'
import { sessionIdFor, useRuntimeStack } from '../helpers/runtime-stack.ts'

const ARN = 'arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/approve_agent-0123456789'

describe('approvals from longrun invoke and longrun chat', () => {
  const stack = useRuntimeStack()
  let dataDir: { path: string; remove(): Promise<void> }

  const env = (): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LONGRUN_DATA_DIR: dataDir.path,
    MCP_BEARER_TOKEN: TEST_TOKEN,
  })
  const target = () => ['--arn', ARN, '--endpoint', stack.env.service.url]
  const longrun = (args: string[]) => runCli(args, { env: env(), cwd: dataDir.path })
  const tasksOf = async (actor: string): Promise<{ task_id: string }[]> => {
    const listed = await longrun([
      'tasks',
      '--json',
      '--actor',
      actor,
      '--memory',
      stack.memoryId,
      '--mcp-url',
      stack.mcp.url,
    ])
    assert.equal(listed.code, 0, listed.stderr)
    return JSON.parse(listed.stdout) as { task_id: string }[]
  }
  const eventsOf = (actor: string, sessionId: string) =>
    listSessionEvents(stack.env.data, stack.memoryId, actor, memorySessionIdFor(sessionId))

  /** `longrun chat` on a pipe: what it printed so far, a way to type a line, and its end. */
  const startChat = (args: string[]) => {
    const chat = spawn(NODE, [CLI, 'chat', ...args, ...target()], {
      env: env(),
      cwd: dataDir.path,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let screen = ''
    const collect = (chunk: Buffer) => {
      screen += chunk.toString()
    }
    chat.stdout.on('data', collect)
    chat.stderr.on('data', collect)
    return {
      screen: () => screen,
      type: (line: string) => chat.stdin.write(`${line}\n`),
      seen: (pattern: RegExp, what: string) =>
        waitFor(() => pattern.exec(screen) ?? undefined, 30_000, `${what}; the chat showed:\n${screen}`),
      async end(): Promise<number | null> {
        chat.stdin.end()
        const [code] = (await once(chat, 'exit')) as [number | null]
        return code
      },
      kill: () => {
        if (chat.exitCode === null) chat.kill('SIGKILL')
      },
    }
  }

  before(async () => {
    dataDir = await tempDir('longrun-cli-approvals-')
    const runtime = await stack.startRuntime({ AGENT_APPROVAL_TOOLS: 'start_model_training' })
    stack.env.service.registerRuntime(ARN, runtime.server.url)
  })
  after(async () => {
    await dataDir.remove()
  })

  test('invoke prints the question and the answer command; that command resumes the turn and the task starts once', async () => {
    const actor = 'cli-approver'
    const sessionId = sessionIdFor('cli-approve')
    const paused = await longrun([
      'invoke',
      ...target(),
      '--session',
      sessionId,
      '--actor',
      actor,
      'train a model called fraud-v2 for 3 epochs',
    ])
    assert.equal(paused.code, 0, paused.stderr)
    const [, asked] = /^question (\S+): .*start_model_training/m.exec(paused.stderr) ?? []
    assert.ok(asked, `the question is shown: ${paused.stderr}`)
    const [, command, answerFlag] = /answer: (longrun invoke --answer '([^']+)')/.exec(paused.stderr) ?? []
    assert.ok(command, `the answer command is shown: ${paused.stderr}`)
    assert.equal(answerFlag, `${asked}=yes`)
    assert.doesNotMatch(paused.stderr, /^task:/m, 'nothing started before the answer')
    assert.deepEqual(await tasksOf(actor), [])

    // The printed command, as a user pastes it (with this test's runtime): the session is remembered.
    const resumed = await longrun(['invoke', ...target(), '--answer', answerFlag as string])
    assert.equal(resumed.code, 0, resumed.stderr)
    const started = [...resumed.stderr.matchAll(/^task:\s+(\S+) \(start_model_training\)$/gm)]
    assert.equal(started.length, 1, resumed.stderr)
    assert.match(resumed.stderr, new RegExp(`^session: ${sessionId}$`, 'm'))
    assert.doesNotMatch(resumed.stderr, /^question /m)
    const tasks = await tasksOf(actor)
    assert.deepEqual(
      tasks.map((task) => task.task_id),
      [started[0]?.[1]],
    )

    // The same answer again: the question is no longer asked.
    const again = await longrun(['invoke', ...target(), '--answer', answerFlag as string])
    assert.equal(again.code, 1)
    assert.match(again.stderr, /INTERRUPT_NOT_FOUND/)
    assert.equal((await tasksOf(actor)).length, 1)
  })

  test('a malformed --answer is CLI_USAGE, sends nothing and remembers nothing', async () => {
    const sessionId = sessionIdFor('cli-malformed')
    const remembered = () => readFile(join(dataDir.path, 'cli-sessions.json'), 'utf8').catch(() => '')
    const before = await remembered()
    for (const args of [
      ['--answer', 'no-equals-sign'],
      ['--answer', '=yes'],
      ['--answer', 'id='],
      ['--answer', 'id=yes', 'and a prompt'],
      [],
    ]) {
      const outcome = await longrun(['invoke', ...target(), '--session', sessionId, ...args])
      assert.equal(outcome.code, 1, JSON.stringify(args))
      assert.match(outcome.stderr, /^longrun: CLI_USAGE: .*--answer/m, JSON.stringify(args))
      assert.equal(outcome.stderr.trim().split('\n').length, 1, outcome.stderr)
      assert.equal(outcome.stdout, '')
    }
    assert.deepEqual(await eventsOf('default', sessionId), [])
    assert.deepEqual(await remembered(), before)
  })

  test('chat: the line typed after a question answers it, and the task starts', async () => {
    const chat = startChat(['--new-session', '--actor', 'chat-approver'])
    try {
      await chat.seen(/you> /, 'the prompt')
      chat.type('train a model called fraud-v2 for 3 epochs')
      await chat.seen(/question \S+: .*start_model_training/, 'the question')
      await chat.seen(/waits on your answer[^]*you> /, 'the prompt for the answer')
      assert.doesNotMatch(chat.screen(), /task \S+ started/)
      chat.type('yes')
      const [, taskId] = await chat.seen(/task (\S+) started \(start_model_training\)/, 'the task')
      assert.doesNotMatch(chat.screen(), /error: /)
      assert.deepEqual(
        (await tasksOf('chat-approver')).map((task) => task.task_id),
        [taskId],
      )
      assert.equal(await chat.end(), 0, chat.screen())
    } finally {
      chat.kill()
    }
  })

  test('chat started on a paused session: a prompt is refused with INTERRUPT_PENDING, and the next line answers', async () => {
    const actor = 'chat-late'
    const sessionId = sessionIdFor('chat-late')
    const paused = await longrun([
      'invoke',
      ...target(),
      '--session',
      sessionId,
      '--actor',
      actor,
      'train a model called fraud-v2 for 3 epochs',
    ])
    const [, asked] = /^question (\S+): /m.exec(paused.stderr) ?? []
    assert.ok(asked, paused.stderr)

    const chat = startChat(['--session', sessionId, '--actor', actor])
    try {
      await chat.seen(/you> /, 'the prompt')
      chat.type('hello?')
      await chat.seen(/error: INTERRUPT_PENDING: /, 'the refusal')
      await chat.seen(
        new RegExp(
          `question ${asked.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:[^]*waits on your answer[^]*you> `,
        ),
        'the pending question and the prompt for its answer',
      )
      chat.type('yes')
      const [, taskId] = await chat.seen(/task (\S+) started \(start_model_training\)/, 'the task')
      assert.deepEqual(
        (await tasksOf(actor)).map((task) => task.task_id),
        [taskId],
      )
      assert.equal(await chat.end(), 0, chat.screen())
    } finally {
      chat.kill()
    }
  })
})
